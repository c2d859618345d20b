"""Periodic checkpoints (``--every``) with no signal or timer the program
could own: its SIGALRM, ``signal.alarm`` and ``setitimer(ITIMER_REAL)``
behave exactly as without pyreplay.

A low-level thread (``_thread``: invisible to ``threading.enumerate()``)
sleeps ``every`` seconds, then asks for a snapshot at the next line the
program runs:

  3.12+      it enables LINE events of pyreplay's own sys.monitoring tool
             (interpreter-wide; any thread may do it). The first LINE event
             in the program's code takes the snapshot and turns them off.
  3.8-3.11   it schedules a call in the main thread with Py_AddPendingCall,
             the way CPython runs signal handlers, without a signal. That
             call sets a trace function on the main thread's frames of the
             program's code; the first line event takes the snapshot and
             removes it.

The thread stops when the program's main code has ended (stop) and around
os.fork(), so that a forking program is single-threaded as without pyreplay
(3.12+ warns about forking a multi-threaded process).
"""
import _thread
import os
import sys
from time import monotonic

from . import paths
from .inputs import real

_clock = real(monotonic)  # bound now: a program may replace time.monotonic; not inputs.py's


V = sys.version_info[:2]


# when the main thread's pause for the last periodic snapshot ended (the
# clock's), and the pauses of the last PACE ones, seconds: the budget
# paces by their median, so that one slow snapshot (a stall of the
# machine, a write waiting for the recording) does not silence the next
# ones for pause / budget (a second for 200 ms at 20%), while a program
# whose every snapshot is slow is paced by that
PACE = 5
_ended = [0.0]
_pauses = []


# a debugger's stops: how many hold the program now, and when the last
# ended (the clock's). None is asked for while one holds it, and the next
# comes `every` after it goes on: a stop is a snapshot itself, of which
# an anchor at the program's next line would be a second (and, asked for
# while the user looked at the stop, it came at once)
_held = [0, 0.0]


def hold():
    """A stop of the debugger's begins (control.py)."""
    _held[0] += 1


def release():
    """That stop ends: the program goes on."""
    _held[0] -= 1
    _held[1] = _clock()


def _take(rec, frame):
    t = _clock()
    rec.snapshot("periodic", "", frame, "line")
    end = _clock()
    _ended[0] = end
    _pauses.append(end - t)
    del _pauses[:-PACE]


