"""A live stop holds the program's other threads at their next line
(control.py): freeze and thaw, with sys._settraceallthreads on 3.12+ and,
for 3.9-3.11, settrace_all below, which does the same.

CPython 3.9-3.11 can set another thread's trace function from C only
(_PyEval_SetTrace(tstate, func, obj), exported, made for any thread
state, the GIL held; 3.12's _settraceallthreads calls it for each one).
Its thread states are walked with the public PyInterpreterState_ThreadHead
and PyThreadState_Next. Two things are read from the calling thread's own
state once, by value, not from a header: where c_traceobj lies (the
object sys.settrace was just given; c_tracefunc is two pointers before
it, the field order of 3.9-3.11: c_profilefunc, c_tracefunc,
c_profileobj, c_traceobj) and the pointer to sys.settrace's trampoline
found there. What each thread had is given back on release. 3.8 (no
_PyEval_SetTrace) or a layout not found: None, and the other threads run
on during a stop (said so to the client).
"""
import ctypes
import sys
import threading

from . import paths
from .versions import MONITORING


def freeze(ctl):
    """The program's other threads pause at their next line event until
    ctl's stop ends (threads in C code, e.g. sleeping, run no Python
    meanwhile); returns whether all of them are held so."""
    others = [t for t in threading.enumerate()
              if t.ident != ctl.stop_ident and t.is_alive() and not getattr(t, "pyreplay_internal", False)]
    if not others:
        return True
    all_threads = getattr(sys, "_settraceallthreads", None) if MONITORING else settrace_all()
    if all_threads is None:
        return False
    internal = {t.ident for t in threading.enumerate() if getattr(t, "pyreplay_internal", False)}
    turn = ctl.turn

    def pause(frame, event, arg):
        me = threading.get_ident()
        if me in internal or me == ctl.stop_ident or paths.is_shim_file(frame.f_code.co_filename):
            return None  # (never inside the shim: it may hold what the stop needs)
        with turn:
            while ctl.freezing is pause:
                turn.wait()
        return None

    ctl.freezing = pause
    _all_but_this(all_threads, pause)
    for ident, f in sys._current_frames().items():
        if ident == ctl.stop_ident or ident in internal:
            continue
        while f is not None:
            if f.f_trace is None and not paths.is_shim_file(f.f_code.co_filename):
                f.f_trace = pause
            f = f.f_back
    return True


def thaw(ctl):
    """The other threads go on (called holding ctl.turn)."""
    if ctl.freezing is None:
        return
    pause, ctl.freezing = ctl.freezing, None
    _all_but_this(sys._settraceallthreads if MONITORING else settrace_all(), None)
    for f in sys._current_frames().values():
        while f is not None:
            if f.f_trace is pause:
                f.f_trace = None
            f = f.f_back


def _all_but_this(all_threads, func):
    """all_threads(func), this thread keeping its own trace function
    (stepping's): sys._settraceallthreads sets it too, settrace_all not."""
    own = sys.gettrace() if MONITORING else None
    all_threads(func)
    if MONITORING:
        sys.settrace(own)


_WORDS = 96  # pointers of a thread state searched (the fields sit in the first ~40)
_probed = []


def settrace_all():
    """f(tracefunc) gives every thread but the calling one tracefunc (a
    Python trace function, as sys.settrace takes), f(None) gives each back
    the trace function it had; None where this CPython cannot."""
    if not _probed:
        _probed.append(_probe())
    return _probed[0]


def _probe():
    if not (3, 9) <= sys.version_info[:2] <= (3, 11):
        return None
    api = ctypes.pythonapi
    try:
        set_trace = api._PyEval_SetTrace
    except AttributeError:
        return None
    P = ctypes.c_void_p
    set_trace.argtypes, set_trace.restype = [P, P, P], ctypes.c_int
    api.PyThreadState_Get.restype = P
    api.PyInterpreterState_Get.restype = P
    api.PyInterpreterState_ThreadHead.argtypes, api.PyInterpreterState_ThreadHead.restype = [P], P
    api.PyThreadState_Next.argtypes, api.PyThreadState_Next.restype = [P], P
    api.Py_IncRef.argtypes = api.Py_DecRef.argtypes = [P]
    from .hooks import _gettrace  # the real one (sys.gettrace answers as the program sees it)
    me = api.PyThreadState_Get()
    before = _gettrace()

    def marker(frame, event, arg):
        return None

    sys.settrace(marker)
    try:
        words = (P * _WORDS).from_address(me)
        at = [i for i in range(2, _WORDS) if words[i] == id(marker)]
        if len(at) != 1 or not words[at[0] - 2]:
            return None
        i_obj = at[0]
        i_func = i_obj - 2
        tramp = words[i_func]
    finally:
        sys.settrace(before)
    saved = {}  # thread state -> (c_tracefunc, c_traceobj) it had (a reference held)

    def states():
        ts = api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Get())
        while ts:
            yield ts
            ts = api.PyThreadState_Next(ts)

    def set_all(func):
        me = api.PyThreadState_Get()
        if func is not None:
            for ts in states():
                if ts == me:
                    continue
                if ts not in saved:
                    w = (P * _WORDS).from_address(ts)
                    f, o = w[i_func], w[i_obj]
                    if o:
                        api.Py_IncRef(o)
                    saved[ts] = (f, o)
                set_trace(ts, tramp, id(func))
            return
        live = set(states())
        for ts, (f, o) in saved.items():
            if ts in live and ts != me:
                set_trace(ts, f, o)
            if o:
                api.Py_DecRef(o)
        saved.clear()

    return set_all
