"""How a re-execution of the past (linehistory.py) hears the program's
line events: sys.settrace on 3.8-3.11, a sys.monitoring tool of its own
on 3.12+. A generator's yield is not its frame's end: the frame comes
back, the same frame of the history; its resumption is reported (resumed)
for a frame that began before the events. A parked re-execution (park)
turns them on where the resumed program arrives."""
import dis
import json
import os
import sys
import threading

from .versions import MONITORING


# 3.8-3.11: a "return" trace event is also a generator's yield (its
# frame comes back): YIELD_VALUE's, or YIELD_FROM's with f_lasti on the
# instruction before it (3.8-3.10's await / yield from)
_YIELD_VALUE = dis.opmap.get("YIELD_VALUE")
# co_flags of a code whose frames yield and come back: generator,
# coroutine, async generator
GENERATOR_FLAGS = 0x2a0
_YIELD_FROM = dis.opmap.get("YIELD_FROM", -1)


def _yielding(frame):
    code = frame.f_code
    if not code.co_flags & GENERATOR_FLAGS:
        return False
    b, i = code.co_code, frame.f_lasti
    return 0 <= i < len(b) and (b[i] == _YIELD_VALUE or (i + 2 < len(b) and b[i + 2] == _YIELD_FROM))


_RESUME = dis.opmap.get("RESUME", -1)


def _resuming(frame):
    """3.8-3.11, at a generator frame's "call" trace event: whether it is a
    resumption (after a yield), not its start: 3.11's RESUME has oparg 0 at
    the start; before 3.11 a frame that has not started has f_lasti -1."""
    i = frame.f_lasti
    if _RESUME < 0:
        return i >= 0
    b = frame.f_code.co_code
    return 0 <= i < len(b) - 1 and b[i] == _RESUME and b[i + 1] != 0


_HANDLERS = {dis.opmap[n] for n in ("SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH") if n in dis.opmap}
_JUMPS = set(dis.hasjabs) | set(dis.hasjrel)


def one_line(code):
    """3.8-3.11: the line of a code each call of which reports exactly one
    line event, at its first instruction (after 3.11's prologue, up to
    RESUME): its instructions are on one line, none jumps back (a line
    event comes again after a backward jump), it handles no exception and
    it is no generator or coroutine (a resumption reports no line event
    at its start); None for any other code. (Checked against settrace:
    TestOneLineCounting.)"""
    if code.co_flags & GENERATOR_FLAGS or getattr(code, "co_exceptiontable", b""):
        return None
    ins = list(dis.get_instructions(code))
    if _RESUME >= 0:
        k = next((i for i, x in enumerate(ins) if x.opcode == _RESUME), None)
        if k is None:
            return None
        ins = ins[k + 1:]
        lines = {x.positions.lineno for x in ins if x.positions.lineno is not None}
    else:
        if not ins or ins[0].starts_line is None:
            return None
        lines = {x.starts_line for x in ins if x.starts_line is not None}
    if len(lines) != 1:
        return None
    for x in ins:
        if x.opcode in _HANDLERS or (x.opcode in _JUMPS and isinstance(x.argval, int) and x.argval <= x.offset):
            return None
    return lines.pop()


def precounter(fast, hot_code, per_code, code_rec, count, attn, last_hit, done, trig, local):
    """3.8-3.11, for _settrace: precount(code), which gives a one-line
    code's calls (one_line) at_call, for a re-execution's counting
    (linehistory._run's state: its per_code entries, count, attn, ...)."""

    def at_call(frame, code):
        """A call of a one-line code: while the run only counts, its one
        line event, counted now by local's fast rule, and the frame left
        untraced (no line and return callbacks: two thirds of a hot
        one-line function's cost); else, or where that event has more to
        do, local traces it. (A signal handler the interpreter runs
        between the call and that line would have its events counted
        after it, not before.)"""
        if not fast[0]:
            return local
        c = hot_code[0]
        if c[0] is not code:
            c = per_code.get(id(code))
            if c is None or c[0] is not code or c[3] is not None:
                return local
            hot_code[0] = c
        ln = c[5]
        n = count[0]
        if n == attn[0] or ln in c[4]:
            if n == attn[0] or c[4][ln] == 0 or done or trig.rebuilding:
                return local
            last_hit[0] = n
        count[0] = n + 1
        try:
            c[1][ln] += 1
        except IndexError:
            _bump(c[1], ln)
        return None

    def precount(code):
        c = per_code.get(id(code))
        if c is None or c[0] is not code:
            c = code_rec(code)
        return at_call if c[5] is not None and c[3] is None else None
    return precount


