"""Run a program under pyreplay: triggers, transparency, exit handling."""
import builtins
import json
import os
import sys
import types

from . import capture as C
from . import triggers as T

V = sys.version_info[:2]


def _load_config():
    path = os.environ.pop("PYREPLAY_CONFIG", None)
    if not path:
        sys.stderr.write("pyreplay: the shim must be started by pyreplay\n")
        sys.exit(121)
    with open(path) as f:
        cfg = json.load(f)
    try:
        # read once: gone from the temporary directory even if pyreplay is killed
        os.unlink(path)
    except OSError:
        pass
    if cfg.get("hash_seed_injected"):
        # pyreplay fixed the hash seed (to resume with the same one); the
        # program sees the environment it was started with
        os.environ.pop("PYTHONHASHSEED", None)
    return cfg


def _track_atexit():
    """Remember the atexit functions the program itself registers, so that
    a resumed process runs them at exit too."""
    import atexit
    import functools
    register, unregister = atexit.register, atexit.unregister

    @functools.wraps(register)
    def register_(func, *args, **kwargs):
        f = sys._getframe(1)
        if C.is_user_file(f.f_code.co_filename):
            C.atexit_calls.append((func, args, kwargs))
        return register(func, *args, **kwargs)

    @functools.wraps(unregister)
    def unregister_(func):
        C.atexit_calls[:] = [c for c in C.atexit_calls if c[0] != func]
        return unregister(func)

    atexit.register, atexit.unregister = register_, unregister_


def _install_api(rec, resumed):
    """``import pyreplay`` inside the program finds this module."""
    m = types.ModuleType("pyreplay")
    m.__doc__ = "pyreplay's in-program API (available while running under pyreplay)."

    def snapshot(label=None):
        """Record a snapshot here. Returns False now; when the snapshot is
        resumed, execution continues right after this call, which then
        returns True."""
        rec.snapshot("request", "" if label is None else str(label), sys._getframe(1), "call")
        return False

    def is_resumed():
        """True in a process started by ``pyreplay resume``."""
        return resumed[0]

    m.snapshot = snapshot
    m.resumed = is_resumed
    sys.modules["pyreplay"] = m
    return m


def _strip_tb(tb):
    """The traceback without the shim's own frames (wherever they are)."""
    while tb is not None and C.is_shim_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    head = tb
    while tb is not None:
        nxt = tb.tb_next
        while nxt is not None and C.is_shim_file(nxt.tb_frame.f_code.co_filename):
            nxt = nxt.tb_next
        tb.tb_next = nxt
        tb = nxt
    return head


def report_uncaught(rec, e):
    """Snapshot an uncaught exception, print it as Python would, exit 1."""
    tb = _strip_tb(e.__traceback__)
    sid = None
    try:
        if tb is not None and not isinstance(e, (KeyboardInterrupt,)):
            sid = rec.snapshot("exception", type(e).__name__, None, "exception", tb=tb)
    except Exception as ce:  # noqa: BLE001 - never hide the program's own error
        C.output_bytes()
        sys.stderr.write("pyreplay: could not record the exception snapshot: %s\n" % ce)
    # -- live control: stop at an uncaught exception (control.py) --
    ctl = sys.modules.get(__package__ + ".control")
    if ctl is not None and ctl.ACTIVE is not None:
        ctl.ACTIVE.on_uncaught(e, tb, sid)
    # -- end live control --
    e.__traceback__ = tb
    sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb
    if V >= (3, 12):
        sys.last_exc = e
    try:
        sys.excepthook(type(e), e, tb)
    except Exception:  # noqa: BLE001
        pass
    if isinstance(e, KeyboardInterrupt):
        import signal
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(1)


