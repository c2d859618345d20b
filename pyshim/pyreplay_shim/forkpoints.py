"""Fork checkpoints inside one re-execution of the past (linehistory.py):
a counting run leaves forked copies of itself waiting, and the one
nearest before the events to record resumes and records them."""
import os
import sys
import time

from .inputs import real

# the shim's own clock (a re-execution's time.perf_counter gives the
# recording's values: inputs.py)
_clock = real(time.perf_counter)
# a checkpoint's fork costs the run about this many times the fork call's
# own time (its copy-on-write page faults come after, while it counts)
FORK_COST = 2


# whether code outside the standard library registered an at-fork hook
# (watch_hooks): it would run in a copy (a `before` one in the run
# itself), so the run forks none and records its last events in full
_hooked = [False]


def watch_hooks():
    """In a re-execution, before the program's state loads: an at-fork hook
    registered from then on by code outside the standard library (the
    program's, a library's) turns the fork checkpoints off."""
    import sysconfig
    paths = sysconfig.get_paths()
    std = tuple({paths[k].rstrip(os.sep) + os.sep for k in ("stdlib", "platstdlib") if paths.get(k)})
    real = os.register_at_fork

    def register_at_fork(**hooks):
        fn = sys._getframe(1).f_code.co_filename
        if not (fn.startswith("<frozen") or (fn.startswith(std) and "-packages" + os.sep not in fn)):
            _hooked[0] = True
        return real(**hooks)
    register_at_fork.__name__ = register_at_fork.__qualname__ = "register_at_fork"
    register_at_fork.__doc__ = real.__doc__
    os.register_at_fork = register_at_fork


# the event a window's re-execution stops recording in full at, its
# first copy waiting there: past it, a stretch's events are only counted
FIRST_CHECKPOINT = 1000