def _bump(hits, line):
    """hits[line] += 1 (a file_hits list), grown to hold line: the new
    count."""
    try:
        hits[line] += 1
    except IndexError:
        hits.extend([0] * (line + 1 - len(hits)))
        hits[line] = 1
    return hits[line]


def _settrace(traced, known, local, gone, resumed, done, precount=None):
    """3.8-3.11: sys.settrace in every thread; a traced code's frames have
    `local` as their trace function (their lines and returns), and their
    resumptions reported; other frames cost their call event (a dict
    lookup in known, traced's answers by id(code), once it has seen their
    code; none for the code of the call before: a hot function's).
    precount(code), for a traced code: None, or a function called at each
    of its calls instead, (frame, code) -> the frame's trace function
    (local, or None: its events were counted then, one_line)."""
    known_get = known.get
    # the code of the last call event, what glob returned for it, and its
    # precount (a generator's code is not kept: its resumptions are
    # reported)
    last = [None, None, None]

    def glob(frame, event, arg):
        code = frame.f_code
        if code is last[0]:
            if last[2] is None:
                return last[1]
            return last[2](frame, code)
        e = known_get(id(code))
        r = e[1] if e is not None and e[0] is code else traced(code)
        if r and code.co_flags & GENERATOR_FLAGS:
            last[0] = None
            if _resuming(frame):
                resumed(frame)
            return None if done else local
        pre = precount(code) if r and precount is not None else None
        last[0], last[1], last[2] = code, local if r else None, pre
        if done or not r:
            return None  # (once done, local ends each frame's tracing)
        return local if pre is None else pre(frame, code)

    def returned(frame, event, arg):
        if event == "return" and not _yielding(frame):
            gone(frame)
        return returned

    def watch_return(frame):
        if frame.f_trace is None:
            frame.f_trace_lines = False
            frame.f_trace = returned

    threading.settrace(glob)
    sys.settrace(glob)
    return watch_return


def _history_tool():
    """3.12+: a free sys.monitoring tool id, taken for line history."""
    M = sys.monitoring
    tool = next((t for t in (2, 4, 3, 5, 1) if M.get_tool(t) is None), None)
    if tool is None:
        raise RuntimeError("no free sys.monitoring tool id for line history")
    M.use_tool_id(tool, "pyreplay-history")
    return tool


def note_starts():
    """3.12+, a parked re-execution (park): its tool, noting
    each code that starts until _monitor takes it over: (tool, codes)."""
    M = sys.monitoring
    tool = _history_tool()
    codes = []

    def on_start(code, offset):
        codes.append(code)
    M.register_callback(tool, M.events.PY_START, on_start)
    M.set_events(tool, M.events.PY_START)
    return tool, codes


