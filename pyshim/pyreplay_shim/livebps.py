"""Breakpoints of a live session (``pyreplay dap``): the recording's
triggers (triggers.py) whose hits stop the program (Control.hit) instead of
only recording it, with hit conditions and log points, and replaced while
the program runs. Knows its Control only as the object it was given."""
import os
import re
import sys
import threading
import types

from . import codelines as L
from . import paths
from . import hooks as H
from . import triggers as T
from .versions import MONITORING


class LiveBP(T.BP):
    __slots__ = ("id", "hitcond", "log", "oneshot")

    def __init__(self, d):
        T.BP.__init__(self, d)
        self.id = d.get("id") or 0
        self.hitcond = (d.get("hitcond") or "").strip()
        self.log = d.get("log")
        self.oneshot = bool(d.get("oneshot"))
        if self.hitcond and _hit_check(self.hitcond, 1) is None:
            raise ValueError("hit condition %r is not N, =N, ==N, >N, >=N, <N, <=N or %%N" % self.hitcond)


_HIT_RE = re.compile(r"^\s*(==|=|>=|<=|>|<|%)?\s*(\d+)\s*$")


def _hit_check(cond, hits):
    m = _HIT_RE.match(cond)
    if not m:
        return None
    op, n = m.group(1) or "==", int(m.group(2))
    if op in ("==", "="):
        return hits == n
    if op == ">":
        return hits > n
    if op == ">=":
        return hits >= n
    if op == "<":
        return hits < n
    if op == "<=":
        return hits <= n
    return n > 0 and hits % n == 0