class Checkpoints(object):
    """Fork checkpoints of a counting run (rr's idea, inside one
    re-execution): while the run only counts line events (a test and an
    increment each), at its FIRST_CHECKPOINT-th event (or `first`) and
    every `every` events after, or more as the run grows or where a fork
    is slow (spacing), a forked copy of
    the process waits at that event. When the run reaches its end, the
    latest copy at or before the last `keep` events resumes, counts on up
    to them and records them in full, and the counting run ends. Copies
    no longer needed are ended as new ones are made; at most three wait at
    a time when every >= keep / 2. Used only while the process has one
    thread (a fork copies only the thread that forks)."""

    def __init__(self, every, keep, first=None):
        self.every, self.keep = every, keep
        # the first checkpoint: a run of fewer events records them all,
        # forking nothing (a stop's window is often a few events)
        self.first = min(keep, FIRST_CHECKPOINT if first is None else first)
        self.next = self.first  # the next checkpoint's event number
        self.waiting = []  # (event number, pid, the write end of its pipe)
        self.ending = []  # the pids of copies ended, not yet reaped (_end)
        self.forked = False
        self.last = None  # (event number, clock) when the last fork returned
        self.cost = None  # the cheapest fork's seconds (the others: noise)

    def due(self, n):
        return bool(self.every) and n == self.next

    def next_due(self, after):
        """The first checkpoint's event number after `after`."""
        return self.next if self.next > after else after + max(self.every, 1)

    def spacing(self, n, t0):
        """The events to the checkpoint after the one at n, whose fork began
        at t0: every, or sqrt(2 n f), f a fork's cost in events (twice the
        cheapest fork's time: the copy-on-write faults after it cost about
        as much, at the pace the run counted since the last checkpoint).
        A run that ends soon after n spends about n f / gap forking and
        gap / 2 counting again in the copy: that gap makes the sum least,
        and the spacing grows with the run."""
        gap = self.every
        if self.last is not None:
            took = t0 - self.last[1]
            if took > 0:
                f = (n - self.last[0]) / took * self.cost * FORK_COST
                gap = max(gap, int((2 * n * f) ** 0.5))
        return gap

    def fork(self, n):
        """Fork a copy waiting at event n: in the copy, once resumed, the
        event it records from; None in this process (or no fork made: the
        process has threads, or at-fork hooks of the program's)."""
        t0 = _clock()
        if _hooked[0] or len(sys._current_frames()) != 1:
            self.next = n + self.every
            return None
        self._reap()
        import posix  # (os.fork is the sandbox's: refused)
        # the files the run writes, as they are at this event: kept before
        # the fork (this process goes on writing them at once), for the copy
        from . import sandbox
        files = sandbox.files_at_fork(n)
        undo = _forgotten_at_fork()
        r, w = os.pipe()
        pid = posix.fork()
        if pid == 0:
            for back in undo:
                back()
            os.close(w)
            for _, _, other in self.waiting:
                os.close(other)
            self.waiting, self.ending = [], []
            go = os.read(r, 32)
            os.close(r)
            sandbox.restore_files(files, go.startswith(b"go "))
            if not go.startswith(b"go "):
                os._exit(0)  # (not needed, or the counting run ended)
            return int(go[3:])
        os.close(r)
        self.forked = True
        cost = _clock() - t0
        self.cost = cost if self.cost is None else min(self.cost, cost)
        self.next = n + self.spacing(n, t0)
        self.last = (n, _clock())
        self.waiting.append((n, pid, w))
        # keep the copies after n - keep, and the latest one before
        older = [c for c in self.waiting if c[0] <= n - self.keep]
        for c in older[:-1]:
            self._end(c)
        return None

    def drop(self):
        for c in list(self.waiting):
            self._end(c)

    def resume_copy(self, end, start=None):
        """The run ends at event `end`: the copy to record is the latest
        waiting at or before `start` (by default end - keep; else the
        first); it records from there and writes OUT; this process waits
        for it."""
        if start is None:
            start = max(end - self.keep, 0)
        pick = None
        for c in self.waiting:
            if c[0] <= start or pick is None:
                pick = c
        # (the others end with this process, their pipes closed: ended
        # now, they would take the CPU from the one that counts on)
        os.write(pick[2], b"go %d" % start)
        os.close(pick[2])
        os.waitpid(pick[1], 0)
        os._exit(0)

    def _end(self, c):
        """End copy c: its pipe closed, it exits by itself (restore_files,
        not resumed), reaped later (_reap) or, once this process ends, by
        init: waiting for its exit here cost the counting run ~2 ms a
        checkpoint."""
        self.waiting.remove(c)
        os.close(c[2])
        self.ending.append(c[1])

    def _reap(self):
        for pid in list(self.ending):
            try:
                done = os.waitpid(pid, os.WNOHANG)[0] != 0
            except OSError:
                done = True
            if done:
                self.ending.remove(pid)


def _forgotten_at_fork():
    """What the standard library resets in a forked child that the program
    would see, each with what gives it back in the copy, which must go on
    as the program did: random's global generator (random reseeds it,
    os.register_at_fork); asyncio's running loop (its pid is checked:
    none in a child), its policy's loop and the signal wakeup fd (3.12+
    resets them at fork)."""
    undo = []
    rnd = getattr(sys.modules.get("random"), "_inst", None)
    if rnd is not None:
        state = rnd.getstate()
        undo.append(lambda: rnd.setstate(state))
    ev = sys.modules.get("asyncio.events")
    if ev is not None:
        import signal
        running = ev._get_running_loop()
        policy = getattr(ev, "_event_loop_policy", None)
        local = getattr(policy, "_local", None)
        try:
            fd = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(fd)
        except (ValueError, OSError):  # (not the main thread: it is not reset)
            fd = -1

        def asyncio_back():
            if local is not None:
                policy._local = local
            ev._set_running_loop(running)
            if fd != -1:
                signal.set_wakeup_fd(fd)
        undo.append(asyncio_back)
    return undo
