"""A re-execution's effects go nowhere (linehistory.py): going back in time
never writes a file again, sends anything or starts a process.

- Files the program opens for writing (``open``, ``io.open``, ``os.open``)
  are private copies (made on first write, with the original's content for
  appending and updating): the program reads back what it wrote, as the
  original did, and nothing outside changes.
- Removing, renaming and making files or directories, connecting or
  sending on a socket, and starting a process fail with OSError: the
  re-execution then takes another path than the original, does not reach
  the stop, and pyreplay says it cannot go back (exact or refuse).

Output to stdout and stderr is already dropped by pyreplay. Leaf module.
"""
import builtins
import errno
import io
import os
import posix
import stat
import tempfile

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


# the private copies' directory of this re-execution (install)
_private = []
# the descriptors open before the program's state loads (install): not
# the program's (pyreplay's, or inherited from whatever started it), as
# (number, device, inode)
_inherited = set()


def _descriptors():
    """The open descriptors, as (number, device, inode)."""
    out = set()
    for fd in posix.listdir("/proc/self/fd"):
        try:
            st = posix.fstat(int(fd))
        except (OSError, ValueError):
            continue  # (the listing's own descriptor, closed since)
        out.add((fd, st.st_dev, st.st_ino))
    return out

# when the snapshot the re-execution began at was taken (its state's
# "taken", set once it is loaded), and what to call with a file the
# program reads that changed after it (linehistory.py: its content then
# is an outside input that was not recorded)
since = [None]
on_changed = [None]
# a file's change time may lag its write by a clock tick (4-10 ms): a
# file changed this long before the snapshot counts as changed after it
MTIME_SLACK = 0.05


def _newer(path):
    t = since[0]
    if t is None or on_changed[0] is None:
        return False
    try:
        return posix.stat(path).st_mtime > t - MTIME_SLACK
    except (OSError, TypeError, ValueError):
        return False


def install(scratch=None):
    """The sandbox, its private copies in a new directory in scratch
    (pyreplay's scratch directory, the config's "scratch"; None: the
    default temporary directory)."""
    # (imported before open is replaced below: on 3.8-3.10 its accessor
    # binds io.open / os.open at import, and is given the sandbox's below)
    import pathlib
    private = tempfile.mkdtemp(prefix="pyreplay-reexec-", dir=scratch)
    _private.append(private)
    _inherited.update(_descriptors())
    copies = {}  # real path -> private copy
    _remove_at_end(private)

    def copy_of(path, keep):
        real = os.path.realpath(os.fspath(path))
        c = copies.get(real)
        if c is None:
            c = os.path.join(_private[0], "%d-%s" % (len(copies), os.path.basename(real) or "f"))
            if keep and os.path.isfile(real):
                if _newer(real):
                    on_changed[0](path)
                # (posix's functions: shutil.copyfile would open the copy
                # through this sandbox's open, making a copy of it instead)
                _copy(posix, real, c)
            copies[real] = c
        return c

    def mapped(path):
        try:
            return copies.get(os.path.realpath(os.fspath(path)))
        except TypeError:  # a descriptor
            return None

    real_open = io.open
    real_os_open = os.open

    def sandbox_open(file, mode="r", *args, **kwargs):
        if isinstance(file, int):
            return real_open(file, mode, *args, **kwargs)
        if any(ch in mode for ch in "wax+"):
            path = copy_of(file, keep=("a" in mode or "+" in mode))
        else:
            path = mapped(file)
            if path is None:
                if _newer(file):
                    on_changed[0](file)
                return real_open(file, mode, *args, **kwargs)
        # the private copy, opened under the program's name for it (the
        # file's name, its repr), through the program's opener if any
        if len(args) >= 6:  # (buffering, encoding, errors, newline, closefd, opener)
            theirs, args = args[5], args[:5]
        else:
            theirs = kwargs.pop("opener", None)
        if theirs is None:
            kwargs["opener"] = lambda _name, flags: real_os_open(path, flags, 0o666)  # (io.open's own)
        else:
            kwargs["opener"] = lambda _name, flags: theirs(path, flags)
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = sandbox_open

    def sandbox_os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS:
            path = copy_of(path, keep=not flags & os.O_TRUNC)
        else:
            m = mapped(path)
            if m is None and _newer(path):
                on_changed[0](path)
            path = m or path
        return real_os_open(path, flags, *args, **kwargs)

    os.open = sandbox_os_open

    def refused(what):
        def f(*args, **kwargs):
            raise OSError(errno.EPERM, "pyreplay: no %s while re-executing the past" % what)
        return f

    # 3.8-3.10: pathlib calls os's functions (and 3.10 io.open) through
    # an accessor that bound them when pathlib was imported: the program's
    # Path.write_text, unlink, rename... would reach the real files
    acc = getattr(pathlib, "_NormalAccessor", None)
    if acc is not None:
        for name, f in list(vars(acc).items()):
            if f is real_os_open:
                setattr(acc, name, staticmethod(sandbox_os_open))
            elif f is real_open:
                setattr(acc, name, staticmethod(sandbox_open))
            elif name in ("unlink", "rename", "replace", "rmdir", "mkdir", "symlink", "link_to", "link",
                          "chmod", "lchmod", "touch"):
                setattr(acc, name, staticmethod(refused(name)))

    for name in ("remove", "unlink", "rename", "replace", "rmdir", "mkdir", "makedirs", "removedirs",
                 "truncate", "symlink", "link", "chmod", "system", "posix_spawn", "posix_spawnp",
                 "execv", "execve", "fork"):
        if hasattr(os, name):
            setattr(os, name, refused(name))
    try:
        import _posixsubprocess
        _posixsubprocess.fork_exec = refused("new process")
    except ImportError:
        pass
    import socket
    for name in ("connect", "connect_ex", "sendto", "bind"):
        setattr(socket.socket, name, refused("network"))


