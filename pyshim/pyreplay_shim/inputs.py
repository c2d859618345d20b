"""Outside inputs, for time travel by line (rr's design): what the program
reads from outside itself (the clocks, its process ids, the system's
random bytes) is recorded as it runs and given back, in order, when the
past is re-executed (linehistory.py), so that a line of the past has the
values the original had.

Recorded (SOURCES): time's clocks (time, monotonic, perf_counter,
process_time, thread_time, clock_gettime and their _ns); localtime,
gmtime, ctime, asctime and strftime when they read the clock (no time
given); os.getpid, getppid, urandom and getrandom (so SystemRandom,
secrets, uuid4); uuid1's generate_time_safe. Each is replaced in its
module (and where the standard library bound it at import) by a function
that calls the real one and, live (record), notes (index, thread, kind,
value). Each snapshot ends an interval (take): its notes go into the
recording's `inputs` table, signed, in the snapshot's transaction
(store.py), and the snapshot's state holds the index it was taken at
(capture.py: extras "inputs", with the log's id).

A re-execution (replay) gives each thread its recorded values in order.
What was not recorded is unknown, never a wrong value: a clock read in C
(datetime's now, utcnow, today and date.today: detected once code naming
them runs: seen), an interval past CAP notes, a kind out of order. There the
real function runs and `unknown` is called (linehistory.py: the values
changed from that line on are shown as unknown, and no snapshot is made).

The shim's own calls use posix and time functions bound before install.
"""
import _thread
import sys

from . import signing

# notes kept per interval (between two snapshots); later ones are a gap
CAP = 20000

# (module, name, whether a call's arguments read the source: None always)
def _time_given(n):
    """localtime(secs=None)'s kind: the clock is read when its n-th
    argument, the time, is not given (or None)."""
    return lambda args, kw: len(args) < n or args[n - 1] is None


SOURCES = [("time", n, None) for n in (
    "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
    "process_time", "process_time_ns", "thread_time", "thread_time_ns", "clock_gettime",
    "clock_gettime_ns")] + [
    ("time", "localtime", _time_given(1)), ("time", "gmtime", _time_given(1)),
    ("time", "ctime", _time_given(1)), ("time", "asctime", _time_given(1)),
    ("time", "strftime", _time_given(2)),
    ("os", "getpid", None), ("os", "getppid", None), ("os", "urandom", None), ("os", "getrandom", None),
    ("_uuid", "generate_time_safe", None),
]
# where the standard library bound a source at its import (if it was
# imported before install; after, it binds the replacement)
_BOUND = {("os", "urandom"): ("random", "_urandom"),
          ("_uuid", "generate_time_safe"): ("uuid", "_generate_time_safe")}

_main = _thread.get_ident()


def _thread_key():
    """The calling thread's key: "" for the main thread, else its name
    (threading's table, read as it is: current_thread() would give a
    _thread thread a dummy Thread the program would see)."""
    ident = _thread.get_ident()
    if ident == _main:
        return ""
    th = sys.modules.get("threading")
    t = th._active.get(ident) if th is not None else None
    return t.name if t is not None else "?%d" % ident


def _install(make):
    for mod, name, reads in SOURCES:
        try:
            m = __import__(mod)
        except ImportError:
            continue
        real = getattr(m, name, None)
        if real is None or getattr(real, "_pyreplay_input", False):
            continue
        w = make("%s.%s" % (mod, name), real, reads)
        w.__name__ = w.__qualname__ = name
        w.__module__ = mod  # (pickled by reference as mod.name: this function)
        w.__doc__ = real.__doc__
        w._pyreplay_input = True
        w.__wrapped__ = real  # (inspect.signature gives the real one's)
        setattr(m, name, w)
        b = _BOUND.get((mod, name))
        if b and b[0] in sys.modules and getattr(sys.modules[b[0]], b[1], None) is real:
            setattr(sys.modules[b[0]], b[1], w)


def real(f):
    """f, or the function it replaced (for the shim's own clock)."""
    return f.__wrapped__ if getattr(f, "_pyreplay_input", False) else f


# -- live: recording ----------------------------------------------------

