"""The program's stdout and stderr, counted: snapshots record how many
bytes each had written (resume starts the counters there). A leaf."""
import io
import os
import sys


class CountingRaw(io.RawIOBase):
    """Raw layer under sys.stdout/sys.stderr that counts the bytes written."""

    def __init__(self, fd, start=0, name=None):
        super().__init__()
        self._fd = fd
        self.count = start
        self.name = name if name is not None else fd
        self.mode = "wb"

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        return self._fd

    def isatty(self):
        return os.isatty(self._fd)

    def write(self, b):
        n = os.write(self._fd, b)
        self.count += n
        return n

    def close(self):
        # never close the process's own descriptor
        io.RawIOBase.close(self)


_keep_alive = []
counters = {}


def install_counters(start_out=0, start_err=0):
    for name, fd, start in (("stdout", 1, start_out), ("stderr", 2, start_err)):
        old = getattr(sys, name)
        if old is None or not hasattr(old, "buffer"):
            continue
        try:
            if old.fileno() != fd:
                continue
        except (OSError, ValueError, io.UnsupportedOperation):
            continue
        old.flush()
        raw = CountingRaw(fd, start, getattr(old, "name", "<%s>" % name))
        if isinstance(old.buffer, io.BufferedWriter):
            # the same buffer size as Python's own (io.open: st_blksize),
            # so that output reaches the descriptor in the same pieces
            try:
                size = os.fstat(fd).st_blksize
            except OSError:
                size = 0
            buf = io.BufferedWriter(raw, size if size > 1 else io.DEFAULT_BUFFER_SIZE)
        else:
            buf = raw  # python -u / PYTHONUNBUFFERED: no binary buffer
        new = io.TextIOWrapper(buf, encoding=old.encoding, errors=old.errors,
                               line_buffering=old.line_buffering,
                               write_through=getattr(old, "write_through", False))
        try:
            new.mode = old.mode
        except AttributeError:
            pass
        _keep_alive.append(old)
        setattr(sys, name, new)
        if getattr(sys, "__%s__" % name, None) is old:
            setattr(sys, "__%s__" % name, new)
        counters[name] = raw


def output_bytes():
    for name in ("stdout", "stderr"):
        s = getattr(sys, name, None)
        try:
            if s is not None:
                s.flush()
        except Exception:  # noqa: BLE001
            pass
    return (counters["stdout"].count if "stdout" in counters else 0,
            counters["stderr"].count if "stderr" in counters else 0)
