"""Resuming a snapshot in a fresh process.

Go (reconstruct/) sends one generated chunk of Python per program frame,
with a map from generated lines and columns back to the original source.
Here the snapshot's state is unpickled (module globals first, so functions
and classes of the program exist again), every chunk is compiled under the
original file name with the original line numbers, each function chunk
becomes a resume function bound to the recorded cells, and the module
chunk runs: it calls the next frame's resume function where the original
call was in progress, and so on down to the innermost frame.
"""
import ast
import builtins
import functools
import operator
import os
import pickle
import sys
import types

from . import inputs
from . import capture as C
from . import frames as F
from . import process as P
from . import state as S
from . import wire as W
from . import store

V = sys.version_info[:2]

_IOPS = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


class _Once:
    """The one-shot loop that finishes a loop's interrupted iteration."""

    __slots__ = ("done",)

    def __init__(self):
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.done:
            raise StopIteration
        self.done = True
        return None


class _ExitCM:
    """Calls a recorded __exit__ when the resumed with-body ends; never enters."""

    __slots__ = ("exit",)

    def __init__(self, exit_):
        self.exit = exit_

    def __enter__(self):
        return None

    def __exit__(self, t, v, tb):
        return self.exit(t, v, tb)


class Runtime:
    """The helpers generated code calls, as builtins.__pyreplay_rt__ (their
    calls are formatted by reconstruct/helpers.go, one Go function each)."""

    def __init__(self):
        self.F = {}
        self.x = None
        self.locals = {}
        self.stacks = {}
        self.params = {}
        self.extras = {}
        self.gens = {}
        self.classns = {}
        self.codes = {}
        self.going = {}
        # the frame keys of the plan's generator chunks, in the order of the
        # snapshot's suspended generators (reconstruct/frame_generator.go)
        self.gen_keys = []
        # the frames whose class call a caller's chunk completes (init):
        # their instance, kept past release() until init takes it
        self.init_frames = set()
        self.inits = {}

    def L(self, i, name):
        return self.locals[i][name]

    def S(self, i, j):
        """Stack item j of frame i, read once by its frame's code (at its
        rebuild, or when a loop interrupted by the call in progress goes
        on): then forgotten, as only the frame holds it (release)."""
        st = self.stacks[i]
        v, st[j] = st[j], None
        return v

    def A(self, i, k):
        name, is_cell = self.params[i][k]
        v = self.locals[i][name]
        if is_cell and type(v) is S.CellType:
            try:
                return v.cell_contents
            except ValueError:
                return None
        return v

    def once(self):
        return _Once()

    # 3.8/3.9: whether the rest of an interrupted iteration ended without a
    # break, so that its loop goes on (reconstruct/loop.go, wrapLoop)
    def enter(self, i, k):
        self.going[(i, k)] = False

    def fall(self, i, k):
        self.going[(i, k)] = True

    def ran(self, i, k):
        return self.going.pop((i, k))

    def arrive(self, line):
        """The innermost frame is at its recorded position: from here on,
        line events are the program's (Triggers.rebuilding), but for the
        one at ``line`` that comes next, the snapshot's own."""
        self.trig.arrived(sys._getframe(1), line)
        self.release()

    def release(self):
        """The rebuild is over: the recorded values it read go, so that
        nothing but the program holds them, as in the original run (a
        generator dropped then closes then, a file left open is flushed
        and closed when its frame ends, __del__ and weakref callbacks run
        when they did). Kept: what generated code reads once a call in
        progress returns: an __init__ frame's instance (init), a class
        body's __class__ cell (classfix), the 3.8/3.9 loop flags (ran),
        the stack items not read yet (S forgets each as it is read), a
        generator not started yet's locals (read when it starts)."""
        self.inits = {i: self.A(i, 0) for i in self.init_frames if i in self.locals and self.params.get(i)}
        unstarted = {k for k in self.gen_keys if not self.codes[k][0].get("primed")}
        self.locals = {i: (loc if i in unstarted else {"__class__": loc["__class__"]})
                       for i, loc in self.locals.items() if i in unstarted or "__class__" in loc}
        self.gens = {}
        self.extras = {}
        self.F = {}  # (the resume functions: their closures hold the frames' cells)

    def exitcm(self, i, j):
        return _ExitCM(self.stacks[i][j])

    def exc(self):
        return self.extras["exc"]

    def handled(self, i, j):
        return self.stacks[i][j]

    def init(self, i, result):
        if result is not None:
            raise TypeError("__init__() should return None, not '%s'" % type(result).__name__)
        return self.inits.pop(i)

    def callee(self, i, base, n):
        items = self.stacks[i][base:base + n]
        if n == 1:
            return items[0]
        a, b = items
        if a is F.NULL:
            return b
        if b is F.NULL:
            return a
        get = getattr(type(a), "__get__", None)
        if get is not None:
            return get(a, b, type(b))
        return functools.partial(a, b)

    def class_ns(self, i, ns):
        """Fill a class body's namespace with what it held at the snapshot."""
        for k, v in self.classns.get(i, {}).items():
            if k not in ("__module__", "__qualname__"):
                ns[k] = v

    def classfix(self, i):
        """Point the recorded __class__ cell (used by super() in methods
        defined before the snapshot) at the class once it exists."""
        def fix(cls):
            cell = self.locals.get(i, {}).get("__class__")
            if type(cell) is S.CellType:
                cell.cell_contents = cls
            return cls
        return fix

    def iop(self, op, a, b):
        return _IOPS[op](a, b)

    def function(self, key):
        """The resume function of a frame, bound to its recorded cells."""
        ch, code = self.codes[key]
        frame_locals = self.locals.get(key, {})
        closure = []
        for name in code.co_freevars:
            v = frame_locals.get(name, F.NULL)
            if type(v) is S.CellType:
                closure.append(v)
            elif v is F.NULL:
                closure.append(S.CellType())
            else:
                closure.append(S.CellType(v))
        fn = types.FunctionType(code, _globals_of(ch), ch["name"], None, tuple(closure))
        fn.__qualname__ = ch["qualname"]
        return fn

    def imp(self, key):
        """Finish the top-level code of a module whose import was in
        progress, as importlib would: on failure the module leaves
        sys.modules; on success its parent package gets the attribute."""
        ch, code = self.codes[key]
        name = ch["module"]
        try:
            exec(code, S.module_ns(name))
        except BaseException:
            sys.modules.pop(name, None)
            raise
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules and name in sys.modules:
            setattr(sys.modules[parent], child, sys.modules[name])
        spec = sys.modules[name].__dict__.get("__spec__") if name in sys.modules else None
        if spec is not None and getattr(spec, "_initializing", False):
            spec._initializing = False

    def args(self, key):
        return [self.A(key, k) for k in range(len(self.params.get(key, ())))]

    def make_generator(self, k, slots, stack):
        """A suspended generator, rebuilt and advanced to its yield."""
        key = self.gen_keys[k]
        self.locals[key] = slots
        self.stacks[key] = stack or []
        fn = self.function(key)
        g = fn(*self.args(key))
        if self.codes[key][0].get("primed"):
            next(g)
        return g

    def G(self, key):
        """The rebuilt generator of a generator frame on the stack."""
        g = self.gens.get(key)
        if g is None:
            g = self.F[key](*self.args(key))
            self.gens[key] = g
        return g

    def replace_running(self):
        """Swap the markers of generators whose frames were on the stack."""
        def fix(d):
            for k, v in list(d.items()) if isinstance(d, dict) else enumerate(d):
                if type(v) is S.RunningGenerator:
                    d[k] = self.G(v.frame)
        for d in self.locals.values():
            fix(d)
        for st in self.stacks.values():
            fix(st)
        for ns in list(S._module_registry.values()):
            fix(ns.__dict__)


