"""The process the program runs in, as the shim leaves it to the program:
problems pyreplay reports itself (fail), the program's uncaught exception
(report_uncaught), a ``__main__`` and argv like ``python``'s, and the shim's
own frames hidden from the recursion limit. The bottom of the shim: it
imports only the leaves paths, output and store."""
import builtins
import json
import os
import sys
import types

from .output import output_bytes
from .paths import is_shim_file
from .versions import C_CALL_COUNTS_DEPTH, LAST_EXC, MAIN_FILE_ABSOLUTE

# called with (exception, traceback, snapshot id) before an uncaught
# exception is printed (control.py adds the live stop)
uncaught_hooks = []


def strip_tb(tb):
    """The traceback without the shim's own frames (wherever they are)."""
    while tb is not None and is_shim_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    head = tb
    while tb is not None:
        nxt = tb.tb_next
        while nxt is not None and is_shim_file(nxt.tb_frame.f_code.co_filename):
            nxt = nxt.tb_next
        tb.tb_next = nxt
        tb = nxt
    return head


def report_uncaught(rec, e):
    """Snapshot an uncaught exception, print it as Python would, exit 1."""
    tb = strip_tb(e.__traceback__)
    sid = None
    try:
        if tb is not None and not isinstance(e, (KeyboardInterrupt,)):
            sid = rec.snapshot("exception", type(e).__name__, None, "exception", tb=tb)
    except Exception as ce:  # noqa: BLE001 - never hide the program's own error
        output_bytes()
        sys.stderr.write("pyreplay: could not record the exception snapshot: %s\n" % ce)
    for hook in uncaught_hooks:  # live control stops here (control.py)
        hook(e, tb, sid)
    e.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb
    if LAST_EXC:
        sys.last_exc = e
    try:
        sys.excepthook(type(e), e, tb)
    except Exception:  # noqa: BLE001
        pass
    if isinstance(e, KeyboardInterrupt):
        import signal
        from . import store
        store.wait()  # the process dies by SIGINT: no finally runs after this
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(1)


def fail(cfg, message, code=2):
    """A problem pyreplay reports itself (one line, printed by the Go side)."""
    status = cfg.get("status")
    if status:
        # (posix's open: in a re-execution os.open is the sandbox's, which
        # would write a private copy pyreplay never reads)
        import posix
        with os.fdopen(posix.open(status, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump({"error": message}, f)
    else:
        sys.stderr.write("pyreplay: %s\n" % message)
    sys.stdout.flush()
    os._exit(code)


def main_module(path):
    """A ``__main__`` like the one ``python PATH`` makes: the same names in
    the same order, ``__file__`` as given (3.8) or joined to the working
    directory without normalising it (3.9+)."""
    from importlib.machinery import SourceFileLoader
    m = types.ModuleType("__main__")  # __name__ __doc__ __package__ __loader__ __spec__
    m.__annotations__ = {}
    m.__builtins__ = builtins
    if MAIN_FILE_ABSOLUTE and not os.path.isabs(path):
        m.__file__ = os.path.join(os.getcwd(), path)
    else:
        m.__file__ = path
    m.__cached__ = None
    m.__loader__ = SourceFileLoader("__main__", m.__file__)
    sys.modules["__main__"] = m
    return m


def set_orig_argv(args):
    """sys.orig_argv (3.10+) as ``python ARGS`` gives it, not the shim's."""
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = sys.orig_argv[:1] + args


def hide_shim_depth(extra):
    """The shim's own frames lie under the program's, and count against the
    recursion limit. Raise the limit by their number, so that the program
    reaches exactly the depth it reaches without pyreplay (and the same
    RecursionError traceback), and keep reporting the limit it expects."""
    if extra <= 0:
        return
    real_get, real_set = sys.getrecursionlimit, sys.setrecursionlimit
    real_set(real_get() + extra)

    def getrecursionlimit():
        return real_get() - extra

    def setrecursionlimit(limit):
        import operator
        limit = operator.index(limit)
        if limit < 1:
            real_set(limit)  # raises CPython's own ValueError
        real_set(limit + extra)

    for fn, real in ((getrecursionlimit, real_get), (setrecursionlimit, real_set)):
        fn.__module__ = "sys"
        fn.__doc__ = real.__doc__
    sys.getrecursionlimit, sys.setrecursionlimit = getrecursionlimit, setrecursionlimit


def shim_depth(c_call):
    """Recursion-limit units the shim holds where it starts the program: its
    Python frames, plus, before 3.12, one for a call made through C (exec)."""
    n = 0
    f = sys._getframe(1)
    while f is not None:
        n += 1
        f = f.f_back
    return n + (1 if c_call and C_CALL_COUNTS_DEPTH else 0)
