"""The 3.8-3.11 breakpoint mechanism (compiled-in hooks and sys.settrace),
one of the two behind Triggers (triggers.py; the other, for 3.12+, is
monitoring.py). A hook call compiled in at the start of each function,
class body and module that holds a breakpoint line (its own, or one of its
lambdas' and comprehensions') turns sys.settrace on for the thread while
such a frame is live (suspended generators included); the trace function
traces only code objects holding breakpoint lines, and CPython reports
their line events. Files other than the main script are compiled through
an import hook (_Finder)."""
import builtins
import os
import sys
import threading
import weakref

from . import codelines as L
from . import frames as F
from . import paths
from .recursion import _LIMIT, _MAIN_DEPTH, _OVERFLOW_FLAG, _ROOM, _note_overflow

V = sys.version_info[:2]

ast = None  # imported by _load_ast() when code is instrumented (<=3.11): most runs never need it


def _load_ast():
    global ast
    if ast is None:
        import ast as _ast
        ast = _ast


class Hooks:
    """Mixed into Triggers on 3.8-3.11: the mechanism's half of its
    interface (start_mechanism, compile_source, compile_ast)."""

    def start_mechanism(self):
        self._start_hooks()

    def compile_source(self, src, filename):
        if self.realpath(filename) in self.lines or self.funcs:
            _load_ast()
            return self.compile_ast(ast.parse(src, filename), filename)
        return compile(src, filename, "exec", dont_inherit=True)

    def compile_ast(self, tree, filename):
        bl = self.lines.get(self.realpath(filename), {})
        if bl or self.funcs:
            tree = self.instrument(tree, bl)
        code = compile(tree, filename, "exec", dont_inherit=True)
        if bl:
            self.add_bp_codes(code, bl)
            self._enter_quiet.update(_quiet_hooks(code))
        if self.funcs:
            self._fn_codes.update(_fn_hooked(code))
        return code

    def _start_hooks(self):
        self._bp_codes = {}  # id(code) -> code: code objects whose own lines hold a breakpoint
        # id(code) -> code: code objects whose hook is followed by another
        # line than its own: CPython reports that line event itself (the
        # hook must not: the hook's line runs later, or never)
        self._enter_quiet = {}
        self._tl = threading.local()  # .live: this thread's traced frames (sys.settrace is per thread)
        # id(code) -> qualname of code compiled with a function breakpoint's
        # hook: while tracing is on, its call event fires the breakpoint
        # before the first line event, as on 3.12+ (the hook then skips)
        self._fn_codes = {}
        self._fn_done = set()
        if getattr(self.rec, "criu", None) is not None:
            self.rec.criu.on_copy.append(self._copy_untraced)
        # the program sees no trace function of pyreplay's (it may well
        # print or test sys.gettrace()); the shim asks _gettrace
        sys.gettrace = _program_gettrace
        builtins.__pyreplay_enter__ = self._enter
        builtins.__pyreplay_gen__ = self._gen
        builtins.__pyreplay_fn__ = self._fn_hook
        if any(rp for rp in self.lines) or self.funcs:
            sys.meta_path.insert(0, _Finder(self))
            self._hook_run_path()

    def _hook_run_path(self):
        """runpy.run_path (multiprocessing's spawn runs the main script so,
        as __mp_main__) compiles a source file itself, past the import
        hook: it compiles through compile_source too."""
        import runpy
        real = runpy._get_code_from_file

        def get_code(run_name, fname):
            path = os.path.abspath(os.fsdecode(fname))
            if path.endswith(".py") and (self.realpath(path) in self.lines or self.funcs):
                try:
                    with open(path, "rb") as f:
                        src = f.read()
                    return self.compile_source(src, fname), fname
                except (OSError, SyntaxError):
                    pass  # (as runpy's own: its error, its way)
            return real(run_name, fname)

        runpy._get_code_from_file = get_code

    def add_bp_codes(self, code, bl):
        """Register the code objects of ``code`` whose own lines hold one of
        the breakpoint lines ``bl``."""
        for c in L.walk(code):
            if not bl.keys().isdisjoint(L.own_lines(c)):
                self._bp_codes[id(c)] = c

    def holds_bp(self, code):
        return id(code) in self._bp_codes

    def _copy_untraced(self):
        """A copy restored from a CRIU image runs untraced (criu.py
        become_copy): no return event will take its frames out of the
        traced sets, which would then hold them, and their locals, for
        good (a generator's finally, a __del__ would never run)."""
        live = getattr(self._tl, "live", None)
        if live is not None:
            live.clear()
        self._fn_done.clear()

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
            if self._enter_quiet.get(id(frame.f_code)) is frame.f_code:
                return  # CPython reports the body's first line event
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

    def untrace(self, frame):
        """``frame`` (tracing now) holds no breakpoint line any more
        (Triggers.forget_anchor): it is traced no longer, nor its code."""
        code = frame.f_code
        bl = self.lines.get(self.realpath(code.co_filename), {})
        if not bl.keys().isdisjoint(L.own_lines(code)):
            return
        self._bp_codes.pop(id(code), None)
        if frame.f_trace == self._tlocal:
            frame.f_trace = None
        self.left(frame)

    def retake(self, frame):
        """Stepping's trace function has ended at ``frame``: breakpoint
        frames of this thread still live are traced again."""
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



def _quiet_hooks(code):
    """{id(c): c} for the code objects in ``code`` whose enter hook is
    followed by an instruction of another line than the hook's. The hook
    has the line of the statement it precedes, but CPython's first line
    event in the body is the line of the body's first instruction: a
    decorator's line before a decorated def's, an element's before a
    multi-line list's. CPython (tracing on from the hook) reports that
    line itself, as a new line, and the statement's line when it comes."""
    import dis
    out = {}
    for c in L.walk(code):
        if "__pyreplay_enter__" not in c.co_names:
            continue
        ins = list(dis.get_instructions(c))
        line = None
        for i, x in enumerate(ins):
            if x.starts_line is not None:
                line = x.starts_line
            if x.argval == "__pyreplay_enter__" and x.opname.startswith("LOAD_"):
                hook_line = line
                # the call, then POP_TOP (a statement) or the jump of
                # `hook() or BODY` (a lambda): the next one is the body's
                j = i + 1
                while j < len(ins) and not ins[j].opname.startswith("CALL"):
                    j += 1
                j += 2
                while j < len(ins) and ins[j].opname == "EXTENDED_ARG":
                    j += 1
                if j < len(ins):
                    nxt = line
                    for y in ins[i:j + 1]:
                        if y.starts_line is not None:
                            nxt = y.starts_line
                    if nxt != hook_line:
                        out[id(c)] = c
                break
    return out


_gettrace = sys.gettrace



def _program_gettrace():
    """sys.gettrace() as the program sees it: None for pyreplay's own."""
    t = _gettrace()
    if (getattr(t, "__module__", None) or "").startswith(__name__.rpartition(".")[0] + "."):
        return None
    return t



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
