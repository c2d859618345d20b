"""The 3.12+ breakpoint mechanism (sys.monitoring), one of the two behind
Triggers (triggers.py; the other, for 3.8-3.11, is hooks.py). PY_START
returns DISABLE for every code object that holds no breakpoint; LINE and
JUMP are enabled only on code objects that do. LINE is settrace's line
event; a backward jump within one line (a one-line loop, an inlined
comprehension) is one more, as for settrace; 3.13's settrace also reports
the first line of a code object whose RESUME is on that same line, which
LINE does not."""
import sys

from . import codelines as L
from . import paths
from .recursion import _OVERFLOW_FLAG, _note_overflow

V = sys.version_info[:2]


class Monitoring:
    """Mixed into Triggers on 3.12+: the mechanism's half of its interface
    (start_mechanism, compile_source, compile_ast)."""

    def start_mechanism(self):
        self._start_monitoring()

    def compile_source(self, src, filename):
        code = compile(src, filename, "exec", dont_inherit=True)
        self.instrument_code_312(code)
        return code

    def compile_ast(self, tree, filename):
        code = compile(tree, filename, "exec", dont_inherit=True)
        self.instrument_code_312(code)
        return code

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
        # function breakpoints fire at their function's first line event,
        # as on 3.8-3.11 (the hook compiled there) and as pdb's do:
        # id(frame) -> (frame, qualname) from PY_START until that LINE
        first = {}

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
                frame = getframe(2)
                first[id(frame)] = (frame, code.co_qualname)
                M.set_local_events(tool, code, M.get_local_events(tool, code) | E.LINE)
                return None
            return None if held and first_line is not None else DISABLE

        def on_line(code, line):
            try:
                return line_event(code, line)
            except RecursionError:
                return None

        def line_event(code, line):
            frame = getframe(2)
            if first:
                f = first.pop(id(frame), None)
                if f is not None and f[0] is frame:
                    guarded(self.fire_func, frame, "line", f[1])
                    guarded(self.fire_line, frame, line, "line")
                    return None  # (the next call's first line fires again)
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
