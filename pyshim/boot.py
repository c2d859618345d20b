# pyreplay shim entry point. Kept Python-2-parsable so that an unsupported
# interpreter gets one clear line instead of a SyntaxError from the shim.
import os
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
        with os.fdopen(os.open(status, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump({"error": message}, f)
    except Exception:
        sys.stderr.write("pyreplay: %s\n" % message)
    sys.exit(121)

# The shim's directory is pyreplay's own: cache its bytecode there even when
# the program runs with PYTHONDONTWRITEBYTECODE (compiling the shim on every
# start costs more than everything else it does before the program runs).
_dont_write = sys.dont_write_bytecode
sys.dont_write_bytecode = False
try:
    import pyreplay_shim.main  # noqa: E402
    if "PYREPLAY_WARM" in os.environ:
        # started ahead of its run (launch/warm.go): waits for it here
        pyreplay_shim.main.wait_for_run()
finally:
    sys.dont_write_bytecode = _dont_write

pyreplay_shim.main.main()
