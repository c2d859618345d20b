"""Taking a snapshot: walk the stack, serialise it, write it to the recording."""
import gc
import json
import os
import posix
import sys
import time
import warnings
from _thread import get_ident as _get_ident
from time import sleep as _sleep  # (the real one: a program may replace time.sleep)

from . import frames as F
from . import inputs
from . import libstate
from .output import output_bytes
from .paths import _has_source, abs_file, decode_source, is_shim_file, is_user_file, qualname, user_modules
from . import signing
from . import state as S
from . import wire as W
from . import stdvalues
from . import store
from . import view as V
from .view import view

_wall = inputs.real(time.time)  # (the shim's own clock: not a recorded input)

_inherited = []  # recording connections of a parent process (Recorder.forked)


# atexit functions the program registered (main.py wraps atexit.register)
atexit_calls = []

_resume_types = []


def register_resume_codes(once, exitcm):
    """In a resumed process, the rebuilt frames keep helper objects on their
    value stacks (the one-shot loop of an interrupted iteration: resume._Once,
    the exit wrapper of a with: resume._ExitCM); snapshots record what the
    original frame held."""
    _resume_types[:] = [once, exitcm]


def _translate_stack(vstack):
    once, exitcm = _resume_types
    out = []
    for x in vstack:
        if type(x) is once:
            continue
        if type(x) is S.types.MethodType and type(x.__self__) is exitcm:
            x = x.__self__.exit
        out.append(x)
    return out


def _frame_fields(f, code, kind, lasti, lineno, sha, file, library, generator, module):
    """The fields of a saved frame's view (wire.Frame) that a frame on the
    stack and a suspended generator share: the one place that says what
    a frame's code, position and variable layout are recorded as."""
    fv = {
        "function": qualname(code),
        "name": code.co_name,
        "file": file,
        "line": lineno,
        "firstline": code.co_firstlineno,
        "library": library,
        "kind": kind,
        "sha256": sha,
        "lasti": lasti,
        "op": F.opname_at(code, lasti),
        "flags": code.co_flags,
        "generator": generator,
        "coroutine": bool(code.co_flags & 0x180),
        "module": module,
        "module_name": f.f_globals.get("__name__", ""),
        "varnames": list(code.co_varnames),
        "cellvars": list(code.co_cellvars),
        "freevars": list(code.co_freevars),
        "nargs": code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04)
        + bool(code.co_flags & 0x08),
    }
    pos = F.position_at(code, lasti)
    if pos is not None:
        fv["pos"] = list(pos)
    return fv


def _local_views(slots, code, show):
    """(the views of a frame's locals by name, its cell variables' names):
    unbound slots left out, a cell shown by its contents; show(name, value)
    makes one view."""
    lv = {}
    cells = []
    for name, v in slots.items():
        if v is F.NULL:
            continue
        is_cell, v = _cell_value(name, v, code)
        if is_cell:
            cells.append(name)
        lv[name] = show(name, v)
    return lv, cells


def _cell_value(name, v, code):
    """(is a cell variable, the value to show) for a fast-locals slot."""
    if type(v) is S.CellType and (name in code.co_cellvars or name in code.co_freevars):
        try:
            return True, v.cell_contents
        except ValueError:
            return True, F.NULL
    return False, v


import builtins as _builtins
_build_class = _builtins.__build_class__


def _callee_kind(obj, code, callee=None):
    """How the frame above was called: the called object's relation to its code.
    Up to 3.10, calling a bound method object (`callback(x)` with callback =
    obj.meth) puts obj in the callable's stack slot for the duration of the
    call (method_vectorcall prepends self in place), so that slot holding
    the callee's first argument means a bound method was called."""
    if getattr(obj, "__code__", None) is code:
        return "function"
    fn = getattr(obj, "__func__", None)
    if fn is not None and getattr(fn, "__code__", None) is code:
        return "method"
    if isinstance(obj, type):
        init = getattr(obj, "__init__", None)
        if getattr(init, "__code__", None) is code:
            return "class"
    elif getattr(getattr(type(obj), "__call__", None), "__code__", None) is code:
        return "instance"  # obj(...) running its class's __call__
    if F.V < (3, 11) and callee is not None and code.co_argcount and \
            callee.f_locals.get(code.co_varnames[0], F.NULL) is obj:
        return "method"
    return "other"


