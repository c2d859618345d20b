"""When snapshots are taken: breakpoints, function entry, periodic checkpoints.

A line breakpoint is hit at every line event CPython reports for its line
(the events sys.settrace and pdb see): each iteration at a loop header,
each call of a lambda, each iteration of a comprehension or generator
expression, except and finally lines, decorated def lines. Which lines can
be hit is codelines.py's answer (the line tables). Breakpoints cost nothing
until a code object holding one runs:
  3.12+  sys.monitoring: PY_START returns DISABLE for every code object that
         holds no breakpoint; LINE and JUMP are enabled only on code objects
         that do. LINE is settrace's line event; a backward jump within one
         line (a one-line loop, an inlined comprehension) is one more, as
         for settrace; 3.13's settrace also reports the first line of a code
         object whose RESUME is on that same line, which LINE does not.
  <=3.11 a hook call compiled in at the start of each function, class body
         and module that holds a breakpoint line (its own, or one of its
         lambdas' and comprehensions') turns sys.settrace on for the thread
         while such a frame is live (suspended generators included); the
         trace function traces only code objects holding breakpoint lines,
         and CPython reports their line events.
The main script is compiled by the shim, other files through an import hook.
Periodic checkpoints (opt-in) come from periodic.py: a thread of the shim arms a
one-shot line event, with no signal or timer the program could own.
"""
import builtins
import os
import sys
import threading
import weakref

from . import paths
from .output import output_bytes
from . import codelines as L
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


