package launch

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// foreground gives the terminal on tty to the process group of pid (a copy
// restored from a CRIU image leads a group of its own, so reading the
// terminal would stop it with SIGTTIN) and returns the function that gives
// it back to pyreplay's group. Nothing happens unless tty is a terminal
// whose foreground group is pyreplay's.
func foreground(tty *os.File, pid int) (back func()) {
	noop := func() {}
	fd := int(tty.Fd())
	ours, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || ours != syscall.Getpgrp() || pid <= 0 {
		return noop
	}
	pg, err := syscall.Getpgid(pid)
	if err != nil || pg == ours {
		return noop
	}
	if unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pg) != nil {
		return noop
	}
	return func() {
		// pyreplay is a background group now: taking the terminal back
		// would stop it with SIGTTOU
		signal.Ignore(syscall.SIGTTOU)
		defer signal.Reset(syscall.SIGTTOU)
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, ours)
	}
}
