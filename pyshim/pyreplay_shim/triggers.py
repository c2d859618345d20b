"""When snapshots are taken: breakpoints, function entry, periodic checkpoints.

Breakpoints cost nothing where they are not hit:
  3.12+  sys.monitoring: PY_START returns DISABLE for every code object that
         holds no breakpoint; LINE is enabled only on code objects that do,
         and returns DISABLE on their other lines.
  <=3.11 no global trace function: a hook call is compiled into the program's
         code before each breakpoint statement (the main script is compiled
         by the shim, other files through an import hook).
Periodic checkpoints (opt-in) arm a one-shot line event from a timer signal.
"""
import builtins
import os
import signal
import sys

from . import capture as C
from . import frames as F

V = sys.version_info[:2]

# A breakpoint line may run so close to the recursion limit that the shim's
# own calls hit it: that breakpoint is then skipped, and the program goes on
# exactly as without pyreplay. The handler must call nothing (any call would
# raise again), except on 3.8, where a caught RecursionError leaves an
# overflow flag set that allows 50 more frames: there the flag is fetched and
# cleared, as the last thing before returning to the program.
_OVERFLOW_FLAG = V < (3, 9)
# 3.8 and 3.9 also leave that flag set when C code swallows a RecursionError
# (a dict lookup, hasattr...), and the next overflow is then a fatal error:
# there breakpoints are not evaluated within 100 frames of the limit at all.
# The check is made inline in the hooks, with no call and no comparison
# (both count against the limit on 3.8/3.9; // and truth tests do not). It
# reads the main thread's depth counter: breakpoints hit in other threads are
# judged by the main thread's depth.
_ROOM = 100 if V < (3, 10) else 0


class _NoCounter:
    value = 0


_MAIN_DEPTH = _LIMIT = _NoCounter
if _ROOM:
    _MAIN_DEPTH, _LIMIT = F.recursion_depth(), F.recursion_limit()
    if _MAIN_DEPTH is None or _LIMIT is None:
        _ROOM, _MAIN_DEPTH, _LIMIT = 0, _NoCounter, _NoCounter


ast = None  # imported by _load_ast() when code is instrumented (<=3.11): most runs never need it


def _load_ast():
    global ast
    if ast is None:
        import ast as _ast
        ast = _ast


class BadBreakpoint(ValueError):
    """A breakpoint the shim cannot use; the message is for the user."""


class BP:
    __slots__ = ("file", "line", "hit", "cond", "func", "hits", "code")

    def __init__(self, d):
        self.file = d.get("file")
        self.line = d.get("line") or 0
        self.hit = d.get("hit") or 0
        self.cond = d.get("cond") or ""
        self.func = d.get("func") or ""
        self.hits = 0
        try:
            self.code = compile(self.cond, "<breakpoint condition>", "eval") if self.cond else None
        except SyntaxError as e:
            raise BadBreakpoint("breakpoint %r: the condition %r is not a Python expression (%s)"
                                % (d.get("spec") or self.cond, self.cond, e.msg))