def _note_overflow():
    """A callback of the shim's overflowed at the program's recursion limit:
    say so to the interpreter's overflow flag (see _OVERFLOW_FLAG)."""
    flag = F.overflow_flag()
    if flag is not None:
        flag.value = b"\0"


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
        self.cond_errors = set()
        # True while a resume rebuilds the stack: the line events of the
        # rebuild (each caller's call line, a loop header the rebuild
        # re-enters) are not the program's, so they neither count as hits
        # nor stop; the innermost frame's arrival at its recorded position
        # (Runtime.arrive) clears it
        self.rebuilding = False
        # (frame, line) of the innermost frame's arrival: its first line
        # event there is the snapshot's own, reported when it was taken
        self.arrival = None
        self.on_arrival = []

    def realpath(self, fn):
        r = self._rp.get(fn)
        if r is None:
            r = os.path.realpath(paths.abs_file(fn)) if not fn.startswith("<") else fn
            self._rp[fn] = r
        return r

    # ------------------------------------------------------------ hits
    def should_fire(self, bp, frame):
        """The one firing rule (record, dap, tui): a line event counts as a
        hit of bp when its condition holds there (debugpy's rule); @K fires
        at the K-th hit."""
        if bp.code is not None:
            try:
                if not eval(bp.code, frame.f_globals, dict(frame.f_locals)):
                    return False
            except RecursionError:
                raise  # the program is at its recursion limit: see _OVERFLOW_FLAG
            except Exception as e:  # noqa: BLE001 - a bad condition is the user's, report once
                key = (bp.file, bp.line, bp.cond)
                if key not in self.cond_errors:
                    self.cond_errors.add(key)
                    self.say("pyreplay: breakpoint condition %r at %s:%d raised %s: %s\n"
                             % (bp.cond, bp.file, bp.line, type(e).__name__, e))
                return False
        bp.hits += 1
        return not bp.hit or bp.hits == bp.hit

    def say(self, text):
        output_bytes()
        sys.stderr.write(text)

    def arrived(self, frame, line):
        """The rebuild is over: ``frame`` is at the recorded position, where
        its next line event at ``line`` (0: none, a function's entry) is the
        snapshot's own."""
        self.rebuilding = False
        self.arrival = (frame, line) if line else None
        for cb in self.on_arrival:
            cb(frame, line)

    # the arrival at the recorded position and the rebuild of a resumed
    # stack are not breakpoint hits; a live session (control.py) has always
    # stopped there all the same
    skip_rebuild = True

    def fire_line(self, frame, line, kind):
        if self.skip_rebuild and self.arrival is not None:
            a, self.arrival = self.arrival, None
            if a[0] is frame and a[1] == line:
                return True
        bps = self.lines.get(self.realpath(frame.f_code.co_filename), {}).get(line)
        return self.reach(bps, frame, kind, "breakpoint", "")

    def fire_func(self, frame, kind, qn=None):
        qn = qn or frame.f_code.co_qualname
        return self.reach(self.funcs.get(qn), frame, kind, "function", qn)

    def reach(self, bps, frame, kind, reason, label):
        """The one firing rule, for both mechanisms (monitoring and hooks)
        and both breakpoint kinds: a breakpoint location was reached (bps:
        the breakpoints there); returns whether there is one. Every
        breakpoint there is counted (fired), then hit() acts on them."""
        if not bps:
            return False
        if not (self.skip_rebuild and self.rebuilding):
            self.hit(bps, frame, kind, reason, label)
        return True

    def fired(self, bps, frame):
        """The breakpoints of bps that fire now (each one's hits counted)."""
        return [bp for bp in bps if self.should_fire(bp, frame)]

    def hit(self, bps, frame, kind, reason, label):
        """Recording: a snapshot when any of bps fires."""
        if self.fired(bps, frame):
            self.rec.snapshot(reason, label, frame, kind)

    # ------------------------------------------------------------ install
    def start(self):
        if V >= (3, 12):
            self._start_monitoring()
        else:
            self._start_hooks()
        if self.every:
            # no signal or timer the program could own (periodic.py)
            from . import periodic
            periodic.start(self.rec, self.every)

    def compile_file(self, src, filename):
        if V < (3, 12) and (self.realpath(filename) in self.lines or self.funcs):
            _load_ast()
            return self.compile_tree(ast.parse(src, filename), filename)
        code = compile(src, filename, "exec", dont_inherit=True)
        if V >= (3, 12):
            self.instrument_code_312(code)
        return code

    def compile_tree(self, tree, filename):
        """Compile a module's syntax tree (the program's, or the code that
        resumes it) with what its breakpoints need."""
        bl = self.lines.get(self.realpath(filename), {})
        if V < (3, 12) and (bl or self.funcs):
            tree = self.instrument(tree, bl)
        code = compile(tree, filename, "exec", dont_inherit=True)
        if V >= (3, 12):
            self.instrument_code_312(code)
        else:
            if bl:
                self.add_bp_codes(code, bl)
            if self.funcs:
                self._fn_codes.update(_fn_hooked(code))
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
        first_line = _first_line_313 if V >= (3, 13) else None
        # 3.13: (frame, offset) of a first line reported at PY_START; LINE
        # reports it too in some frames (not in others): that one is the same event
        started = [None]

        def guarded(fn, *args):
            try:
                return fn(*args)
            except RecursionError:
                if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                    _note_overflow()

        def on_start(code, offset):
            # at the recursion limit the callback's own work can overflow:
            # the breakpoint is skipped and the program overflows where it
            # would without pyreplay
            try:
                return start(code, offset)
            except RecursionError:
                if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                    _note_overflow()
                return None

        def start(code, offset):
            bl = lines.get(realpath(code.co_filename))
            held = bool(bl) and not bl.keys().isdisjoint(L.own_lines(code))
            if held:
                M.set_local_events(tool, code, M.get_local_events(tool, code) | E.LINE | E.JUMP)
                if first_line is not None:
                    ln, off = first_line(code)
                    if ln in bl:
                        frame = getframe(2)
                        started[0] = (frame, off)
                        guarded(self.fire_line, frame, ln, "entry")
            if code.co_qualname in funcs and paths.is_user_file(code.co_filename):
                guarded(self.fire_func, getframe(2), "entry")
                return None
            return None if held and first_line is not None else DISABLE

        def on_line(code, line):
            try:
                return line_event(code, line)
            except RecursionError:
                return None

        def line_event(code, line):
            frame = getframe(2)
            if started[0] is not None:
                s, started[0] = started[0], None
                if s[0] is frame and frame.f_lasti == s[1]:
                    return None
            if guarded(self.fire_line, frame, line, "line") is False:
                return DISABLE
            return None

        def on_jump(code, src, dst):
            # settrace's line event for a backward jump within one line
            if dst > src:
                return DISABLE
            line = _line_at(code, dst)
            if line is None or line != _line_at(code, src):
                return DISABLE
            if guarded(self.fire_line, getframe(1), line, "line") is False:
                return DISABLE
            return None

        M.register_callback(tool, E.PY_START, on_start)
        M.register_callback(tool, E.LINE, on_line)
        M.register_callback(tool, E.JUMP, on_jump)
        M.set_events(tool, E.PY_START)

    def instrument_code_312(self, code):
        """Enable LINE and JUMP on ``code`` (and nested code) that holds
        breakpoint lines, before it first runs."""
        if self.tool is None:
            return
        M = self.M
        bl = self.lines.get(self.realpath(code.co_filename))
        if not bl:
            return
        for c in L.walk(code):
            if not bl.keys().isdisjoint(L.own_lines(c)):
                M.set_local_events(self.tool, c, M.get_local_events(self.tool, c) | M.events.LINE | M.events.JUMP)

    # <=3.11 ---------------------------------------------------------
    def _start_hooks(self):
        self._bp_codes = {}  # id(code) -> code: code objects whose own lines hold a breakpoint
        self._tl = threading.local()  # .live: this thread's traced frames (sys.settrace is per thread)
        # id(code) -> qualname of code compiled with a function breakpoint's
        # hook: while tracing is on, its call event fires the breakpoint
        # before the first line event, as on 3.12+ (the hook then skips)
        self._fn_codes = {}
        self._fn_done = set()
        # the program sees no trace function of pyreplay's (it may well
        # print or test sys.gettrace()); the shim asks _gettrace
        sys.gettrace = _program_gettrace
        builtins.__pyreplay_enter__ = self._enter
        builtins.__pyreplay_gen__ = self._gen
        builtins.__pyreplay_fn__ = self._fn_hook
        if any(rp for rp in self.lines) or self.funcs:
            sys.meta_path.insert(0, _Finder(self))

    def add_bp_codes(self, code, bl):
        """Register the code objects of ``code`` whose own lines hold one of
        the breakpoint lines ``bl``."""
        for c in L.walk(code):
            if not bl.keys().isdisjoint(L.own_lines(c)):
                self._bp_codes[id(c)] = c

    def holds_bp(self, code):
        return id(code) in self._bp_codes

    def live_frames(self):
        live = getattr(self._tl, "live", None)
        if live is None:
            live = self._tl.live = set()
        return live

    def tracers(self):
        """The (global, local) trace functions breakpoint frames run under."""
        return self._tglobal, self._tlocal

    def _enter(self):
        """The hook at the start of a code object holding breakpoint lines."""
        frame = sys._getframe(1)
        if frame.f_trace is not None:
            return  # traced since its call: CPython has reported this line
        if _ROOM:
            if (_MAIN_DEPTH.value + _ROOM) // _LIMIT.value:
                return
        try:
            self.trace_frame(frame)
            # the hook's line event came before tracing was on: it is this one
            self.fire_line(frame, frame.f_lineno, "hook")
        except RecursionError:
            if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                _note_overflow()

    def _gen(self, gen):
        """The hook around a generator expression holding breakpoint lines:
        it may run after the frame that made it has returned, so tracing
        stays on from its creation until it ends (or is collected unstarted)."""
        frame = gen.gi_frame
        if frame is not None:
            live = self.live_frames()
            live.add(frame)
            weakref.finalize(gen, live.discard, frame)
            if _gettrace() is None:
                sys.settrace(self.tracers()[0])
        return gen

    def trace_frame(self, frame):
        """Trace ``frame`` (of this thread) and the breakpoint code objects
        it calls until it and every other such frame have returned."""
        glob, local = self.tracers()
        self.live_frames().add(frame)
        frame.f_trace = local
        frame.f_trace_lines = True
        if _gettrace() is None:
            sys.settrace(glob)

    def _tglobal(self, frame, event, arg):
        try:
            return self._tlocal if self.call_event(frame) else None
        except RecursionError:
            # at the recursion limit: this frame is not traced (its
            # breakpoints skipped) and the program overflows where it would
            if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                _note_overflow()
            return None

    def call_event(self, frame):
        """A frame starts or resumes while tracing is on: fire its function
        breakpoint at its start; whether it holds breakpoint lines."""
        q = self._fn_codes.get(id(frame.f_code))
        if q is not None and _not_started(frame):
            self._fn_done.add(frame)
            try:
                self.fire_func(frame, "entry", q)
            except RecursionError:
                if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                    _note_overflow()
        if id(frame.f_code) in self._bp_codes:
            self.live_frames().add(frame)
            return True
        return False

    def _tlocal(self, frame, event, arg):
        # returns the frame's trace function as it is now: a stop may have
        # handed the frame to the stepping tracer (Control.retrace)
        if event == "line":
            if _ROOM:
                if (_MAIN_DEPTH.value + _ROOM) // _LIMIT.value:
                    return frame.f_trace
            try:
                self.fire_line(frame, frame.f_lineno, "line")
            except RecursionError:
                if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                    _note_overflow()
        elif event == "return":
            self.left(frame)
        return frame.f_trace

    def left(self, frame):
        """``frame`` returned or yielded: a suspended generator stays traced;
        tracing stops when no breakpoint frame of the thread is live."""
        if frame.f_code.co_flags & 0x2a0 and F.opname_at(frame.f_code, frame.f_lasti) in ("YIELD_VALUE", "YIELD_FROM"):
            return
        live = self.live_frames()
        live.discard(frame)
        if not live and _gettrace() == self._tglobal:
            sys.settrace(None)

    def retake(self, frame):
        """Another trace function (stepping, a periodic checkpoint) has
        ended at ``frame``: breakpoint frames of this thread still live are
        traced again."""
        live = self.live_frames()
        if not live:
            return
        f = frame
        while f is not None:
            if f in live:
                f.f_trace = self._tlocal
                f.f_trace_lines = True
            f = f.f_back
        sys.settrace(self._tglobal)

    def _fn_hook(self, qual):
        frame = sys._getframe(1)
        if frame in self._fn_done:
            self._fn_done.discard(frame)
            return
        if _ROOM:
            if (_MAIN_DEPTH.value + _ROOM) // _LIMIT.value:
                return
        try:
            self.fire_func(frame, "hook", qual)
        except RecursionError:
            if _OVERFLOW_FLAG:  # (3.8; a call more at the limit is safe only there)
                _note_overflow()

    def instrument(self, tree, lines):
        """Put ``__pyreplay_enter__()`` first in each body (function, class,
        module) that owns a breakpoint line (in its own statements, lambdas
        and comprehensions, not in nested functions and classes), with the
        line of the statement it precedes; ``__pyreplay_fn__`` first in
        functions with a function breakpoint. A lambda on a breakpoint line
        becomes ``lambda ...: __pyreplay_enter__() or BODY`` and a generator
        expression ``__pyreplay_gen__(GENEXPR)``: both may run after the
        frame that made them has returned."""
        _load_ast()
        funcs = self.funcs
        want = set(lines)

        def hook_call(fn, args, like):
            call = ast.Call(func=ast.Name(id=fn, ctx=ast.Load()), args=args, keywords=[])
            for n in (call, call.func):
                ast.copy_location(n, like)
                n.end_lineno, n.end_col_offset = like.lineno, like.col_offset
            return call

        def hook_stmt(fn, args, like):
            call = hook_call(fn, args, like)
            for a in args:
                ast.copy_location(a, like)
                a.end_lineno, a.end_col_offset = like.lineno, like.col_offset
            return ast.copy_location(ast.Expr(value=call), call)

        def holds(n):
            return not want.isdisjoint(range(n.lineno, n.end_lineno + 1))

        class Escaping(ast.NodeTransformer):
            def visit_Lambda(self, n):
                self.generic_visit(n)
                if holds(n):
                    b = n.body
                    n.body = ast.copy_location(ast.BoolOp(op=ast.Or(), values=[hook_call("__pyreplay_enter__", [], b), b]), b)
                return n

            def visit_GeneratorExp(self, n):
                self.generic_visit(n)
                if holds(n):
                    call = hook_call("__pyreplay_gen__", [n], n)
                    call.end_lineno, call.end_col_offset = n.end_lineno, n.end_col_offset
                    return call
                return n

        if want:
            tree = Escaping().visit(tree)

        def owned(node):
            """The lines of node's body that run in its own code objects."""
            out = set()
            stack = list(node.body)
            while stack:
                n = stack.pop()
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    # its decorators, defaults, bases and def line run here
                    out.add(n.lineno)
                    for d in n.decorator_list:
                        out.update(range(d.lineno, d.end_lineno + 1))
                    stack.extend(getattr(n, "bases", ()) or ())
                    stack.extend(getattr(n, "keywords", ()) or ())
                    if not isinstance(n, ast.ClassDef):
                        stack.append(n.args)
                        if n.returns is not None:
                            stack.append(n.returns)
                    continue
                ln = getattr(n, "lineno", None)
                if ln is not None:
                    out.update(range(ln, (getattr(n, "end_lineno", None) or ln) + 1))
                stack.extend(ast.iter_child_nodes(n))
            return out

        def visit_body(body, prefix, func_qual, kind, node):
            # a docstring, and a module's __future__ imports, must stay first
            head = 1 if body and _is_doc(body[0]) else 0
            if kind == "module":
                while head < len(body) and isinstance(body[head], ast.ImportFrom) \
                        and body[head].module == "__future__":
                    head += 1
            for st in body:
                visit_stmt(st, prefix)
            at = min(head, len(body) - 1)
            if want and head < len(body) and not want.isdisjoint(owned(node)):
                if head == 1 and kind != "function":
                    # a module's or class's docstring is the store of
                    # __doc__, with its line event: made that explicitly,
                    # the hook can come first and see that event
                    d = body[0]
                    body[0] = ast.copy_location(ast.Assign(targets=[ast.copy_location(
                        ast.Name(id="__doc__", ctx=ast.Store()), d)], value=d.value), d)
                    head = at = 0
                body.insert(head, hook_stmt("__pyreplay_enter__", [], body[head]))
            if func_qual in funcs and body:
                body.insert(at, hook_stmt("__pyreplay_fn__", [ast.Constant(value=func_qual)], body[at]))
            return body

        def visit_stmt(st, prefix):
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                q = prefix + st.name
                st.body = visit_body(st.body, q + ".<locals>.", q, "function", st)
                return
            if isinstance(st, ast.ClassDef):
                q = prefix + st.name
                st.body = visit_body(st.body, q + ".", None, "class", st)
                return
            for field in ("body", "orelse", "finalbody"):
                b = getattr(st, field, None)
                if isinstance(b, list) and b and isinstance(b[0], ast.stmt):
                    for x in b:
                        visit_stmt(x, prefix)
            for h in getattr(st, "handlers", []) or []:
                for x in h.body:
                    visit_stmt(x, prefix)
            for c in getattr(st, "cases", []) or []:
                for x in c.body:
                    visit_stmt(x, prefix)

        tree.body = visit_body(tree.body, "", None, "module", tree)
        ast.fix_missing_locations(tree)
        return tree