def _globals_of(ch):
    """The namespace a chunk runs in: a library module's own (imported as
    usual: its state is not part of the snapshot), else the restored module
    of the program."""
    if ch.get("library"):
        import importlib
        return importlib.import_module(ch["module"]).__dict__
    return S.module_ns(ch["module"])


def _remap(tree, maps):
    """Give every node the original line and column it came from."""

    def conv(line, col, end):
        if line is None or line < 1 or line > len(maps):
            return line, col
        segs = maps[line - 1]
        seg = segs[0]
        for s in segs:
            if s["g"] <= col:
                seg = s
            else:
                break
        return seg["l"], max(0, col - seg["d"])

    for node in ast.walk(tree):
        if "lineno" in node._attributes and hasattr(node, "lineno"):
            node.lineno, node.col_offset = conv(node.lineno, node.col_offset, False)
            if getattr(node, "end_lineno", None) is not None:
                node.end_lineno, node.end_col_offset = conv(node.end_lineno, node.end_col_offset, True)
                if node.end_lineno < node.lineno:
                    node.end_lineno = node.lineno
                if node.end_lineno == node.lineno and node.end_col_offset < node.col_offset:
                    node.end_col_offset = node.col_offset
    return tree


def _rewrite_qualnames(code, old, new):
    consts = []
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            c = _rewrite_qualnames(c, old, new)
        elif isinstance(c, str) and (c == old or c.startswith(old + ".")):
            c = new + c[len(old):]
        consts.append(c)
    kw = {"co_consts": tuple(consts)}
    if V >= (3, 11):
        q = code.co_qualname
        if q == old or q.startswith(old + "."):
            kw["co_qualname"] = new + q[len(old):]
    return code.replace(**kw)


