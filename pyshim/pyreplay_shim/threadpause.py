"""sys._settraceallthreads for 3.9-3.11 (3.12 has it): a live stop holds
the program's other threads at their next line (control.py _freeze).

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
