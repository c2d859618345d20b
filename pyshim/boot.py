# pyreplay shim entry point. Kept Python-2-parsable so that an unsupported
# interpreter gets one clear line instead of a SyntaxError from the shim.
import sys

if sys.version_info < (3, 8) or sys.version_info >= (3, 14):
    message = "Python %d.%d is not supported (need 3.8 to 3.13); choose another with --python" \
        % sys.version_info[:2]
    try:
        # pyreplay prints the message, as the one line of a refusal
        import json
        import os
        with open(os.environ["PYREPLAY_CONFIG"]) as f:
            status = json.load(f)["status"]
        with open(status, "w") as f:
            json.dump({"error": message}, f)
    except Exception:
        sys.stderr.write("pyreplay: %s\n" % message)
    sys.exit(121)

import pyreplay_shim.main  # noqa: E402

pyreplay_shim.main.main()