class _Log(object):
    on = False
    log_id = ""
    notes = []
    gap = None  # the first index not noted in this interval (CAP reached)
    counter = None


def record():
    """Live, with time travel's anchors: note every source's result."""
    import itertools
    import posix
    _Log.on = True
    _Log.log_id = posix.urandom(8).hex()
    _Log.counter = itertools.count(1)

    def make(kind, real, reads):
        def wrapper(*args, **kwargs):
            v = real(*args, **kwargs)
            if reads is None or reads(args, kwargs):
                i = next(_Log.counter)
                notes = _Log.notes
                if len(notes) < CAP:
                    notes.append((i, _thread_key(), kind, v))
                elif _Log.gap is None:
                    _Log.gap = i
            return v
        return wrapper
    _install(make)

    def forked():  # a forked child is a run of its own, with a log of its own
        _Log.log_id = posix.urandom(8).hex()
        _Log.notes, _Log.gap, _Log.counter = [], None, itertools.count(1)
    posix.register_at_fork(after_in_child=forked)


def take():
    """At a snapshot (capture.py): (its position, the interval's notes to
    store as (log id, first index, position, JSON, gap) or None); None
    when nothing is recorded. The position is an index of its own: the
    snapshot comes after every note below it."""
    if _Log.on:
        notes, gap = _Log.notes, _Log.gap
        _Log.notes, _Log.gap = [], None
        at = next(_Log.counter)
        if not notes and gap is None:
            return (_Log.log_id, at), None
        import json
        data = json.dumps([[i, t, k, _encode(v)] for i, t, k, v in notes])
        return (_Log.log_id, at), (_Log.log_id, notes[0][0] if notes else at, at, data, gap)
    if _Replay.on and _Replay.log_id and not _Replay.misaligned:
        if len(sys._current_frames()) == 1:
            return (_Replay.log_id, _Replay.at), None
    return None


def _encode(v):
    if isinstance(v, float) or isinstance(v, (int, str)):
        return v
    if isinstance(v, bytes):
        return {"b": v.hex()}
    if type(v).__name__ == "struct_time":
        return {"st": [getattr(v, f) for f in ("tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec",
                                                  "tm_wday", "tm_yday", "tm_isdst", "tm_zone", "tm_gmtoff")]}
    if isinstance(v, tuple):
        return {"t": [_encode(x) for x in v]}
    return {"?": repr(v)}  # (given back as unknown)


def _decode(v):
    if not isinstance(v, dict):
        return v
    if "b" in v:
        return bytes.fromhex(v["b"])
    if "st" in v:
        import time
        return time.struct_time(v["st"])
    if "t" in v:
        return tuple(_decode(x) for x in v["t"])
    raise ValueError("not recorded")


# -- re-execution: replay -----------------------------------------------

class _Replay(object):
    on = False
    log_id = ""
    at = 0  # the index of the last note given back (the position)
    queues = {}  # thread -> [(index, kind, value)], oldest last
    gaps = []  # [(first index not noted, the interval's end)]
    misaligned = False
    profiling = False
    unknown = None  # the callback: unknown(what, frame) (on_unknown)
    trig = None


def on_unknown(cb):
    """cb(what, frame): a value the re-execution reads from outside was not
    recorded (linehistory.py: set before the program runs on; nothing
    asks while the resume rebuilds the stack)."""
    _Replay.unknown = cb


def replay(trig):
    """In a re-execution (linehistory.install, before the state loads):
    the sources give back the recorded values once begin() has the
    anchor's position; on_unknown's callback is called where a value comes
    from outside and was not recorded."""
    _Replay.on, _Replay.trig = True, trig

    def make(kind, real, reads):
        def wrapper(*args, **kwargs):
            if not _Replay.log_id or _Replay.trig.rebuilding or (reads is not None and not reads(args, kwargs)):
                return real(*args, **kwargs)
            return _give(kind, real, args, kwargs)
        return wrapper
    _install(make)


