"""CRIU images at snapshot time (pyreplay record --criu; see
checkpoint/README.md, "The snapshot-time protocol").

pyreplay hands the shim one end of a Unix socketpair (config criu_fd).
After a snapshot is committed, in the thread that took it and while the
recorder is busy (no other thread records meanwhile), ask() flushes the
program's output, closes the recording's SQLite connection (CRIU refuses
a process holding its locks, and a file that grows after the dump cannot
be restored), asks pyreplay whether to image the process and waits for
the answer. pyreplay dumps the process meanwhile, or not.

  {"dumped": ...}     the original: the recording reopens lazily;
  {"restored": true}  a copy restored from the image by `pyreplay resume`:
                      it must never write to the recording again, and
                      runs undebugged (on_copy: a live session detaches).

files names the shim's other descriptors connected to pyreplay (a live
session's control socket, "live"): CRIU leaves them outside the image and
the restorer hands in new ones at the same numbers.

Leaf module: imports nothing of the shim.
"""
import json
import os
import posix
import sys


class Channel:
    def __init__(self, fd):
        self.fd = fd
        self.pid = posix.getpid()
        try:
            os.set_inheritable(fd, False)  # not passed on to the program's exec()s
        except OSError:
            pass
        self.f = os.fdopen(fd, "r+b", buffering=0, closefd=False)
        self.files = {}    # name -> descriptor (see the module comment)
        self.on_copy = []  # called in a restored copy, after become_copy

    def usable(self):
        # a forked child shares the descriptor, not the process pyreplay dumps
        return self.fd is not None and posix.getpid() == self.pid

    @staticmethod
    def flush():
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:  # noqa: BLE001 - a closed or replaced stream
                pass

    def ask(self, rec, sid):
        """Returns True in a restored copy."""
        self.flush()
        if rec.conn is not None:
            rec.conn.close()
            rec.conn = None
        try:
            self.f.write((json.dumps({"event": "criu-dump", "snapshot": sid, "fd": self.fd,
                                      "files": self.files}) + "\n").encode())
            line = self.f.readline()
        except OSError:
            self.fd = None
            return False
        if not line:
            self.fd = None  # pyreplay went away: no more images
            return False
        try:
            answer = json.loads(line)
        except ValueError:
            return False
        if answer.get("restored"):
            self.become_copy()
            for f in self.on_copy:
                f()
            return True
        return False

    def become_copy(self):
        """The restored copy: no more recording (Recorder.copy), no tracing
        left that would cost the program, the channel closed."""
        try:
            self.f.close()
            os.close(self.fd)
        except OSError:
            pass
        self.fd = None
        import threading
        sys.settrace(None)
        threading.settrace(None)
        mon = getattr(sys, "monitoring", None)
        if mon is not None:
            events = [v for k, v in vars(mon.events).items()
                      if not k.startswith("_") and type(v) is int and v and v & (v - 1) == 0]
            for tid in range(6):
                try:
                    if not (mon.get_tool(tid) or "").startswith("pyreplay"):
                        continue
                    mon.set_events(tid, 0)
                    for ev in events:
                        try:
                            mon.register_callback(tid, ev, None)
                        except Exception:  # noqa: BLE001 - an event without callbacks
                            pass
                except Exception:  # noqa: BLE001 - best effort: the copy records nothing anyway
                    pass
        try:
            # the recorded run wrote into a pipe; the copy may have a terminal
            sys.stdout.reconfigure(line_buffering=sys.stdout.isatty())
        except (AttributeError, OSError, ValueError):
            pass
