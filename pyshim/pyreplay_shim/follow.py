"""A window's re-execution with one trailing copy instead of fork
checkpoints (forkpoints.py): at the first checkpoint the run forks once,
and the copy, instead of waiting for the run's end, counts the same line
events behind it on the other CPU, as far as the run says the events to
record cannot begin before ("safe N", every SAY_EVERY events: linehistory
bound()), and waits there. At its end the run says where they begin
("go N") and ends once the copy has; the copy counts on to N, records from
there to the stop and writes OUT (linehistory.py's copy path).

Where a fork is cheap (1-3 ms) this is about what the checkpoints cost; where
page tables are virtualised a fork costs 10-30 ms, its copy-on-write
faults included, and a stretch of 50,000 events made five or six, then
counted again in the copy from the last one: one fork, and no counting
again but the few hundred events after the copy's last word.

The copy runs at the same time as the run, so it must share nothing they
would both change: only a process with one thread, no at-fork hook of the
program's, no private copy of a file written yet (sandbox.py), no file of
the program's open (their offsets are shared) and no shared memory mapped
trails, any other makes fork checkpoints as before (Checkpoints); the
files the program writes after the fork go to private copies of the
copy's own (sandbox.fork_private)."""
import os
import sys

from .forkpoints import Checkpoints, _forgotten_at_fork, _hooked

# how often the run says how far its copy may count (events)
SAY_EVERY = 1000


class Trailing(Checkpoints):
    """Checkpoints whose first fork makes a trailing copy when the process
    shares nothing with it (shares_nothing). bound(n): the first event the
    copy may record from, at line event n, whatever comes after n."""

    def __init__(self, every, keep, first, bound, shares_nothing):
        Checkpoints.__init__(self, every, keep, first)
        self.bound, self.shares_nothing = bound, shares_nothing
        self.role = None  # "lead": the run; "trail": the copy; None: neither
        self.limit = 0  # the copy may count the events before this one
        self.buf = b""

    def due(self, n):
        if self.role == "trail":
            return bool(self.every) and n >= self.limit
        return Checkpoints.due(self, n)

    def next_due(self, after):
        if self.role == "trail":
            return self.limit if self.limit > after else after + 1
        return Checkpoints.next_due(self, after)

    def fork(self, n):
        if self.role is None and n == self.first and not _hooked[0] \
                and len(sys._current_frames()) == 1 and self.shares_nothing():
            return self._trail(n)
        if self.role == "lead":
            self._say(b"safe %d\n" % self.bound(n))
            self.next = n + self.every
            return None
        if self.role == "trail":
            return self._word(n)
        return Checkpoints.fork(self, n)

    def _trail(self, n):
        import posix  # (os.fork is the sandbox's: refused)
        undo = _forgotten_at_fork()
        r, w = os.pipe()
        self.forked = True
        pid = posix.fork()
        if pid == 0:
            for back in undo:
                back()
            from . import sandbox
            sandbox.fork_private()  # (the files the program writes from now on)
            os.close(w)
            self.role, self.fd, self.limit, self.every = "trail", r, n, 1
            return self._word(n)
        os.close(r)
        os.set_blocking(w, False)
        self.role, self.fd, self.child = "lead", w, pid
        self.every, self.next, self.waiting = SAY_EVERY, n + SAY_EVERY, [(n, pid, w)]
        return None

    def _say(self, word):
        try:
            os.write(self.fd, word)
        except OSError:  # (a full pipe: the copy is behind; a later word says more)
            pass

    def _word(self, n):
        """The copy at event n, where it may count no further: waits for
        the run's word. None: it may count on; the event to record from;
        or it ends (the run is gone without a word for it)."""
        while True:
            while b"\n" not in self.buf:
                b = os.read(self.fd, 4096)
                if not b:
                    os._exit(0)
                self.buf += b
            line, self.buf = self.buf.split(b"\n", 1)
            word, _, arg = line.partition(b" ")
            if word == b"go":
                return int(arg)
            self.limit = max(self.limit, int(arg))
            if self.limit > n and b"\n" not in self.buf:
                return None

    def resume_copy(self, end, start=None):
        """The run ends at event `end`: its copy records from `start` (by
        default end - keep), or from the first checkpoint, where a copy
        forked there would begin (the events before are another window),
        and writes OUT; this process ends once it has."""
        if self.role != "lead":
            return Checkpoints.resume_copy(self, end, start)
        if start is None:
            start = max(end - self.keep, 0)
        try:
            os.set_blocking(self.fd, True)
            os.write(self.fd, b"go %d\n" % max(start, self.first))
            os.close(self.fd)
            os.waitpid(self.child, 0)
        except OSError:
            pass  # (the copy is gone: nothing is written, pyreplay says it could not go back)
        os._exit(0)


def checkpoints(spec, keep, first, bound, db):
    """A window's run's checkpoints (first: the event where a counting run
    stops recording in full, None for forkpoints.FIRST_CHECKPOINT), every
    "fork_every" events, none trailing with "no_trail"; db: the
    recording's path (its files, as OUT, are read and written at offsets
    of their own: shared harmlessly)."""
    from . import sandbox
    own = {os.path.realpath(p) for p in (spec["out"], db, db + "-wal", db + "-shm", db + "-journal")}
    return Trailing(spec.get("fork_every") or 0, keep, first, bound,
                    lambda: not spec.get("no_trail") and sandbox.shares_nothing(own))