class LiveTriggers(T.Triggers):
    """Triggers whose hits stop the program instead of only recording it."""

    def __init__(self, rec, cfg, ctl):
        self.ctl = ctl
        cfg = dict(cfg)
        cfg["breakpoints"] = []  # breakpoints come over the control channel
        T.Triggers.__init__(self, rec, cfg)

    # -- hits
    def should_fire(self, bp, frame):
        if not T.Triggers.should_fire(self, bp, frame):
            return False
        if bp.hitcond and not _hit_check(bp.hitcond, bp.hits):
            return False
        if bp.log is not None:
            self.ctl.output("stdout", _format_log(bp.log, frame) + "\n")  # as debugpy
            return False
        return True

    def say(self, text):
        self.ctl.output("stderr", text)

    def tracers(self):
        if self.ctl.tracing:
            return self.ctl._global, self.ctl._local
        return T.Triggers.tracers(self)

    skip_arrival = False

    def hit(self, bps, frame, kind, reason, label):
        self.ctl.hit(bps, frame, kind, reason, label, "bp")

    # -- start: wait for the debugger's configuration first
    def start(self):
        self.ctl.handshake()
        T.Triggers.start(self)
        self.ctl.after_start()

    def _start_monitoring(self):
        if self.lines or self.funcs:
            return T.Triggers._start_monitoring(self)
        # register the callbacks even without breakpoints: they may come later
        self.lines["\x00none"] = {}
        try:
            T.Triggers._start_monitoring(self)
        finally:
            del self.lines["\x00none"]

    def _start_hooks(self):
        T.Triggers._start_hooks(self)
        if not any(isinstance(f, H._Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, H._Finder(self))

    # -- changing breakpoints while the program lives
    def set_all(self, lines, funcs):
        """Replace every breakpoint. Returns {id: error} for rejected ones."""
        errors = {}
        new_lines, new_funcs = {}, {}
        for d in lines:
            try:
                bp = LiveBP(d)
            except Exception as e:  # noqa: BLE001 - a bad condition is the user's
                errors[str(d.get("id"))] = _bp_error(e)
                continue
            new_lines.setdefault(os.path.realpath(bp.file), {}).setdefault(bp.line, []).append(bp)
        for d in funcs:
            try:
                bp = LiveBP(d)
            except Exception as e:  # noqa: BLE001
                errors[str(d.get("id"))] = _bp_error(e)
                continue
            new_funcs.setdefault(bp.func, []).append(bp)
        # keep hit counts of breakpoints that stay
        old = {}
        for rp, ls in self.lines.items():
            for ln, bps in ls.items():
                for bp in bps:
                    old[(rp, ln, bp.cond, bp.hitcond if isinstance(bp, LiveBP) else "")] = bp.hits
        for rp, ls in new_lines.items():
            for ln, bps in ls.items():
                for bp in bps:
                    bp.hits = old.get((rp, ln, bp.cond, bp.hitcond), 0)
        added_files = {}
        for rp, ls in new_lines.items():
            added = set(ls) - set(self.lines.get(rp, {}))
            if added:
                added_files[rp] = added
        added_funcs = set(new_funcs) - set(self.funcs)
        # the monitoring callbacks hold these dicts: change them in place
        self.lines.clear()
        self.lines.update(new_lines)
        self.funcs.clear()
        self.funcs.update(new_funcs)
        if self.ctl.started and (added_files or added_funcs):
            if MONITORING:
                self._refresh_312(added_files)
            else:
                self._refresh_hooks(added_files, added_funcs)
        return errors

    def _refresh_312(self, files):
        M = sys.monitoring
        if self.tool is None:
            self._start_monitoring()
        if self.tool is None:
            return
        M.restart_events()
        E = M.events.LINE | M.events.JUMP
        f = main_frame()
        while f is not None:
            if self.realpath(f.f_code.co_filename) in files:
                M.set_local_events(self.tool, f.f_code, M.get_local_events(self.tool, f.f_code) | E)
            f = f.f_back
        for gen in _generators(files, self.realpath):
            M.set_local_events(self.tool, gen.gi_code, M.get_local_events(self.tool, gen.gi_code) | E)

    def _refresh_hooks(self, files, funcs):
        """<=3.11: recompile, with hook calls, the functions of files that got
        new breakpoint lines ({realpath: lines}) and of functions that got
        function breakpoints (qualnames)."""
        import gc
        by_file = {}
        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                c = obj.__code__
                rp = self.realpath(c.co_filename)
                if rp in files or (funcs and obj.__qualname__ in funcs and paths.is_user_file(c.co_filename)):
                    by_file.setdefault(rp, []).append(obj)
        for rp, fns in by_file.items():
            try:
                with open(rp, "rb") as fh:
                    src = fh.read()
                code = self.compile_file(src, fns[0].__code__.co_filename)
            except Exception:  # noqa: BLE001 - the file changed or vanished: leave it
                continue
            table = {(c.co_name, c.co_firstlineno): c for c in _walk_code(code)}
            for fn in fns:
                new = table.get((fn.__code__.co_name, fn.__code__.co_firstlineno))
                if new is not None and new.co_freevars == fn.__code__.co_freevars:
                    fn.__code__ = new
        # functions not created yet come from code compiled without their
        # hook: watch calls for them (traced) while such a breakpoint exists
        found = {fn.__qualname__ for fns in by_file.values() for fn in fns}
        self.ctl.func_watch = (self.ctl.func_watch | set(funcs)) - found
        # frames already running old code (suspended generators too) that
        # holds a new line are traced until they return
        running = []
        f = main_frame()
        while f is not None:
            running.append(f)
            f = f.f_back
        running.extend(g.gi_frame for g in _generators(files, self.realpath))
        for f in running:
            added = files.get(self.realpath(f.f_code.co_filename))
            if added and not paths.is_shim_file(f.f_code.co_filename) and not self.holds_bp(f.f_code) \
                    and added & L.own_lines(f.f_code):
                self._bp_codes[id(f.f_code)] = f.f_code
                if not self.ctl.stopped:
                    self.trace_frame(f)
                else:
                    self.live_frames().add(f)  # traced when the program runs on (Control.retrace)
        if self.ctl.func_watch and not self.ctl.stopped:
            self.ctl.retrace(main_frame())


def _bp_error(e):
    bad = getattr(T, "BadBreakpoint", None)
    if bad is not None and isinstance(e, bad):
        return str(e)
    return "%s: %s" % (type(e).__name__, e)


def _walk_code(code):
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))


def _generators(files, realpath):
    """Suspended generators of these files."""
    import gc
    out = []
    for obj in gc.get_objects():
        if type(obj) is types.GeneratorType and obj.gi_frame is not None \
                and realpath(obj.gi_code.co_filename) in files:
            out.append(obj)
    return out


def main_frame():
    """The innermost frame of the main thread."""
    frames = sys._current_frames()
    return frames.get(threading.main_thread().ident) or sys._getframe()


_LOG_RE = re.compile(r"\{([^{}]+)\}")


def _format_log(msg, frame):
    def sub(m):
        try:
            return str(eval(m.group(1), frame.f_globals, frame.f_locals))
        except Exception as e:  # noqa: BLE001
            return "<%s: %s>" % (type(e).__name__, e)
    return _LOG_RE.sub(sub, msg).replace("{{", "{").replace("}}", "}")