def _monitor(traced, on_line, gone, resumed, done, fast, started=None):
    """3.12+: a sys.monitoring tool of the re-execution's own. Each code
    is asked once, at its first start (then DISABLEd there): a traced one
    gets LINE (on_line, which DISABLEs the ones it has no use for) and
    return events of its own; the rest of the program runs without any. A
    counting run (fast) DISABLEs the return events it meets (begin()
    restarts them). started: note_starts()'s tool and the codes that
    started meanwhile, each asked now. Returns watch_return and
    set_line(cb), which makes cb the LINE callback."""
    M = sys.monitoring
    E = M.events
    tool = started[0] if started else _history_tool()
    DISABLE = M.DISABLE
    getframe = sys._getframe
    watched = set()

    def on_start(code, offset):
        if not done and traced(code):
            ev = E.LINE | E.PY_RETURN | E.PY_YIELD
            if code.co_flags & GENERATOR_FLAGS:
                ev |= E.PY_RESUME
            M.set_local_events(tool, code, ev)
            watched.add(code)
        return DISABLE

    def on_gone(code, offset, arg):
        if fast[0]:
            return DISABLE
        if not done:
            gone(getframe(1))

    def on_yield(code, offset, arg):
        if fast[0]:
            return DISABLE
        # (a generator's frame comes back: it is not gone)

    def on_resume(code, offset):
        if fast[0]:
            return DISABLE
        if not done:
            resumed(getframe(1))

    def on_unwind(code, offset, arg):
        if not done and not fast[0]:
            gone(getframe(1))

    def watch_return(frame):
        code = frame.f_code
        if code not in watched:
            M.set_local_events(tool, code, M.get_local_events(tool, code) | E.PY_RETURN | E.PY_YIELD)
            watched.add(code)

    M.register_callback(tool, E.PY_START, on_start)
    M.register_callback(tool, E.LINE, on_line)
    M.register_callback(tool, E.PY_RETURN, on_gone)
    M.register_callback(tool, E.PY_YIELD, on_yield)
    M.register_callback(tool, E.PY_RESUME, on_resume)
    M.register_callback(tool, E.PY_UNWIND, on_unwind)  # (global only: an exception leaving a frame)
    M.set_events(tool, E.PY_START | E.PY_UNWIND)
    for code in started[1] if started else ():
        on_start(code, 0)

    def set_line(cb):
        M.register_callback(tool, E.LINE, cb)
    return watch_return, set_line


def park(path, trig, rec, run):
    """A parked re-execution (session/park.go: the next one from this
    anchor, made ready ahead): the resumed program waits where it arrives
    for its run's spec, read from the FIFO at path (written when a
    re-execution from this anchor is asked for: a line, the path of the
    spec's JSON file; closed without one: it ends there), then runs as one
    started with it (run: linehistory._run). Meanwhile the interpreter follows each frame as the
    run's own tracing would have it do from the start: 3.8-3.11 a trace
    function is on, with nothing to do (the interpreter then tracks each
    frame's line, so that the line events after the arrival are the same:
    3.8-3.10 decide by the line it last traced); 3.12+ a monitoring tool
    notes each code that starts. (posix's functions: the sandbox's os
    would copy what it opens.)"""
    if MONITORING:
        started = note_starts()
    else:
        def idle(frame, event, arg):
            return None
        threading.settrace(idle)
        sys.settrace(idle)
        started = None
    # opened now, not blocking (pyreplay holds the write end until the
    # run ends: what it writes stays until read), then read blocking, up
    # to the line pyreplay writes (the spec's path); it takes the fd OUT
    # takes in a run started with its spec, which opens OUT here (the
    # program's own files get the numbers they had)
    import posix
    fd = posix.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    os.set_blocking(fd, True)
    try:  # (open now: its private directory can go, whatever ends pyreplay)
        posix.unlink(path)
        posix.rmdir(os.path.dirname(path))
    except OSError:
        pass
    woken = []

    def unpark(frame, line):
        if woken:
            return
        woken.append(True)
        name = b""
        while not name.endswith(b"\n"):
            b = posix.read(fd, 4096)
            if not b:
                name = b""  # (closed without a line)
                break
            name += b
        posix.close(fd)
        name = name.strip()
        if not name:
            os._exit(0)  # (not needed after all)
        import _io
        with _io.open(name.decode(), "rb") as f:
            real = json.loads(f.read().decode())
        run(real, trig, rec, frame, started)
    trig.on_arrival.append(unpark)