def _find_code(code, path):
    for name in path:
        for c in code.co_consts:
            if isinstance(c, types.CodeType) and c.co_name == name:
                code = c
                break
        else:
            raise RuntimeError("generated code for %s not found" % ".".join(path))
    return code


def _load_state(cfg, rt):
    up = S.StateUnpickler(store.read_state(cfg["db"], cfg["snap"], bytes.fromhex(cfg.get("key") or "")))
    manifest = up.load()
    for entry in manifest:
        v = up.load()
        kind = entry[0]
        if kind == W.M_LOCAL:
            rt.locals.setdefault(entry[1], {})[entry[2]] = v
        elif kind == W.M_STACK:
            st = rt.stacks.setdefault(entry[1], [])
            while len(st) <= entry[2]:
                st.append(None)
            st[entry[2]] = v
        elif kind == W.M_EXTRA:
            rt.extras[entry[1]] = v
        elif kind == W.M_GLOBAL:
            S.module_ns(entry[1])[entry[2]] = v
        elif kind == W.M_NAMESPACE:
            rt.classns[entry[1]] = v


def _restore_process(st):
    """Give the process what the program had set up: limit, path, cwd,
    environment, atexit functions, signal handlers."""
    if not st:
        return
    if st.get("argv") is not None:
        # exact, from the state (the JSON the argv came in as has no
        # surrogate escapes: non-UTF-8 bytes of the command line)
        sys.argv = st["argv"]
    sys.path[:] = st["path"]
    try:
        os.chdir(st["cwd"])
    except OSError:
        pass
    os.environ.clear()
    os.environ.update(st["environ"])
    import atexit
    for func, args, kwargs in st["atexit"]:
        atexit.register(func, *args, **kwargs)
    from . import libstate
    libstate.restore(st.get("libraries") or {})
    if st["signals"]:
        import signal
        for sig, h in st["signals"].items():
            signal.signal(sig, h)