def fail(cfg, message, code=2):
    """A problem pyreplay reports itself (one line, printed by the Go side)."""
    status = cfg.get("status")
    if status:
        with os.fdopen(os.open(status, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
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
    if V >= (3, 9) and not os.path.isabs(path):
        m.__file__ = os.path.join(os.getcwd(), path)
    else:
        m.__file__ = path
    m.__cached__ = None
    m.__loader__ = SourceFileLoader("__main__", m.__file__)
    sys.modules["__main__"] = m
    return m


def _set_orig_argv(args):
    """sys.orig_argv (3.10+) as ``python ARGS`` gives it, not the shim's."""
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = sys.orig_argv[:1] + args


def _hide_shim_depth(extra):
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


def _shim_depth(c_call):
    """Recursion-limit units the shim holds where it starts the program: its
    Python frames, plus, before 3.12, one for a call made through C (exec)."""
    n = 0
    f = sys._getframe(1)
    while f is not None:
        n += 1
        f = f.f_back
    return n + (1 if c_call and V < (3, 12) else 0)


def compile_main(path, filename, trig):
    with open(path, "rb") as f:
        src = f.read()
    try:
        return trig.compile_file(src, filename)
    except SyntaxError as e:
        fail(trig.cfg, "syntax error in %s:%s: %s; fix the program and record again"
             % (e.filename or path, e.lineno, e.msg), 1)


def _run_dir(rec, trig, prog):
    """``python DIR``: DIR/__main__.py runs as the module ``__main__`` found
    on sys.path, whose first entry is DIR: as given before 3.9, then joined
    to the working directory (the directory itself for ".")."""
    import runpy
    if V >= (3, 9) and not os.path.isabs(prog):
        prog = os.getcwd() if prog in ("", ".") else os.path.join(os.getcwd(), prog)
    sys.path[0] = prog
    trig.start()
    _hide_shim_depth(_shim_depth(False))
    try:
        runpy._run_module_as_main("__main__", alter_argv=False)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        report_uncaught(rec, e)


def main():
    try:
        _main()
    finally:
        periodic = sys.modules.get(__package__ + ".periodic")
        if periodic is not None:
            periodic.stop()


def _main():
    cfg = _load_config()
    C.install_counters(cfg.get("stdout_start", 0), cfg.get("stderr_start", 0))
    _track_atexit()
    C._lib_dirs()
    rec = C.Recorder(cfg)
    # a forked child records into a run of its own (store.fork_run)
    os.register_at_fork(after_in_child=rec.forked)
    resumed = [cfg.get("mode") == "resume"]
    _install_api(rec, resumed)
    # -- live control (pyreplay dap; control.py) --
    if cfg.get("control"):
        from . import control
        trig = control.install(rec, cfg)
    else:
        try:
            trig = T.Triggers(rec, cfg)
        except T.BadBreakpoint as e:
            fail(cfg, str(e))
    # -- end live control --
    if resumed[0]:
        from . import resume
        resume.run(cfg, rec, trig)
        return
    # the program's arguments come on the shim's command line (launch.Prepare),
    # so that Python decodes them as for ``python PROG ARGS``: bytes that are
    # not valid in the locale's encoding as surrogate escapes (the JSON
    # config could only carry them replaced by U+FFFD)
    argv = sys.argv[1:]
    if cfg.get("module"):
        import runpy
        sys.argv = ["-m"] + argv[1:]
        _set_orig_argv(["-m", cfg["module"]] + argv[1:])
        sys.path[0] = os.getcwd()
        trig.start()
        _hide_shim_depth(_shim_depth(False))
        try:
            runpy._run_module_as_main(cfg["module"], alter_argv=True)
        except SystemExit:
            raise
        except BaseException as e:  # noqa: BLE001
            report_uncaught(rec, e)
        return
    prog = cfg["program"]
    sys.argv = list(argv)
    _set_orig_argv(list(argv))
    if os.path.isdir(prog):
        _run_dir(rec, trig, prog)
        return
    sys.path[0] = os.path.dirname(os.path.realpath(prog))
    m = main_module(prog)
    trig.start()
    code = compile_main(prog, m.__file__, trig)
    _hide_shim_depth(_shim_depth(True))
    try:
        exec(code, m.__dict__)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        report_uncaught(rec, e)