def _pause():
    """The pause the budget paces by: the median of the last PACE."""
    if not _pauses:
        return 0.0
    return sorted(_pauses)[len(_pauses) // 2]


def start(rec, every, budget=0):
    """A snapshot every `every` seconds, none asked for while one is being
    taken (it would come right after it); with a budget (a share of the
    run, as the anchors of time travel ask), never more often than that
    share of the run allows: the next comes c / budget seconds after the
    last one's end at the earliest, c the median pause of the last PACE
    (_pause)."""
    arm = _monitoring_arm(rec) if V >= (3, 12) else _pending_arm(rec)
    if arm is None:
        return
    state = {"stop": None, "done": None, "tid": None}

    def tick(stop, done):
        state["tid"] = _thread.get_native_id()
        try:
            due = _clock() + every
            # at a fixed rate, as an interval timer ticks
            while not stop.acquire(True, max(due - _clock(), 0)):
                now = _clock()
                if _held[0]:
                    due = now + every
                    continue
                ready = _ended[0] + _pause() / budget if budget else now
                if _held[1]:
                    ready = max(ready, _held[1] + every)
                if now < ready:
                    due = ready  # (the last one's pause, its share of the run)
                    continue
                due = max(due + every, now)
                if not rec.busy:
                    arm()
        finally:
            done.release()

    def run():
        stop, done = _thread.allocate_lock(), _thread.allocate_lock()
        stop.acquire()
        done.acquire()
        state["stop"], state["done"] = stop, done
        _thread.start_new_thread(tick, (stop, done))

    def halt():
        stop, done = state["stop"], state["done"]
        if stop is None:
            return
        state["stop"] = None
        stop.release()
        done.acquire()
        # and until the OS thread is gone (Linux): 3.12+ counts them to
        # decide whether fork() warns
        task = "/proc/self/task/%s" % state["tid"]
        pause = _thread.allocate_lock()
        pause.acquire()
        for _ in range(2000):
            if not os.path.exists(task):
                break
            pause.acquire(True, 0.0005)  # not time.sleep: the program may have replaced it

    def child():
        state["stop"] = None  # the thread did not survive the fork

    def stop():
        halt()
        arm.disarm()

    run()
    # 3.12+ counts the threads once the fork is done, after the parent's
    # at-fork hooks (3.13) or before them (3.12): the thread comes back at
    # the parent's next line, not in the hook
    os.register_at_fork(before=halt, after_in_parent=(lambda: arm.later(run)) if V >= (3, 12) else run,
                        after_in_child=child)
    _stops.append(stop)


_stops = []


def stop():
    """No more checkpoints: called when the program's main code has ended,
    before the interpreter finalises (3.8 runs the last pending calls before
    the atexit handlers, and would refuse new ones loudly)."""
    while _stops:
        _stops.pop()()


def _monitoring_arm(rec):
    """3.12+: arm() turns on LINE events of a tool of pyreplay's own."""
    M = sys.monitoring
    tool = next((t for t in (4, 3, 5, 1) if M.get_tool(t) is None), None)
    if tool is None:
        return None
    M.use_tool_id(tool, "pyreplay-periodic")

    later = []

    main = _thread.get_ident()  # (start() runs in the main thread)

    def on_line(code, line):
        # the program's own next line in the main thread, as 3.8-3.11 take
        # it: not a line of an at-fork hook still running inside os.fork()
        # (logging's, the program's), before which 3.13 counts the threads
        if not paths.is_user_file(code.co_filename) or _thread.get_ident() != main:
            return None
        if later:
            M.set_events(tool, 0)
            later.pop()()
            return None
        M.set_events(tool, 0)
        _take(rec, sys._getframe(1))
        return None

    M.register_callback(tool, M.events.LINE, on_line)

    def arm():
        M.set_events(tool, M.events.LINE)

    def run_later(fn):
        """fn runs at the program's next line, instead of a checkpoint."""
        later[:] = [fn]
        arm()

    arm.later = run_later
    arm.disarm = lambda: M.set_events(tool, 0)
    return arm


def _pending_arm(rec):
    """3.8-3.11: arm() schedules trace_main in the main thread."""
    try:
        import ctypes
    except ImportError:
        return None
    # the thread's real trace function (stepping's, the breakpoints'):
    # sys.gettrace() answers as the program sees it, without pyreplay's
    from .hooks import _gettrace
    # the frames given the checkpoint's trace function, each with the one it
    # would have had without it (a breakpoint's, stepping's): every event
    # until the checkpoint is forwarded to that one, and all are given back
    # when the checkpoint is taken; prev: the thread's global one before
    armed = []
    prev = [None]
    # on: armed, glob the thread's trace function (until the next line of
    # the program's code; the main thread may be in library code a while)
    state = {"pending": False, "off": False, "on": False}

    def disarm():
        if not state["on"]:
            return
        state["on"] = False
        mine = _gettrace() is glob
        if mine:
            sys.settrace(prev[0])
        # else a stop meanwhile set stepping's, or turned tracing off: then
        # the frames' own functions went with it (the one that turned it
        # off cleared those it knew, not local), and they keep none
        off = not mine and _gettrace() is None
        prev[0] = None
        for f, old in armed:
            if f.f_trace is local:
                f.f_trace = None if off else old
        del armed[:]

    def entry(frame):
        for e in armed:
            if e[0] is frame:
                return e
        return None

    def local(frame, event, arg):
        e = entry(frame)
        old = e[1] if e is not None else None
        if event == "line" and paths.is_user_file(frame.f_code.co_filename):
            disarm()
            _take(rec, frame)
            # this line event is also the breakpoints' (or stepping's), as
            # it would have been without the checkpoint
            return old(frame, event, arg) if old is not None else None
        if old is not None:
            # a return, an exception, a line of a library frame: the trace
            # function the frame would have had sees it as without the
            # checkpoint (stepping over an await notes the suspension on
            # the coroutine's return); what it answers, or sets, is the
            # frame's next one (None keeps it, as CPython's trampoline does)
            nxt = old(frame, event, arg)
            if frame.f_trace is not local:
                nxt, frame.f_trace = frame.f_trace, local
            if nxt is not None and nxt is not local and e is not None:
                e[1] = nxt
        return local

    def glob(frame, event, arg):
        # a frame called while armed: the thread's trace function before
        # decides what traces it, the checkpoint watches it too
        old = prev[0](frame, event, arg) if prev[0] is not None else None
        if not paths.is_user_file(frame.f_code.co_filename):
            return old
        armed.append([frame, old])
        return local

    def trace_main(_arg):
        # runs in the main thread, between two bytecodes of what it was
        # doing, called by CPython's make_pending_calls. No trace function
        # sees this frame (no line or return event of its own: see below)
        sys._getframe().f_trace = None
        try:
            arm_main()
        except Exception:  # noqa: BLE001 - a checkpoint is never worth an error in the program
            pass
        finally:
            # Not pending any more only here, with no Python call left
            # before the return: the tick thread, which may take the GIL
            # while this runs, would queue a second call, which CPython
            # makes in the same make_pending_calls, which while busy leaves
            # its signal set; on 3.11 a traced function's first instruction
            # checks it again and again, never getting past it: the program
            # hung at 100% CPU, inside the second call's first line.
            state["pending"] = False
        return 0

    def arm_main():
        if state["off"]:
            return
        if rec.busy:
            # inside a snapshot (the program's first line's, a stop's):
            # none can be taken in it, and what its taker does next
            # with the trace functions would go wrong armed: a live
            # session turning its tracing off (sys.settrace(None))
            # dropped the arming for good; record --trace's first line,
            # untraced then, got its breakpoint tracer back from this
            # one after the checkpoint, calls traced to the run's end.
            # The next tick asks again
            return
        if state["on"]:
            if _gettrace() is glob:
                return  # (still armed: the last one has not fired yet)
            # armed, but the thread's trace function is another's now: a
            # live session's stepping, stop or thread freeze replaced
            # glob, so that no line event may come to local any more;
            # armed again below (before, no checkpoint came again)
            disarm()
        f = sys._getframe(2)  # (trace_main's caller)
        while f is not None:
            if paths.is_user_file(f.f_code.co_filename):
                armed.append([f, f.f_trace])
                f.f_trace = local
                f.f_trace_lines = True
            f = f.f_back
        prev[0] = _gettrace()
        state["on"] = True
        sys.settrace(glob)

    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(trace_main)
    add = ctypes.pythonapi.Py_AddPendingCall
    add.argtypes = [ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p), ctypes.c_void_p]
    add.restype = ctypes.c_int

    def arm():
        if not state["pending"]:
            state["pending"] = add(callback, None) == 0

    def off():
        state["off"] = True
        disarm()

    arm.callback = callback  # kept alive as long as arm is
    arm.disarm = off
    return arm