def run(cfg, rec, trig):
    res = cfg["resume"]
    want = res.get("python")
    have = "%d.%d" % sys.version_info[:2]
    if want and want != have:
        P.fail(cfg, "snap-%d was recorded with Python %s and cannot be resumed by Python %s; pass --python with a %s interpreter"
             % (cfg["snap"], res.get("python_full", want), sys.version.split()[0], want))
    # the stack's rebuild is not the program's execution (Runtime.arrive)
    trig.rebuilding = True
    trace_out = os.environ.get("PYREPLAY_TRACE_LINES")
    if trace_out:
        from . import linelog
        linelog.install(trace_out, trig)
    if res.get("history"):
        # re-executing up to a later stop for its line history (linehistory.py)
        from . import linehistory
        linehistory.install(res["history"], trig, rec)
    sys.argv = list(cfg["argv"])
    if res.get("path0"):
        sys.path[0] = res["path0"]
    if cfg.get("program"):
        P.main_module(cfg["program"])
    else:
        m = types.ModuleType("__main__")
        sys.modules["__main__"] = m
    S._module_registry.clear()
    S.compile_file = trig.compile_file
    rt = Runtime()
    rt.trig = trig
    plan = res["plan"]
    for ch in plan["chunks"]:
        rt.params[ch["frame"]] = [(a["name"], a["cell"]) for a in (ch.get("args") or [])]
        if ch["kind"] == "generator":
            rt.gen_keys.append(ch["frame"])
        for other in plan["chunks"]:
            # (reconstruct/helpers.go rtInit: the one place that writes it)
            if "__pyreplay_rt__.init(%d, " % ch["frame"] in other["source"]:
                rt.init_frames.add(ch["frame"])
    trig.start()
    # compile every chunk first: suspended generators are rebuilt while the
    # state loads, and need their code
    codes = {}
    try:
        for ch in plan["chunks"]:
            tree = ast.parse(ch["source"], ch["file"])
            _remap(tree, ch["map"])
            code = trig.compile_tree(tree, ch["file"])
            if ch["kind"] not in ("module", "import"):
                code = _find_code(code, ch["codepath"])
                code = _rewrite_qualnames(code, ch["compiled"], ch["qualname"])
            codes[ch["frame"]] = (ch, code)
    except SyntaxError as e:
        P.fail(cfg, "the generated code for snap-%d does not compile (%s at line %s); this is a pyreplay bug"
             % (cfg["snap"], e.msg, e.lineno))
    builtins.__pyreplay_rt__ = rt
    rt.codes = codes
    S.generator_factory = rt.make_generator
    try:
        _load_state(cfg, rt)
    except Exception as e:  # noqa: BLE001 - report, don't run anything
        P.fail(cfg, "cannot resume snap-%d: its state cannot be restored (%s: %s)" % (cfg["snap"], type(e).__name__, e))
    rnd = rt.extras.get("random")
    if rnd is not None:
        import random
        random.setstate(rnd)
    _restore_process(rt.extras.get("process"))
    # a re-execution's outside inputs: the recorded ones from here (inputs.py)
    inputs.begin(cfg["db"], bytes.fromhex(cfg.get("key") or ""), rt.extras.get("inputs"), rt.extras.get("taken"))
    for s, order in rt.extras.get("setorders") or ():
        if not S.reorder_set(s, order):
            P.fail(cfg, "cannot resume snap-%d: a set (%s...) iterates in an order this process cannot reproduce"
                 % (cfg["snap"], repr(order[:3])[:60]))
    if res.get("edits"):
        from . import edits
        try:
            edits.apply(res["edits"], trig)
        except Exception as e:  # noqa: BLE001 - report, don't run anything
            P.fail(cfg, "cannot resume snap-%d into the edited source: %s: %s" % (cfg["snap"], type(e).__name__, e))
    module_code = module_ns = None
    try:
        for key, (ch, code) in codes.items():
            if ch["kind"] == "module":
                module_code, module_ns = code, S.module_ns(ch["module"])
            elif ch["kind"] == "function":
                rt.F[key] = rt.function(key)
        rt.replace_running()
    except Exception as e:  # noqa: BLE001
        P.fail(cfg, "cannot rebuild the frames of snap-%d: %s: %s" % (cfg["snap"], type(e).__name__, e))
    C.register_resume_codes(_Once, _ExitCM)
    limit = sys.getrecursionlimit()
    P.hide_shim_depth(P.shim_depth(True))
    sys.setrecursionlimit((rt.extras.get("process") or {}).get("recursionlimit", limit))
    try:
        if plan.get("run_main"):
            # the package `python -m` was importing finishes, then runpy
            # finds and runs the module as __main__, as it was about to
            import runpy
            rt.imp(plan["first"])
            runpy._run_module_as_main(cfg["module"], alter_argv=True)
        else:
            exec(module_code, module_ns)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        P.report_uncaught(rec, e)