class Triggers:
    def __init__(self, rec, cfg):
        self.rec = rec
        self.cfg = cfg
        self.lines = {}  # realpath -> {line: [BP]}
        self.funcs = {}  # qualname -> [BP]
        for d in cfg.get("breakpoints") or []:
            bp = BP(d)
            if bp.func:
                self.funcs.setdefault(bp.func, []).append(bp)
            else:
                self.lines.setdefault(os.path.realpath(bp.file), {}).setdefault(bp.line, []).append(bp)
        self.every = cfg.get("every") or 0
        self._rp = {}
        self.tool = None
        self.periodic_tool = None
        self.cond_errors = set()

    def realpath(self, fn):
        r = self._rp.get(fn)
        if r is None:
            r = os.path.realpath(C.abs_file(fn)) if not fn.startswith("<") else fn
            self._rp[fn] = r
        return r

    # ------------------------------------------------------------ hits
    def should_fire(self, bp, frame):
        bp.hits += 1
        if bp.hit and bp.hits != bp.hit:
            return False
        if bp.code is not None:
            try:
                return bool(eval(bp.code, frame.f_globals, dict(frame.f_locals)))
            except RecursionError:
                raise  # the program is at its recursion limit: see _OVERFLOW_FLAG
            except Exception as e:  # noqa: BLE001 - a bad condition is the user's, report once
                key = (bp.file, bp.line, bp.cond)
                if key not in self.cond_errors:
                    self.cond_errors.add(key)
                    C.output_bytes()
                    sys.stderr.write("pyreplay: breakpoint condition %r at %s:%d raised %s: %s\n"
                                     % (bp.cond, bp.file, bp.line, type(e).__name__, e))
                return False
        return True

    def fire_line(self, frame, line, kind):
        bps = self.lines.get(self.realpath(frame.f_code.co_filename), {}).get(line)
        if not bps:
            return False
        fire = False
        for bp in bps:
            if self.should_fire(bp, frame):
                fire = True
        if fire:
            self.rec.snapshot("breakpoint", "", frame, kind)
        return True

    def fire_func(self, frame, kind, qn=None):
        qn = qn or frame.f_code.co_qualname
        bps = self.funcs.get(qn)
        if not bps:
            return False
        fire = False
        for bp in bps:
            if self.should_fire(bp, frame):
                fire = True
        if fire:
            self.rec.snapshot("function", qn, frame, kind)
        return True

    # ------------------------------------------------------------ install
    def start(self):
        hits_file = self.cfg.get("hits_file")
        if hits_file:
            import atexit
            import json

            def dump():
                out = {}
                for rp, lines in self.lines.items():
                    for ln, bps in lines.items():
                        out["%s:%d" % (rp, ln)] = max(bp.hits for bp in bps)
                with open(hits_file, "w") as f:
                    json.dump(out, f)
            atexit.register(dump)
        if V >= (3, 12):
            self._start_monitoring()
        else:
            self._start_hooks()
        if self.every:
            self._start_periodic()

    def compile_file(self, src, filename):
        if V < (3, 12) and (self.realpath(filename) in self.lines or self.funcs):
            _load_ast()
            tree = ast.parse(src, filename)
            tree = self.instrument(tree, self.lines.get(self.realpath(filename), {}))
            return compile(tree, filename, "exec", dont_inherit=True)
        code = compile(src, filename, "exec", dont_inherit=True)
        if V >= (3, 12):
            self.instrument_code_312(code)
        return code

    # 3.12+ ----------------------------------------------------------
    def _start_monitoring(self):
        M = sys.monitoring
        self.M = M
        if not self.lines and not self.funcs:
            return
        for tid in (M.DEBUGGER_ID, 3, 4, 1):
            if M.get_tool(tid) is None:
                M.use_tool_id(tid, "pyreplay")
                self.tool = tid
                break
        if self.tool is None:
            return
        DISABLE = M.DISABLE
        E = M.events
        lines = self.lines
        funcs = self.funcs
        realpath = self.realpath
        tool = self.tool
        getframe = sys._getframe

        def on_start(code, offset):
            rp = realpath(code.co_filename)
            bl = lines.get(rp)
            if bl and not bl.keys().isdisjoint(_own_lines(code)):
                M.set_local_events(tool, code, M.get_local_events(tool, code) | E.LINE)
            if code.co_qualname in funcs and C.is_user_file(code.co_filename):
                try:
                    self.fire_func(getframe(1), "entry")
                except RecursionError:
                    if _OVERFLOW_FLAG:
                        flag = F.overflow_flag()
                        if flag is not None:
                            flag.value = b"\0"
                return None
            return DISABLE

        def on_line(code, line):
            try:
                if not self.fire_line(getframe(1), line, "line"):
                    return DISABLE
            except RecursionError:
                if _OVERFLOW_FLAG:
                    flag = F.overflow_flag()
                    if flag is not None:
                        flag.value = b"\0"
            return None

        M.register_callback(tool, E.PY_START, on_start)
        M.register_callback(tool, E.LINE, on_line)
        M.set_events(tool, E.PY_START)

    def instrument_code_312(self, code):
        """Enable LINE on ``code`` (and nested code) before it first runs."""
        if self.tool is None:
            return
        M = self.M
        bl = self.lines.get(self.realpath(code.co_filename))
        if not bl:
            return
        stack = [code]
        while stack:
            c = stack.pop()
            if not bl.keys().isdisjoint(_own_lines(c)):
                M.set_local_events(self.tool, c, M.get_local_events(self.tool, c) | M.events.LINE)
            stack.extend(k for k in c.co_consts if isinstance(k, type(code)))

    # <=3.11 ---------------------------------------------------------
    def _start_hooks(self):
        builtins.__pyreplay_bp__ = self._hook
        builtins.__pyreplay_fn__ = self._fn_hook
        if any(rp for rp in self.lines) or self.funcs:
            sys.meta_path.insert(0, _Finder(self))

    def _hook(self, line):
        if _ROOM:
            if (_MAIN_DEPTH.value + _ROOM) // _LIMIT.value:
                return
        try:
            self.fire_line(sys._getframe(1), line, "hook")
        except RecursionError:
            if _OVERFLOW_FLAG:
                flag = F.overflow_flag()
                if flag is not None:
                    flag.value = b"\0"

    def _fn_hook(self, qual):
        if _ROOM:
            if (_MAIN_DEPTH.value + _ROOM) // _LIMIT.value:
                return
        try:
            self.fire_func(sys._getframe(1), "hook", qual)
        except RecursionError:
            if _OVERFLOW_FLAG:
                flag = F.overflow_flag()
                if flag is not None:
                    flag.value = b"\0"

    def instrument(self, tree, lines):
        _load_ast()
        funcs = self.funcs
        want = set(lines)

        def hook_stmt(fn, args, like):
            call = ast.Call(func=ast.Name(id=fn, ctx=ast.Load()), args=args, keywords=[])
            e = ast.Expr(value=call)
            for n in (e, call, call.func) + tuple(args):
                ast.copy_location(n, like)
                n.end_lineno, n.end_col_offset = like.lineno, like.col_offset
            return e

        def visit_body(body, prefix, func_qual, kind="block"):
            # A docstring, and a module's __future__ imports, must stay first:
            # the hook for their lines goes right after them. A function's
            # docstring is not code at all (3.12+ never reports its line).
            head = 1 if kind != "block" and body and _is_doc(body[0]) else 0
            if kind == "module":
                while head < len(body) and isinstance(body[head], ast.ImportFrom) \
                        and body[head].module == "__future__":
                    head += 1
            new = []
            held = []
            seen = set()
            for i, st in enumerate(body):
                if st.lineno in want and st.lineno not in seen:
                    seen.add(st.lineno)
                    hook = hook_stmt("__pyreplay_bp__", [ast.Constant(value=st.lineno)], st)
                    if isinstance(st, (ast.Global, ast.Nonlocal)):
                        pass  # a declaration is not code (3.12+ never reports its line)
                    elif i >= head:
                        new.append(hook)
                    elif not (kind == "function" and i == 0):
                        held.append(hook)
                new.append(st)
                if i == head - 1:
                    new.extend(held)
                visit_stmt(st, prefix)
            if func_qual in funcs and body:
                at = 1 if _is_doc(body[0]) else 0
                new.insert(at, hook_stmt("__pyreplay_fn__", [ast.Constant(value=func_qual)], body[min(at, len(body) - 1)]))
            return new

        def visit_stmt(st, prefix):
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                q = prefix + st.name
                st.body = visit_body(st.body, q + ".<locals>.", q, "function")
                return
            if isinstance(st, ast.ClassDef):
                q = prefix + st.name
                st.body = visit_body(st.body, q + ".", None, "class")
                return
            for field in ("body", "orelse", "finalbody"):
                b = getattr(st, field, None)
                if isinstance(b, list) and b and isinstance(b[0], ast.stmt):
                    setattr(st, field, visit_body(b, prefix, None))
            for h in getattr(st, "handlers", []) or []:
                h.body = visit_body(h.body, prefix, None)
            for c in getattr(st, "cases", []) or []:
                c.body = visit_body(c.body, prefix, None)

        tree.body = visit_body(tree.body, "", None, "module")
        ast.fix_missing_locations(tree)
        return tree

    # periodic -------------------------------------------------------
    def _start_periodic(self):
        if V >= (3, 12):
            M = sys.monitoring
            for tid in (4, 3, 5, 1):
                if M.get_tool(tid) is None:
                    M.use_tool_id(tid, "pyreplay-periodic")
                    self.periodic_tool = tid
                    break

            def on_line(code, line):
                if not C.is_user_file(code.co_filename):
                    return None
                M.set_events(self.periodic_tool, 0)
                self.rec.snapshot("periodic", "", sys._getframe(1), "line")
                return None

            M.register_callback(self.periodic_tool, M.events.LINE, on_line)

            def arm(signum, frame):
                M.set_events(self.periodic_tool, M.events.LINE)
        else:
            def local(frame, event, arg):
                if event == "line" and C.is_user_file(frame.f_code.co_filename):
                    disarm()
                    self.rec.snapshot("periodic", "", frame, "line")
                    return None
                return local

            def glob(frame, event, arg):
                return local if C.is_user_file(frame.f_code.co_filename) else None

            armed = []

            def disarm():
                sys.settrace(None)
                for f in armed:
                    f.f_trace = None
                del armed[:]

            def arm(signum, frame):
                f = frame
                while f is not None:
                    if C.is_user_file(f.f_code.co_filename):
                        f.f_trace = local
                        f.f_trace_lines = True
                        armed.append(f)
                    f = f.f_back
                sys.settrace(glob)

        signal.signal(signal.SIGALRM, arm)
        signal.setitimer(signal.ITIMER_REAL, self.every, self.every)

        def stop():
            # registered first, so it runs after the program's own atexit
            # handlers; a SIGALRM during finalisation would kill the process
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
        import atexit
        atexit.register(stop)


