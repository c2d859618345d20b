"""Run a program under pyreplay: triggers, transparency, exit handling."""
import json
import os
import sys
import types

from . import paths
from . import output
from . import store
from . import capture as C
from . import process as P
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
        if paths.is_user_file(f.f_code.co_filename):
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


def compile_main(path, filename, trig):
    with open(path, "rb") as f:
        src = f.read()
    try:
        return trig.compile_file(src, filename)
    except SyntaxError as e:
        P.fail(trig.cfg, "syntax error in %s:%s: %s; fix the program and record again"
             % (e.filename or path, e.lineno, e.msg), 1)


def _run_code(rec, trig, code, argv):
    """``python -c CODE`` (a Python child, children.py): its __main__ has
    no __file__, sys.path[0] is "" and tracebacks say File "<string>"."""
    import builtins
    import types
    from importlib.machinery import BuiltinImporter
    m = types.ModuleType("__main__")  # as python -c makes it: these names, in this order
    m.__annotations__ = {}
    m.__builtins__ = builtins
    m.__loader__ = BuiltinImporter
    sys.modules["__main__"] = m
    sys.argv = ["-c"] + argv[1:]
    P.set_orig_argv(["-c", code] + argv[1:])
    sys.path[0] = ""
    try:
        compiled = compile(code, "<string>", "exec", dont_inherit=True)
    except SyntaxError as e:
        P.fail(trig.cfg, "syntax error in the -c code: %s" % e.msg, 1)
    trig.start()
    _exec_main(rec, compiled, m.__dict__)


def _run_dir(rec, trig, prog):
    """``python DIR``: DIR/__main__.py runs as the module ``__main__`` found
    on sys.path, whose first entry is DIR: as given before 3.9, then joined
    to the working directory (the directory itself for ".")."""
    import runpy
    if V >= (3, 9) and not os.path.isabs(prog):
        prog = os.getcwd() if prog in ("", ".") else os.path.join(os.getcwd(), prog)
    sys.path[0] = prog
    trig.start()
    P.hide_shim_depth(P.shim_depth(False))
    try:
        runpy._run_module_as_main("__main__", alter_argv=False)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        P.report_uncaught(rec, e)


_child = []  # (db, run) of a Python child's own run (children.py)


def wait_for_run():
    """A warm interpreter (launch/warm.go): started ahead with the shim
    imported, it imports what a re-execution needs, then waits for its
    run's configuration on stdin, {"config": PATH, "cwd": DIR, "argv":
    [...]}, written once and closed (the program's stdin is then empty, as
    a re-execution's is). Nothing written: it ends without running."""
    os.environ.pop("PYREPLAY_WARM", None)
    from . import children, linehistory, resume, sandbox  # noqa: F401 - imported ahead
    # and what a re-execution imports before the program's code goes on,
    # in any case (the sandbox's pathlib, signing's hashlib and hmac, the
    # store's sqlite3): ~15 ms of each re-execution's start otherwise
    import hashlib, hmac, pathlib, sqlite3  # noqa: F401,E401
    chunks = []
    while True:
        b = os.read(0, 65536)
        if not b:
            break
        chunks.append(b)
    if not chunks:
        os._exit(0)
    req = json.loads(b"".join(chunks).decode())
    os.environ["PYREPLAY_CONFIG"] = req["config"]
    if req.get("cwd"):
        os.chdir(req["cwd"])
    # as `python boot.py ARGS` would have them
    sys.argv[1:] = req["argv"]
    if hasattr(sys, "orig_argv"):
        sys.orig_argv[2:] = req["argv"]


def main():
    code = 1
    try:
        _main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        raise
    finally:
        periodic = sys.modules.get(__package__ + ".periodic")
        if periodic is not None:
            periodic.stop()
        store.finish()
        if _child:
            try:
                store.end_run(_child[0], _child[1], code)
            except Exception:  # noqa: BLE001 - the program's exit comes first
                pass


def _main():
    cfg = _load_config()
    if cfg.get("child_of"):
        # a Python child of a recorded program: a run of its own
        try:
            cfg["run"] = store.child_run(cfg)
            _child[:] = [cfg["db"], cfg["run"]]
        except Exception as e:  # noqa: BLE001
            P.fail(cfg, "cannot record this child process: %s" % e)
    from . import children
    children.install(cfg)
    output.install_counters(cfg.get("stdout_start", 0), cfg.get("stderr_start", 0))
    _track_atexit()
    paths._lib_dirs()
    rec = C.Recorder(cfg)
    if cfg.get("history_bound") and not (cfg.get("resume") or {}).get("history"):
        # time travel's anchors: what the program reads from outside is
        # recorded for re-executions of its past (inputs.py)
        from . import inputs
        inputs.record()
    # a forked child records into a run of its own (store.fork_run)
    # (no deferred snapshot write may be running when the process forks)
    os.register_at_fork(before=store.wait, after_in_child=rec.forked)
    resumed = [cfg.get("mode") == "resume"]
    _install_api(rec, resumed)
    # -- live control (pyreplay dap; control.py) --
    sock = None
    if str(cfg.get("control", "")).startswith("listen:"):
        from .children import ATTACH_WAIT, await_debugger
        sock = await_debugger(cfg["control"][len("listen:"):], cfg.get("attach_wait") or ATTACH_WAIT)
        if sock is None:
            del cfg["control"]  # a live child nobody attached to in time: recorded only
    if cfg.get("control"):
        from . import control
        trig = control.install(rec, cfg, sock)
    else:
        try:
            trig = T.Triggers(rec, cfg)
        except T.BadBreakpoint as e:
            P.fail(cfg, str(e))
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
    if cfg.get("code") is not None:
        _run_code(rec, trig, cfg["code"], argv)
        return
    if cfg.get("module"):
        import runpy
        sys.argv = ["-m"] + argv[1:]
        P.set_orig_argv(["-m", cfg["module"]] + argv[1:])
        sys.path[0] = os.getcwd()
        trig.start()
        P.hide_shim_depth(P.shim_depth(False))
        try:
            runpy._run_module_as_main(cfg["module"], alter_argv=True)
        except SystemExit:
            raise
        except BaseException as e:  # noqa: BLE001
            P.report_uncaught(rec, e)
        return
    prog = cfg["program"]
    sys.argv = list(argv)
    P.set_orig_argv(list(argv))
    if os.path.isdir(prog):
        _run_dir(rec, trig, prog)
        return
    sys.path[0] = os.path.dirname(os.path.realpath(prog))
    m = P.main_module(prog)
    trig.start()
    _exec_main(rec, compile_main(prog, m.__file__, trig), m.__dict__)


def _exec_main(rec, code, namespace):
    """Run the main code (a script's, -c's) as __main__, the shim's frames
    below it not counted against the recursion limit, an uncaught exception
    reported as Python would."""
    P.hide_shim_depth(P.shim_depth(True))
    try:
        exec(code, namespace)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        P.report_uncaught(rec, e)
