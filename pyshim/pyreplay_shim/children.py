"""Python children the program starts run under the shim too:
``subprocess`` (and anything else that starts a process through
``_posixsubprocess.fork_exec`` or ``os.posix_spawn``) starting this
Python, or another ``python*``, on a script, ``-m module`` or ``-c CODE``
(multiprocessing's spawn and forkserver workers), after interpreter
options such as -B, -O, -X (kept), gets the shim in between: the child
records into a run of its own in the same recording (store.child_run),
linked to the run that started it, with the same breakpoints. The child's
program sees what it would without pyreplay: its argv, environment (the
shim's variable is taken out before the program runs) and exit status.

In a live session (pyreplay dap, unless "subProcess": false) a child is
live too: it listens on a private socket of its own and waits (at most
ATTACH_WAIT seconds) for a debugger before its program runs; the parent's
session hears of it (spawned_hooks: control.py sends a "child" event) and
asks the editor for a child session that attaches there. A child of
os.fork does the same right after the fork (fork_hooks). Nobody attached
in time: it runs recorded only.

Not covered: -I, -P, -i and other options the shim cannot sit behind, and
``os.exec*`` (the process becomes another program).

Leaf module: imports nothing of the shim.
"""
import json
import os
import socket
import sys
import tempfile

# fork_exec(args, executable_list, close_fds, fds, cwd, env, ...): the same
# first six on 3.8-3.13
_CWD, _ENV = 2, 3  # in the arguments after executable_list

ATTACH_WAIT = 15  # seconds a live child waits for its debugger
# called with (pid, control address, command line) once a live child started
spawned_hooks = []
# called in a forked child of a live program with the path it waits at for
# its session (control.py forked_child)
fork_hooks = []


def install(cfg):
    """Wrap fork_exec and os.posix_spawn (3.13's subprocess spawns with it)
    for a recording or a live session (not under CRIU, nor a resume, nor
    with "subProcess": false: the child then runs as it would)."""
    if cfg.get("mode") != "record" or cfg.get("criu_fd") or cfg.get("sub_process_off"):
        return
    boot = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "boot.py")
    try:
        import _posixsubprocess
    except ImportError:  # not POSIX
        return
    real_fork_exec = _posixsubprocess.fork_exec
    if cfg.get("control") and cfg.get("child_sessions"):
        _wrap_fork(cfg.get("scratch"))

    def fork_exec(args, executable_list, *rest):
        child = None
        try:
            if args and executable_list and len(rest) > _ENV:
                cwd = rest[_CWD]
                child = _launch(cfg, boot, _text(executable_list[0]), args, None if cwd is None else _text(cwd))
        except Exception:  # noqa: BLE001 - never in the program's way: unrecorded
            child = None
        if child is None:
            return real_fork_exec(args, executable_list, *rest)
        line, env_add, path, addr = child
        rest = list(rest)
        env = rest[_ENV]
        if env is None:
            env = [k + b"=" + v for k, v in os.environb.items()]
        env = [e for e in env if not bytes(e).split(b"=", 1)[0] in env_add]
        env += [k + b"=" + v for k, v in env_add.items()]
        rest[_ENV] = env
        try:
            pid = real_fork_exec(line, executable_list, *rest)
        except BaseException:
            _remove(path)
            raise
        _spawned(pid, addr, line)
        return pid

    fork_exec.__wrapped__ = real_fork_exec
    _posixsubprocess.fork_exec = fork_exec

    real_spawn = getattr(os, "posix_spawn", None)
    if real_spawn is None:
        return

    def posix_spawn(path, argv, env, **kwargs):
        child = None
        try:
            child = _launch(cfg, boot, _text(path), argv, None)
        except Exception:  # noqa: BLE001 - never in the program's way: unrecorded
            child = None
        if child is None:
            return real_spawn(path, argv, env, **kwargs)
        line, env_add, cfg_path, addr = child
        env = dict(os.environ if env is None else env)
        for k, v in env_add.items():
            env[os.fsdecode(k)] = os.fsdecode(v)
        try:
            pid = real_spawn(path, line, env, **kwargs)
        except BaseException:
            _remove(cfg_path)
            raise
        _spawned(pid, addr, line)
        return pid

    posix_spawn.__wrapped__ = real_spawn
    os.posix_spawn = posix_spawn