def _not_started(frame):
    """<=3.11, at a call event: whether the frame starts (not a generator
    resuming): f_lasti is -1 before 3.11, then at RESUME with argument 0."""
    la = frame.f_lasti
    if la < 0:
        return True
    co = frame.f_code.co_code
    return V >= (3, 11) and F.opname_at(frame.f_code, la) == "RESUME" and co[la + 1] == 0


def _fn_hooked(code):
    """{id(c): qualname} for the code objects in ``code`` that start with a
    function breakpoint's hook call."""
    import dis
    out = {}
    for c in L.walk(code):
        if "__pyreplay_fn__" in c.co_names:
            ins = list(dis.get_instructions(c))
            for i, x in enumerate(ins[:-1]):
                if x.argval == "__pyreplay_fn__" and x.opname.startswith("LOAD_"):
                    for y in ins[i + 1:i + 4]:
                        if y.opname == "LOAD_CONST" and isinstance(y.argval, str):
                            out[id(c)] = y.argval
                            break
                    break
    return out


_gettrace = sys.gettrace


def _program_gettrace():
    """sys.gettrace() as the program sees it: None for pyreplay's own."""
    t = _gettrace()
    if (getattr(t, "__module__", None) or "").startswith(__name__.rpartition(".")[0] + "."):
        return None
    return t


_lines_cache = {}


def _line_at(code, offset):
    """The line of the instruction at ``offset`` (3.12+), from co_lines()."""
    t = _lines_cache.get(code)
    if t is None:
        t = _lines_cache[code] = list(code.co_lines())
    for start, end, line in t:
        if start <= offset < end:
            return line
    return None


_first_cache = {}


def _first_line_313(code):
    """3.13: the line of the first instruction after the RESUME that starts
    ``code`` when it is RESUME's own line (a lambda, a generator expression,
    a one-line function or class body), else None; and that instruction's
    offset. settrace reports that line as the code object starts;
    sys.monitoring's LINE does not always."""
    if code in _first_cache:
        return _first_cache[code]
    import dis
    out = (None, None)
    ins = list(dis.get_instructions(code))
    for i, x in enumerate(ins):
        if x.opname == "RESUME":
            if i + 1 < len(ins):
                a, b = _line_at(code, x.offset), _line_at(code, ins[i + 1].offset)
                if a is not None and a == b:
                    out = (a, ins[i + 1].offset)
            break
    _first_cache[code] = out
    return out


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
        if rp not in self.trig.lines and not (self.trig.funcs and paths.is_user_file(spec.origin)):
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