def _give(kind, real, args, kwargs):
    q = _Replay.queues.get(_thread_key())
    if not _Replay.misaligned and q:
        i, k, v = q[-1]
        if k == kind and not any(g <= i for g, _end in _Replay.gaps if g > _Replay.at):
            q.pop()
            _Replay.at = i
            try:
                return _decode(v)
            except (ValueError, TypeError):
                pass
    # not recorded (a gap, past the recording's end, or another order):
    # the thread's later notes cannot be matched to its calls
    _Replay.misaligned = True
    _Replay.unknown("%s()" % kind, sys._getframe(2))
    return real(*args, **kwargs)


def begin(db_path, key, position, taken):
    """After the anchor's state loaded (resume.py): position is its extras
    "inputs" (log id, index), or None (not recorded: every source's value
    is then unknown), taken when it was taken (files changed after it are
    unknown: sandbox.py). Reads the log's notes after it, checking each
    row's signature; a missing or forged row leaves its interval unknown."""
    if not _Replay.on:
        return
    from . import sandbox
    sandbox.since[0] = taken
    if not position:
        _Replay.log_id, _Replay.misaligned = "-", True
        return
    log_id, at = position
    import json
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    try:
        try:
            rows = db.execute("SELECT first, upto, data, gap, mac FROM inputs WHERE log=? AND upto>? ORDER BY first",
                              (log_id, at)).fetchall()
        except sqlite3.OperationalError:  # (a recording made before the table)
            rows = []
    finally:
        db.close()
    queues = {}
    gaps = []
    expect = at
    for first, upto, data, gap, m in rows:
        if m != signing.inputs_mac(key, log_id, first, upto, data, gap):
            gaps.append((max(first, expect), upto))  # (forged: as if not recorded)
            expect = upto
            continue
        if first > expect + 1:
            gaps.append((expect + 1, first))  # (a row missing)
        if gap is not None:
            gaps.append((gap, upto))
        for i, t, k, v in json.loads(data):
            if i > at:
                queues.setdefault(t, []).append((i, k, v))
        expect = upto
    gaps.append((expect + 1, float("inf")))  # (past the last stored interval)
    for q in queues.values():
        q.reverse()
    _Replay.log_id, _Replay.at, _Replay.queues, _Replay.gaps = log_id, at, queues, gaps


# datetime's classes read the clock in C: not recordable, detected
_C_CLOCKS = ("now", "utcnow", "today")
_C_CLOCKS_SET = frozenset(_C_CLOCKS)


def _c_clock(func):
    """Whether func is datetime's now/utcnow/today (bound to a date class)."""
    s = getattr(func, "__self__", None)
    if type(s) is not type or getattr(func, "__name__", None) not in _C_CLOCKS:
        return False
    dt = sys.modules.get("datetime")
    return dt is not None and issubclass(s, dt.date)


def seen(code):
    """Each code the re-execution runs, once (linehistory.py): a code that
    names now, utcnow or today turns on what sees datetime's C calls from
    then on (a program that never names them pays nothing): 3.12+ a CALL
    event of a sys.monitoring tool of its own, asked once per call site;
    3.8-3.11 a profile function (every call costs it)."""
    if _Replay.profiling or _Replay.trig is None or _C_CLOCKS_SET.isdisjoint(code.co_names):
        return
    _Replay.profiling = True
    if sys.version_info >= (3, 12):
        M = sys.monitoring
        tool = next((t for t in (3, 4, 1, 2, 5) if M.get_tool(t) is None), None)
        if tool is None:
            return
        M.use_tool_id(tool, "pyreplay-inputs")
        DISABLE = M.DISABLE

        def on_call(code, offset, func, arg0):
            if _Replay.trig.rebuilding:
                return None
            if _c_clock(func):
                _Replay.unknown("%s.%s()" % (func.__self__.__name__, func.__name__), sys._getframe(1))
            return DISABLE  # (each call site is asked once)
        M.register_callback(tool, M.events.CALL, on_call)
        M.set_events(tool, M.events.CALL)
        return

    def profile(frame, event, arg):
        if event == "c_call" and _c_clock(arg) and not _Replay.trig.rebuilding:
            _Replay.unknown("%s.%s()" % (arg.__self__.__name__, arg.__name__), frame)
    import threading
    threading.setprofile(profile)
    sys.setprofile(profile)