def _remove_at_end(private):
    """The private copies' directory goes when the re-execution ends: every
    end of one (linehistory.py's, the program's own) is an os._exit, which
    removes it first. Only in the process that made it: a fork checkpoint's
    copy ends before the process that waits for it (the copies are plain
    files in it). The real functions: the program's are refused."""
    me = posix.getpid()
    real_exit, listdir, unlink, rmdir, join = os._exit, os.listdir, os.unlink, os.rmdir, os.path.join

    def remove():
        if posix.getpid() != me:
            return
        try:
            for name in listdir(private):
                try:
                    unlink(join(private, name))
                except OSError:
                    pass
            rmdir(private)
        except OSError:
            pass

    def exit_(status):
        remove()
        real_exit(status)

    os._exit = exit_
    import atexit
    atexit.register(remove)  # (an ordinary end, should one happen)


def files_at_fork(n):
    """Before a fork checkpoint (forkpoints.Checkpoints) at event n, for
    its copy: the private copies as they are now (their content), kept
    until the copy resumes or ends, and the offsets of the descriptors open
    on regular files, which the copy shares with the process that goes on
    (it reads and writes further through them). (posix's functions: os's
    are refused by now.)"""
    kept = None
    if _private and posix.listdir(_private[0]):
        private = _private[0]
        kept = private + ".at-%d" % n
        posix.mkdir(kept, 0o700)
        for name in posix.listdir(private):
            _copy(posix, os.path.join(private, name), os.path.join(kept, name))
    offsets = {}
    for fd in posix.listdir("/proc/self/fd"):
        try:
            fd = int(fd)
            if stat.S_ISREG(posix.fstat(fd).st_mode):
                offsets[fd] = posix.lseek(fd, 0, os.SEEK_CUR)
        except (OSError, ValueError):
            pass
    return kept, offsets


def fork_private():
    """In a copy forked to run beside this process (follow.py): the private
    copies the program makes from now on go to a directory of its own,
    removed when it ends. (posix's: os.mkdir is refused, and tempfile's
    names would draw from the program's own generator.)"""
    new = "%s.%s" % (_private[0], posix.urandom(6).hex())
    posix.mkdir(new, 0o700)
    _private[0] = new
    _remove_at_end(new)


def shares_nothing(own):
    """Whether a forked copy running beside this process would share
    nothing that either changes (follow.py): no private copy made yet, no
    descriptor opened since install but character devices and the
    regular files at the paths in `own` (a descriptor's offset, a pipe's
    or a socket's data, an epoll instance's events are shared), no shared
    writable memory mapped (mmap's, a multiprocessing Value's). (Linux;
    elsewhere: False.)"""
    try:
        if _private and posix.listdir(_private[0]):
            return False
        for d in _descriptors() - _inherited:
            fd = d[0]
            try:
                mode = posix.fstat(int(fd)).st_mode
            except OSError:
                continue
            if stat.S_ISCHR(mode) or fd in ("0", "1", "2"):
                # (/dev/null, a terminal; a re-execution's standard streams:
                # /dev/null, or a warm interpreter's stdin, read to its end)
                continue
            # a pipe, socket, directory or epoll instance is as shared as
            # a file: an asyncio loop's epoll and wake-up socket would
            # hand one process's events to the other
            if not stat.S_ISREG(mode) or posix.readlink("/proc/self/fd/" + fd) not in own:
                return False
        import _io  # (io.open is this sandbox's)
        with _io.open("/proc/self/maps", "rb") as f:
            for line in f:
                part = line.split(None, 5)
                if part[1].startswith(b"rw") and part[1].endswith(b"s") and \
                        (len(part) < 6 or os.fsdecode(part[5].strip()) not in own):
                    return False
    except OSError:
        return False
    return True


def restore_files(state, resumed):
    """The copy resumes (resumed) or ends: the process that went on has
    ended, so the private copies get back their content at the fork, in
    place (the descriptors open on them stay valid), files made since are
    removed and the descriptors' offsets are put back."""
    kept, offsets = state
    if resumed:
        if kept is not None:
            private = _private[0]
            had = set(posix.listdir(kept))
            for name in posix.listdir(private):
                if name not in had:
                    posix.unlink(os.path.join(private, name))
            for name in had:
                _copy(posix, os.path.join(kept, name), os.path.join(private, name))
        for fd, pos in offsets.items():
            try:
                posix.lseek(fd, pos, os.SEEK_SET)
            except OSError:
                pass
    if kept is not None:
        for name in posix.listdir(kept):
            posix.unlink(os.path.join(kept, name))
        posix.rmdir(kept)


def _copy(posix, src, dst):
    """dst gets src's content, in place (its inode kept)."""
    r = posix.open(src, os.O_RDONLY)
    w = posix.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            b = posix.read(r, 1 << 20)
            if not b:
                break
            posix.write(w, b)
    finally:
        posix.close(r)
        posix.close(w)