def _own_lines(code):
    """The lines of a code object's own instructions (3.12+), nested code
    objects' not included: the only lines its LINE events can report. LINE
    is enabled only where one of them holds a breakpoint, so that other code
    of the file neither calls back once per line nor stays instrumented
    (0-2.5% slower after DISABLE: bench/drivers/monitoring_cost.py)."""
    return {ln for _, _, ln in code.co_lines() if ln is not None}


def _is_doc(st):
    return isinstance(st, ast.Expr) and isinstance(getattr(st, "value", None), ast.Constant) \
        and isinstance(st.value.value, str)


class _Finder:
    """Import hook (<=3.11): compile breakpoint files with their hooks."""

    def __init__(self, trig):
        self.trig = trig

    def find_spec(self, name, path, target=None):
        import importlib.machinery as mach
        spec = mach.PathFinder.find_spec(name, path, target)
        if spec is None or not isinstance(spec.loader, mach.SourceFileLoader):
            return None
        rp = os.path.realpath(spec.origin)
        if rp not in self.trig.lines and not (self.trig.funcs and C.is_user_file(spec.origin)):
            return None
        trig = self.trig
        # compile now: a file that does not compile is left to Python's own
        # import, so that its SyntaxError reads exactly as without pyreplay
        try:
            with open(spec.origin, "rb") as f:
                code = trig.compile_file(f.read(), spec.origin)
        except (SyntaxError, ValueError, OSError):
            return None

        class Loader(mach.SourceFileLoader):
            def source_to_code(self, data, path, *, _optimize=-1):
                return trig.compile_file(data, path)

            def get_code(self, fullname):
                # never use or write the cached bytecode of an instrumented file
                return code

        spec.loader = Loader(spec.loader.name, spec.loader.path)
        return spec