def await_debugger(path, wait):
    """A live child waits at the Unix socket path for the child session
    that attaches to it, at most wait seconds: that session's connection,
    or None."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(wait)
        conn, _ = srv.accept()
        conn.settimeout(None)
        return conn
    except OSError:
        return None
    finally:
        srv.close()
        for p in (path, os.path.dirname(path)):
            try:
                (os.unlink if p == path else os.rmdir)(p)
            except OSError:
                pass


def _wrap_fork(scratch):
    """os.fork (multiprocessing's fork start method, the program's own): a
    forked child of a live program waits at a private socket for a child
    session too, announced by its parent."""
    real_fork = os.fork

    def fork():
        d = _socket_dir(scratch)
        path = os.path.join(d, "s")
        try:
            pid = real_fork()
        except BaseException:
            os.rmdir(d)
            raise
        if pid == 0:
            for hook in fork_hooks:
                try:
                    hook(path)
                except Exception:  # noqa: BLE001 - never in the program's way: undebugged
                    pass
        else:
            _spawned(pid, "unix:" + path, [sys.executable] + sys.argv + ["(forked)"])
        return pid

    fork.__wrapped__ = real_fork
    os.fork = fork


def _socket_dir(scratch):
    """A new directory, only this user can enter, for a live child's socket
    ("s" in it): in scratch (pyreplay's scratch directory, the config's
    "scratch") unless the socket's path would be too long there (a Unix
    socket's path has at most 107 bytes) or scratch is gone (pyreplay
    ended before this process), else in the default temporary directory."""
    if scratch and len(os.fsencode(os.path.join(scratch, "pyreplay-child-xxxxxxxx", "s"))) <= 100:
        try:
            return tempfile.mkdtemp(prefix="pyreplay-child-", dir=scratch)
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="pyreplay-child-")


def _spawned(pid, addr, line):
    if addr is None:
        return
    for hook in spawned_hooks:
        try:
            hook(pid, addr, [_text(a) for a in line])
        except Exception:  # noqa: BLE001 - never in the program's way
            pass


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _text(x):
    return os.fsdecode(x) if isinstance(x, (bytes, bytearray)) else str(x)


# interpreter options a child may start with (multiprocessing passes the
# parent's, as -B, -O, -X ...); others (-I, -P, -i, ...) leave it unrecorded
_PLAIN_FLAGS = set("BEsSuOdqvbR")


def _options(argv):
    """The interpreter options before the script, -m or -c in argv, and
    where that starts; (None, 0) for an option the shim cannot sit behind."""
    opts, i = [], 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("-c", "-m", "-"):
        a = argv[i]
        if a in ("-X", "-W") and i + 1 < len(argv):
            opts += argv[i:i + 2]
            i += 2
        elif a[:2] in ("-X", "-W") or (len(a) > 1 and set(a[1:]) <= _PLAIN_FLAGS):
            opts.append(a)
            i += 1
        else:
            return None, 0
    return opts, i


def _is_python(exe):
    name = os.path.basename(exe)
    if not name.startswith("python"):
        try:
            return os.path.realpath(exe) == os.path.realpath(sys.executable)
        except OSError:
            return False
    return True


def _launch(cfg, boot, exe, args, cwd):
    """For a Python child the shim can start: its command line with the
    shim in between (args' own type: str or bytes), the environment
    variables to add (bytes), its config file and, live, the address it
    waits for its debugger at; None otherwise."""
    if len(args) < 2 or not (_is_python(exe) or _is_python(_text(args[0]))):
        return None
    argv = [_text(a) for a in args]
    cwd = cwd or os.getcwd()
    child = {k: cfg[k] for k in ("db", "key", "redact", "no_redact", "breakpoints", "every", "every_budget", "max_snapshots",
                                 "thin_snapshots", "history_size", "history_bound", "history_span", "child_sessions",
                                 "scratch")
             if k in cfg}
    child.update({"mode": "record", "run": 0, "child_of": cfg["run"], "status": ""})
    opts, i = _options(argv)
    if opts is None or i >= len(argv):
        return None
    head = [argv[0]] + opts + [boot]  # (the interpreter's options stay its own)
    if argv[i] == "-m" and len(argv) > i + 1:
        child["module"] = argv[i + 1]
        child["argv"] = ["-m"] + argv[i + 2:]
        line = head + ["-m"] + argv[i + 2:]
    elif argv[i] == "-c" and len(argv) > i + 1:
        # (multiprocessing's spawn and forkserver start their processes so)
        child["code"] = argv[i + 1]
        child["argv"] = ["-c"] + argv[i + 2:]
        line = head + ["-c"] + argv[i + 2:]
    elif not argv[i].startswith("-"):
        prog = argv[i] if os.path.isabs(argv[i]) else os.path.join(cwd, argv[i])
        if not os.path.exists(prog):
            return None  # python reports it; nothing to record
        child["program"] = argv[i]
        child["argv"] = argv[i:]
        line = head + argv[i:]
    else:
        return None
    env_add = {}
    if cfg.get("hash_seed_injected") and "PYTHONHASHSEED" not in os.environ:
        # a fixed seed, as for the parent (set orders resume); taken out again
        env_add[b"PYTHONHASHSEED"] = cfg["hash_seed"].encode()
        child["hash_seed"], child["hash_seed_injected"] = cfg["hash_seed"], True
    addr = None
    if cfg.get("control") and cfg.get("child_sessions"):
        # live: its own socket, in a directory only this user can enter
        d = _socket_dir(cfg.get("scratch"))
        addr = "unix:" + os.path.join(d, "s")
        child["control"], child["attach_wait"] = "listen:" + addr[5:], ATTACH_WAIT
    # (not in the scratch directory: a child the program leaves running
    # may start after pyreplay ended and removed it)
    fd, path = tempfile.mkstemp(prefix="child-", suffix=".json", dir=os.path.dirname(os.path.dirname(boot)))
    with os.fdopen(fd, "w") as f:
        json.dump(child, f)
    env_add[b"PYREPLAY_CONFIG"] = os.fsencode(path)
    if isinstance(args[0], bytes):
        line = [os.fsencode(a) for a in line]
    return line, env_add, path, addr
