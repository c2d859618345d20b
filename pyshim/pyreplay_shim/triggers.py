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
The two mechanisms are monitoring.py and hooks.py, mixed into Triggers by
version behind one interface (start_mechanism, compile_source,
compile_ast); the firing rule is Triggers' own. The main script is compiled
by the shim, other files through an import hook (hooks._Finder).
Periodic checkpoints (opt-in) come from periodic.py: a thread of the shim arms a
one-shot line event, with no signal or timer the program could own.
"""
import os
import sys

from . import paths
from .hooks import Hooks
from .monitoring import Monitoring
from .output import output_bytes
from .recursion import _OVERFLOW_FLAG, _note_overflow

V = sys.version_info[:2]


class BadBreakpoint(ValueError):
    """A breakpoint the shim cannot use; the message is for the user."""


class BP:
    __slots__ = ("file", "line", "hit", "cond", "func", "hits", "code", "anchor")

    def __init__(self, d):
        self.file = d.get("file")
        self.line = d.get("line") or 0
        self.hit = d.get("hit") or 0
        self.cond = d.get("cond") or ""
        self.func = d.get("func") or ""
        self.hits = 0
        # record --trace's snapshot at the program's first line: time
        # travel's anchor, recorded as a live session's (control.py)
        self.anchor = bool(d.get("anchor"))
        try:
            self.code = compile(self.cond, "<breakpoint condition>", "eval") if self.cond else None
        except SyntaxError as e:
            raise BadBreakpoint("breakpoint %r: the condition %r is not a Python expression (%s)"
                                % (d.get("spec") or self.cond, self.cond, e.msg))


# the breakpoint mechanism of this interpreter: start_mechanism,
# compile_source, compile_ast, and what each needs of its own
_Mechanism = Monitoring if V >= (3, 12) else Hooks


class Triggers(_Mechanism):
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
        self.every_budget = cfg.get("every_budget") or 0
        self.periodic_on = False  # (start_periodic: once)
        self._rp = {}
        self.tool = None
        self.cond_errors = set()
        # True while a resume rebuilds the stack: the line events of the
        # rebuild (each caller's call line, a loop header the rebuild
        # re-enters) are not the program's, so they neither count as hits
        # nor stop; the innermost frame's arrival at its recorded position
        # (Runtime.arrive) clears it
        self.rebuilding = False
        # (code, line) of the innermost frame's arrival: its first line
        # event there is the snapshot's own, reported when it was taken.
        # Its code, not the frame: a rebuilt frame runs generated code of
        # its own (resume.py), and holding the frame would hold its locals
        # past its end (a file left open would not be flushed then)
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
        self.arrival = (frame.f_code, line) if line else None
        for cb in self.on_arrival:
            cb(frame, line)

    # the snapshot's own line event at the arrival is not a hit of the
    # resumed run; a live session (livebps.py) stops there instead (its
    # "entry" stop at the resumed position)
    skip_arrival = True

    def fire_line(self, frame, line, kind):
        if self.skip_arrival and self.arrival is not None:
            a, self.arrival = self.arrival, None
            if a[0] is frame.f_code and a[1] == line:
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
        if not self.rebuilding:  # the rebuild of a resumed stack is no hit
            self.hit(bps, frame, kind, reason, label)
        return True

    def fired(self, bps, frame):
        """The breakpoints of bps that fire now (each one's hits counted)."""
        return [bp for bp in bps if self.should_fire(bp, frame)]

    def hit(self, bps, frame, kind, reason, label):
        """Recording: a snapshot when any of bps fires."""
        fired = self.fired(bps, frame)
        if fired:
            anchor = all(bp.anchor for bp in fired)
            if anchor:
                reason, label = "entry", "anchor"
            self.rec.snapshot(reason, label, frame, kind)
            if anchor:
                self.forget_anchor(frame)
            if self.every and any(bp.anchor for bp in fired):
                self.start_periodic()

    def forget_anchor(self, frame):
        """record --trace's anchor was taken (once): its breakpoint goes,
        and its code (the module's) is traced no longer (3.8-3.11: a trace
        function on while the module's frame is live would slow the whole
        run; 3.12+: the line's events are disabled once no breakpoint
        answers them)."""
        rp = self.realpath(frame.f_code.co_filename)
        at = self.lines.get(rp, {})
        for line in list(at):
            at[line] = [bp for bp in at[line] if not bp.anchor]
            if not at[line]:
                del at[line]
        if not at:
            self.lines.pop(rp, None)
        if V < (3, 12):
            self.untrace(frame)

    # ------------------------------------------------------------ install
    def start(self):
        self.start_mechanism()
        if self.every and not self._anchor_pending():
            self.start_periodic()

    def _anchor_pending(self):
        """Whether record --trace's anchor at the program's first line is
        still to be taken: the periodic snapshots start then (hit), so
        that none comes before it (a slow start could let one in first)."""
        return any(bp.anchor for at in self.lines.values() for bps in at.values() for bp in bps)

    def start_periodic(self):
        if self.periodic_on:
            return
        self.periodic_on = True
        # no signal or timer the program could own (periodic.py)
        from . import periodic
        periodic.start(self.rec, self.every, self.every_budget)

    def compile_file(self, src, filename):
        """Compile a program file with what its breakpoints need."""
        return self.compile_source(src, filename)

    def compile_tree(self, tree, filename):
        """Compile a module's syntax tree (the program's, or the code that
        resumes it) with what its breakpoints need."""
        return self.compile_ast(tree, filename)
