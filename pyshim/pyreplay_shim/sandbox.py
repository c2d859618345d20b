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
import shutil
import tempfile

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install():
    private = tempfile.mkdtemp(prefix="pyreplay-reexec-")
    copies = {}  # real path -> private copy
    _remove_at_end(private)

    def copy_of(path, keep):
        real = os.path.realpath(os.fspath(path))
        c = copies.get(real)
        if c is None:
            c = os.path.join(private, "%d-%s" % (len(copies), os.path.basename(real) or "f"))
            if keep and os.path.isfile(real):
                shutil.copyfile(real, c)
            copies[real] = c
        return c

    def mapped(path):
        try:
            return copies.get(os.path.realpath(os.fspath(path)))
        except TypeError:  # a descriptor
            return None

    real_open = io.open

    def sandbox_open(file, mode="r", *args, **kwargs):
        if isinstance(file, int):
            return real_open(file, mode, *args, **kwargs)
        if any(ch in mode for ch in "wax+"):
            file = copy_of(file, keep=("a" in mode or "+" in mode))
        else:
            file = mapped(file) or file
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = sandbox_open

    real_os_open = os.open

    def sandbox_os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS:
            path = copy_of(path, keep=not flags & os.O_TRUNC)
        else:
            path = mapped(path) or path
        return real_os_open(path, flags, *args, **kwargs)

    os.open = sandbox_os_open

    def refused(what):
        def f(*args, **kwargs):
            raise OSError(errno.EPERM, "pyreplay: no %s while re-executing the past" % what)
        return f

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
    me = os.getpid()
    real_exit, listdir, unlink, rmdir, join = os._exit, os.listdir, os.unlink, os.rmdir, os.path.join

    def remove():
        if os.getpid() != me:
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
