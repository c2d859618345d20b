# pyreplay shim entry point. Kept Python-2-parsable so that an unsupported
# interpreter gets one clear line instead of a SyntaxError from the shim.
import sys

if sys.version_info < (3, 8) or sys.version_info >= (3, 14):
    sys.stderr.write(
        "pyreplay: Python %d.%d is not supported (need 3.8 to 3.13); choose another with --python\n"
        % sys.version_info[:2]
    )
    sys.exit(121)

import pyreplay_shim.main  # noqa: E402

pyreplay_shim.main.main()