# ------------------------------------------------------------------ recorder
# the interpreter's own (main.py wraps the ones the program sees)
_getlimit, _setlimit = sys.getrecursionlimit, sys.setrecursionlimit
_IGNORE_ALL = [("ignore", None, Warning, None, 0)]


def _restore_limit(limit):
    """Lower the recursion limit back after a snapshot. 3.8-3.10 refuse to
    lower it to within 50 frames of the current depth: then it goes as low as
    allowed (a snapshot taken that close to the limit leaves the program a few
    frames of extra room)."""
    try:
        _setlimit(limit)
    except RecursionError:
        for x in range(limit + 1, limit + 100):
            try:
                _setlimit(x)
                return
            except RecursionError:
                continue


class Recorder:
    def __init__(self, cfg):
        self.db_path = cfg["db"]
        self.run = cfg["run"]
        self.max_periodic = cfg.get("max_snapshots") or 0
        # time travel's anchors (launch/anchors.go): [{every, keep}] tiers
        # thinning the periodic snapshots older than the newest
        # max_periodic; their stored state bounded; history_bound: once
        # the oldest goes, the run's "entry" anchor goes too
        self.thin_periodic = cfg.get("thin_snapshots") or []
        self.history_size = cfg.get("history_size") or 0
        self.history_bound = bool(cfg.get("history_bound"))
        self.history_span = cfg.get("history_span") or 0
        # the user's recording key (internal/trust): every snapshot is signed
        self.key = bytes.fromhex(cfg.get("key") or "")
        self.key_id = signing.key_id(self.key)
        V.configure(cfg.get("redact"), not cfg.get("no_redact"))
        self.hash_seed = (cfg.get("hash_seed") or "", bool(cfg.get("hash_seed_injected")))
        self.conn = None
        self.count = 0
        self.layout_error = F.selfcheck()
        self._sources = {}
        self._stored = set()  # sources already in the recording (committed by this process)
        self.busy = False
        self.busy_ident = None  # the thread taking the snapshot while busy
        self.after = []  # called when a snapshot is done (control.py: commands that waited)
        self._fork_pending = False
        self.program_filters = warnings.filters
        # record --criu: the channel to pyreplay (criu.py); a copy restored
        # from a CRIU image records nothing
        self.criu = None
        self.copy = False
        # a re-execution of the past (linehistory.py) records no snapshot
        # (its run is dropped) but the one it is asked for, if any: not
        # the uncaught exception it ends with (~20 ms of a window's run)
        self.history_run = False
        if cfg.get("criu_fd"):
            from . import criu
            self.criu = criu.Channel(cfg["criu_fd"])
        # big states may be written after the program goes on (store.py):
        # not in a live session (it reads each snapshot as it stops) nor
        # under CRIU (the image is taken right after the snapshot)
        self.defer_big = not cfg.get("control") and self.criu is None

    def unstore(self, shas):
        """Sources a failed deferred write did not store after all."""
        self._stored.difference_update(shas)

    def _db(self):
        store.wait()  # a deferred snapshot write first (store.write_snapshot)
        forked = self.conn is not None and self._conn_pid != posix.getpid()
        if forked:
            # a forked child: SQLite connections must not cross a fork. Keep
            # the parent's object alive but unused (closing or collecting it
            # here could remove the WAL files the parent still uses)
            _inherited.append(self.conn)
            self.conn = None
        if self.conn is None:
            import sqlite3
            self._conn_pid = posix.getpid()
            self.conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("UPDATE runs SET python=?, version=? WHERE id=?",
                              (sys.executable, "%d.%d.%d" % sys.version_info[:3], self.run))
        if forked or self._fork_pending:
            self._fork_pending = False
            self.run = store.fork_run(self.conn, self.run)
        return self.conn

    def forked(self):
        """os.register_at_fork(after_in_child=...): the child's snapshots
        go to a run of its own (its first snapshot makes it)."""
        self._fork_pending = True

    def source(self, filename):
        s = self._sources.get(filename)
        if s is None:
            try:
                with open(filename, "rb") as f:
                    data = f.read()
                import hashlib  # here: loading it (OpenSSL) costs every start ~3 ms
                s = (hashlib.sha256(data).hexdigest(), decode_source(data))
            except OSError:
                s = ("", "")
            self._sources[filename] = s
        return s

    def busy_here(self):
        """Whether this thread is taking a snapshot (what runs meanwhile is
        the snapshot's, not the program's)."""
        return self.busy and self.busy_ident == _get_ident()

    def wait_other(self):
        """Wait while another thread takes a snapshot (a periodic anchor):
        a stop in this thread comes after it, not instead of it. At most
        ~1 s (counted in sleeps: the clocks are the program's recorded
        inputs): a snapshot waiting for a lock this thread holds (a module
        it is importing) must not hang both."""
        me = _get_ident()
        for _ in range(2000):
            if not self.busy or self.busy_ident in (None, me):
                return
            _sleep(0.0005)

    def snapshot(self, reason, label, frame, top_kind, tb=None):
        """Record the stack ending at ``frame`` (or the traceback ``tb``).
        Returns the snapshot id, or None when the stack holds no program
        code or the write goes on after the program (store.write_snapshot)."""
        if self.busy or self.copy or self.history_run:
            return None
        self.busy, self.busy_ident = True, _get_ident()
        old_limit = _getlimit()
        self.limit = sys.getrecursionlimit()  # as the program sees it
        # a snapshot allocates thousands of short-lived, acyclic containers
        # (views, manifest): the cyclic GC, which would walk the program's
        # whole heap again and again meanwhile, waits until it is done
        gc_was = gc.isenabled()
        gc.disable()
        try:
            _setlimit(max(old_limit, 10000))
            # silence warnings raised while snapshotting by swapping the filter
            # list itself: catch_warnings()/simplefilter() would mark the filters
            # changed, and every warning the program already showed once would
            # show again after each snapshot
            saved_filters = self.program_filters = warnings.filters
            warnings.filters = _IGNORE_ALL
            try:
                if self.criu is not None:
                    # the program's buffered output first: the snapshot's
                    # stdout/stderr offsets are then where a restored copy
                    # of the process goes on writing
                    self.criu.flush()
                sid = self._snapshot(reason, label, frame, top_kind, tb)
                if sid is not None and self.criu is not None and self.criu.usable():
                    # still busy: no other thread records while CRIU dumps
                    self.copy = self.criu.ask(self, sid)
                return sid
            finally:
                warnings.filters = saved_filters
        finally:
            self.busy, self.busy_ident = False, None
            if gc_was:
                gc.enable()
            _restore_limit(old_limit)
            for f in self.after:
                f()

    def _collect(self, frame, top_kind, tb):
        """[(frame, kind, lasti, lineno, live)] outermost first, shim frames dropped."""
        out = []
        if tb is not None:
            while tb is not None:
                f = tb.tb_frame
                if not is_shim_file(f.f_code.co_filename):
                    out.append([f, "call", tb.tb_lasti, F.line_at(f.f_code, tb.tb_lasti) or tb.tb_lineno, False])
                tb = tb.tb_next
            if out:
                out[-1][1] = "exception"
            return out
        f = frame
        first = True
        while f is not None:
            if not is_shim_file(f.f_code.co_filename):
                line = f.f_lineno if first else (F.line_at(f.f_code, f.f_lasti) or f.f_lineno)
                out.append([f, top_kind if first else "call", f.f_lasti, line, True])
                first = False
            f = f.f_back
        out.reverse()
        return out

    def _snapshot(self, reason, label, frame, top_kind, tb):
        t0 = _wall()
        out_b, err_b = output_bytes()
        stack = self._collect(frame, top_kind, tb)
        if not any(is_user_file(f.f_code.co_filename) for f, *_ in stack):
            return None
        mods = user_modules()
        views = V.Views()
        placeholders = []
        fviews = []
        manifest = []
        values = []
        files = {}
        users = [i for i, (f, *_r) in enumerate(stack) if is_user_file(f.f_code.co_filename)]
        for idx, (f, kind, lasti, lineno, live) in enumerate(stack):
            code = f.f_code
            user = is_user_file(code.co_filename)
            # a library frame between two of the program's frames (a framework
            # calling back, copy.deepcopy calling __deepcopy__) is saved like
            # the program's own, so that resume can rebuild it from its source
            kept = user or (users[0] < idx < users[-1] and _has_source(code.co_filename))
            file = abs_file(code.co_filename) if user else code.co_filename
            if not kept:
                # a library frame: where it is, nothing of its state
                fviews.append({"function": getattr(code, "co_qualname", code.co_name), "name": code.co_name,
                               "file": file, "line": lineno, "firstline": code.co_firstlineno,
                               "library": True, "kind": kind})
                continue
            fn = abs_file(code.co_filename)
            sha, _ = self.source(fn)
            files[fn] = sha
            is_module = code.co_name == "<module>"
            fv = _frame_fields(f, code, kind, lasti, lineno, sha, file, not user,
                               bool(code.co_flags & 0x20), is_module)
            if fv["file"] != code.co_filename:
                fv["co_filename"] = code.co_filename
            if kind == "call" and F.V < (3, 11):
                fv["call_ordinal"] = F.call_ordinal(code, lasti, lineno)
            if kind in ("line", "hook", "entry", "exception"):
                po = F.primary_offset(code, lineno)
                fv["primary"] = po == lasti
            if live and idx > 0 and F.called_from_c(f):
                fv["from_c"] = True
            slots, vstack, static = ({}, None, False)
            if is_module:
                if live and not self.layout_error:
                    _, vstack, static = F.read(f)
            elif not (code.co_flags & 0x1):
                # a class body: its variables live in the namespace dict
                fv["class_body"] = True
                ns = f.f_locals
                if live and not self.layout_error:
                    slots, vstack, static = F.read(f, live)
                manifest.append((W.M_NAMESPACE, idx, None, "class namespace of %s at %s:%d" % (fv["function"], code.co_filename, lineno)))
                values.append(dict(ns))
                fv["namespace"] = {k: views.root(v, 1, idx, k) for k, v in ns.items() if not (k.startswith("__") and k.endswith("__"))}
            elif not self.layout_error:
                slots, vstack, static = F.read(f, live)
                if not live:
                    vstack = None
            else:
                slots = dict(f.f_locals)
            if vstack is not None and static and kind in ("call", "hook"):
                # the in-progress call's own items (callable, args) are not state
                n = F.call_items(code, lasti)
                if n > len(vstack):
                    vstack = None
                else:
                    items = vstack[len(vstack) - n:]
                    vstack = vstack[: len(vstack) - n]
                    if kind == "call" and idx + 1 < len(stack):
                        target = F.callable_item(code, lasti, items)
                        if target is _build_class:
                            # `class C(bases):` in progress: keep its bases
                            prefix = 1 if F.V < (3, 11) else 2
                            bases = items[prefix + 2:]
                            vstack = vstack + bases
                            fv["callee"] = "build_class"
                            fv["nbases"] = len(bases)
                        else:
                            fv["callee"] = _callee_kind(target, stack[idx + 1][0].f_code, stack[idx + 1][0])
            elif kind == "call" and live and idx + 1 < len(stack) and not F.called_from_c(stack[idx + 1][0]):
                fv["callee"] = "function"
            if vstack is not None and _resume_types:
                vstack = _translate_stack(vstack)
            fv["locals"], fv["cells"] = _local_views(slots, code, lambda name, v: views.root(v, priority=idx, name=name))
            for name, v in slots.items():
                if v is not F.NULL:
                    where = "local '%s' of %s() at %s:%d" % (name, fv["function"], code.co_filename, lineno)
                    manifest.append((W.M_LOCAL, idx, name, where))
                    values.append(v)
            if vstack is not None:
                fv["stack"] = [view(x, 0) if x is not F.NULL else None for x in vstack]
                for j, x in enumerate(vstack):
                    where = "value-stack item %d of %s() at %s:%d" % (j, fv["function"], code.co_filename, lineno)
                    manifest.append((W.M_STACK, idx, j, where))
                    values.append(x)
            else:
                fv["stack"] = None
            if is_module:
                fv["locals"] = {}
            fviews.append(fv)
        gviews = {}
        module_sources = {}
        for m in mods:
            mod = sys.modules.get(m)
            if mod is None:
                continue
            mf = getattr(mod, "__file__", None)
            if isinstance(mf, str) and mf.endswith(".py"):
                # every module's source, so that resume can tell whether the
                # program mentions a global that could not be saved
                mf = abs_file(mf)
                sha, _ = self.source(mf)
                if sha:
                    files[mf] = sha
                    module_sources[m] = sha
            ns = mod.__dict__
            # the namespace first (functions refer to it), then each global as
            # its own root so that an unsaved one is named
            gman = [(W.M_GLOBALS, m, None, "globals of module %s" % m)]
            gval = [S.ModuleNamespace(m, {})]
            for k, v in list(ns.items()):
                if k == "__builtins__":
                    continue  # state.user_module gives every module the real one
                gman.append((W.M_GLOBAL, m, k, "global '%s' of module %s" % (k, m)))
                gval.append(v)
            manifest[0:0] = gman
            values[0:0] = gval
            gviews[m] = {k: views.root(v, 2, -1, k) for k, v in ns.items() if not (k.startswith("__") and k.endswith("__"))}
        views.fill()
        manifest.append((W.M_EXTRA, "process", None, "process state"))
        values.append(self._process_state())
        rnd = sys.modules.get("random")
        if rnd is not None and hasattr(rnd, "getstate"):
            manifest.append((W.M_EXTRA, "random", None, "random state"))
            values.append(rnd.getstate())
        # the outside inputs' interval this snapshot ends, and where it is
        # in their log (inputs.py: a re-execution from here reads on)
        position, interval = inputs.take() or (None, None)
        if position is not None:
            manifest.append((W.M_EXTRA, "inputs", None, "position in the outside inputs"))
            values.append(position)
        manifest.append((W.M_EXTRA, "taken", None, "when it was taken"))
        values.append(t0)
        exc = sys.exc_info()[1] if tb is None else None
        if exc is not None:
            manifest.append((W.M_EXTRA, "exc", None, "exception being handled"))
            values.append(exc)
        unstable, fixable, self._frozen = stdvalues.unstable_sets(manifest, values, is_user_file)
        if fixable:
            manifest.append((W.M_EXTRA, "setorders", None, "iteration order of sets"))
            values.append([(s, list(s)) for s in {id(s): s for s in fixable}.values()])
        self._frame_index = {id(f): i for i, (f, *_r) in enumerate(stack)}
        self._files = files
        blob = self._dump(manifest, values, placeholders)
        self._frame_index = {}
        top = next((fv for fv in reversed(fviews) if not fv["library"]), fviews[-1])
        threads = []
        main_thread = True
        thread_name, thread_stacks = "MainThread", []
        ident = main_ident = 0
        th = sys.modules.get("threading")
        if th is not None:
            cur = th.current_thread()
            main_thread = cur is th.main_thread()
            thread_name = cur.name
            ident, main_ident = th.get_ident(), th.main_thread().ident
            # (threads marked pyreplay_internal are the shim's own: control.py)
            threads = [t.name for t in th.enumerate() if t is not cur and t.is_alive()
                       and not getattr(t, "pyreplay_internal", False)]
            if threads:
                from . import threadviews
                thread_stacks = threadviews.stacks(th, cur)
        task = ""
        aio = sys.modules.get("asyncio")
        if aio is not None:
            try:
                t = aio.current_task()  # the task whose coroutines are on this stack
                task = t.get_name() if t is not None else ""
            except Exception:  # noqa: BLE001 - no running loop in this thread
                task = ""
        meta = {
            "threads": threads,
            "thread": thread_name,
            "thread_ident": ident,
            "main_ident": main_ident,
            "task": task,
            "thread_stacks": thread_stacks,
            "unstable_sets": unstable,
            "main_thread": main_thread,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "layout_error": self.layout_error,
            "has_exc": exc is not None,
            "hash_seed": self.hash_seed[0],
            "executable": sys.executable,
            "hash_seed_injected": self.hash_seed[1],
            "generators": self._generators,
            "modules": mods,
            "module_sources": module_sources,
            "argv": sys.argv,
        }
        # (views are trees this module built: no cycles to check for)
        fj = json.dumps(fviews, default=str, check_circular=False)
        gj = json.dumps(gviews, default=str, check_circular=False)
        pj = json.dumps(placeholders)
        mj = json.dumps(meta, default=str)
        db = self._db()
        sources = [(sha, fn) for fn, sha in files.items() if sha and sha not in self._stored]
        row = (self.run, reason, label or "", top["file"], top["line"], top["function"], t0, out_b, err_b, fj, gj, pj, mj)
        # a large state is written while the program goes on, unless
        # something reads the snapshot right away (a live session, CRIU's
        # image of it) or the program is ending (an uncaught exception)
        defer = self.defer_big and reason != "exception" and store.deferrable(blob)
        sid, stored = store.write_snapshot(db, self, row, blob, sources, defer, interval)
        self._stored.update(stored)
        self.count += 1
        return sid

    def _process_state(self):
        """What the program set up in its process that a resume restores:
        the recursion limit, sys.path, the working directory, the
        environment, its atexit functions and signal handlers."""
        st = {"recursionlimit": self.limit, "argv": sys.argv, "path": list(sys.path), "cwd": os.getcwd(),
              "environ": dict(os.environ), "atexit": list(atexit_calls)}
        handlers = {}
        sigmod = sys.modules.get("signal")
        if sigmod is not None:
            for sig in sigmod.valid_signals():
                try:
                    h = sigmod.getsignal(sig)
                except (ValueError, OSError):
                    continue
                code = getattr(h, "__code__", None)
                if code is not None and is_user_file(code.co_filename):
                    handlers[int(sig)] = h
        st["signals"] = handlers
        st["libraries"] = libstate.capture(self.program_filters)
        return st

    def _generator_hook(self, pickler, g):
        """Reduce a generator: a frame on the stack becomes a marker, a
        suspended one is recorded like a frame and rebuilt at its yield."""
        fr = g.gi_frame
        if fr is None:
            return (S.finished_generator, ())
        idx = self._frame_index.get(id(fr))
        if idx is not None:
            return (S.RunningGenerator, (idx,))
        if g.gi_running or getattr(g, "gi_yieldfrom", None) is not None:
            return None
        code = g.gi_code
        user = is_user_file(code.co_filename)
        # a library generator too (contextlib's @contextmanager generators,
        # a framework's iterators): rebuilt from its source in its module
        if not user and not _has_source(code.co_filename):
            return None
        k = len(self._generators)
        fn = abs_file(code.co_filename)
        sha, _ = self.source(fn)
        self._files[fn] = sha
        if F.V >= (3, 11):
            created = not g.gi_suspended
        else:
            created = fr.f_lasti < 0
        lasti = fr.f_lasti
        if F.V >= (3, 13) and not created and F.opname_at(code, lasti) == "RESUME":
            lasti = F.instr_offset(code, lasti - 2)
        slots, vstack, static = F.read(fr) if not self.layout_error else (dict(fr.f_locals), None, False)
        if vstack is not None and static and F.V >= (3, 11) and F.opname_at(code, lasti) == "YIELD_VALUE":
            vstack = vstack[:-1]
        fv = self._frame_view(fr, code, "created" if created else "suspended", lasti, fr.f_lineno, sha, slots, vstack)
        fv["function"] = getattr(g, "__qualname__", code.co_name)
        fv["library"] = not user
        fv["generator_index"] = k
        self._generators.append(fv)
        slots = {n: v for n, v in slots.items() if v is not F.NULL}
        return (S.make_generator, (k, slots, vstack))

    def _frame_view(self, f, code, kind, lasti, lineno, sha, slots, vstack):
        fv = _frame_fields(f, code, kind, lasti, lineno, sha, abs_file(code.co_filename), False, True, False)
        fv["locals"], fv["cells"] = _local_views(
            slots, code, lambda name, v: V._hidden(v) if V.redacted(name) else view(v))
        fv["stack"] = None if vstack is None else [view(x, 0) if x is not F.NULL else None for x in vstack]
        return fv

    def _dump(self, manifest, values, placeholders):
        forced = set()
        for _attempt in range(len(values) + 1):
            buf = store.Segments()
            del placeholders[:]
            self._generators = []
            # (the slower pickler that intercepts every object only when a
            # frozenset needs it)
            pickler = S.FrozenPickler if self._frozen else S.StatePickler
            p = pickler(buf, set(m[1] for m in manifest if m[0] == W.M_GLOBALS), placeholders)
            p.frozen = self._frozen
            p.generator_hook = self._generator_hook
            p.where = "manifest"
            failed = None
            try:
                p.dump([m[:3] for m in manifest])
                for i, (m, v) in enumerate(zip(manifest, values)):
                    p.where = m[3]
                    if i in forced:
                        v = S.Placeholder(m[3], S._typename(v), S._safe_repr(v, 80))
                        placeholders.append({"where": m[3], "type": S._typename(values[i]), "repr": S._safe_repr(values[i], 80),
                                             "why": "could not be pickled"})
                    failed = i
                    p.dump(v)
                failed = None
            except Exception:  # noqa: BLE001 - retry with this root as a placeholder
                if failed is None or failed in forced:
                    raise
                forced.add(failed)
                continue
            # the segments of the stream, large payloads by reference (store.py)
            return buf.finish()
        raise RuntimeError("snapshot state could not be serialised")
