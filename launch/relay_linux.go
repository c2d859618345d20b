package launch

// Signals to pyreplay reach the program it runs. The handler is C so that
// it sees siginfo: a signal the terminal generated (si_code SI_KERNEL:
// Ctrl-C, a hangup) went to the whole foreground process group, program
// included, and is not sent a second time; any other (kill, a supervisor)
// is relayed. Go's os/signal does not expose si_code.

/*
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int relay_fd = -1; // set once: the pipe is never closed
static struct sigaction relay_saved[65];
static char relay_installed[65];

static void relay_handler(int sig, siginfo_t *info, void *ctx) {
	int saved_errno = errno;
	int rec[2] = {sig, info ? info->si_code : 0};
	(void)ctx;
	if (relay_fd >= 0) (void)!write(relay_fd, rec, sizeof rec);
	errno = saved_errno;
}

// relay_install catches sig unless it is ignored (nohup, a background job
// of a non-interactive shell): then the program inherits SIG_IGN and the
// signal means nothing to either. Returns 1 when installed.
static int relay_install(int fd, int sig) {
	struct sigaction sa, old;
	if (sig <= 0 || sig >= 65 || sigaction(sig, NULL, &old) != 0) return 0;
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = relay_handler;
	// SA_ONSTACK: Go requires it of handlers that may run on its threads
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	relay_fd = fd;
	if (sigaction(sig, &sa, &relay_saved[sig]) != 0) return 0;
	relay_installed[sig] = 1;
	return 1;
}

static void relay_restore(int sig) {
	if (sig > 0 && sig < 65 && relay_installed[sig]) {
		sigaction(sig, &relay_saved[sig], NULL);
		relay_installed[sig] = 0;
	}
}

static void die_by(int sig) {
	sigset_t set;
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}
*/
import "C"

import (
	"encoding/binary"
	"io"
	"os"
	"sync"
	"syscall"
)

const siKernel = 0x80 // SI_KERNEL

// The handler writes (signal, si_code) to one pipe made at the first relay
// and never closed (closing it could let a late handler write into a
// reused descriptor); one goroutine reads it and passes each signal to the
// relay in place.
var (
	relayOnce sync.Once
	relayW    *os.File // held so that the collector never closes the descriptor
	relayFd   = -1     // relayW's descriptor, non-blocking (read once: File.Fd makes a file blocking)
	relayMu   sync.Mutex
	relayTo   func(sig syscall.Signal, code int32)
	relayOne  sync.Mutex // one relay at a time
)

func relayPipe() int {
	relayOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			return
		}
		relayW, relayFd = w, int(w.Fd())
		_ = syscall.SetNonblock(relayFd, true) // a flood of signals never blocks the handler
		go func() {
			var rec [8]byte
			for {
				if _, err := io.ReadFull(r, rec[:]); err != nil {
					return
				}
				relayMu.Lock()
				if relayTo != nil {
					relayTo(syscall.Signal(binary.NativeEndian.Uint32(rec[:4])), int32(binary.NativeEndian.Uint32(rec[4:])))
				}
				relayMu.Unlock()
			}
		}()
	})
	return relayFd
}

// relay forwards signals to the program until stop is called.
type relay struct{ sigs []syscall.Signal }

// startRelay catches sigs and sends each to the process target. sameGroup
// says whether the program shares pyreplay's process group, so that it
// received terminal-generated signals itself.
func startRelay(sigs []syscall.Signal, target int, sameGroup bool) *relay {
	fd := relayPipe()
	if fd < 0 {
		return nil
	}
	relayOne.Lock()
	relayMu.Lock()
	relayTo = func(sig syscall.Signal, code int32) {
		if code == siKernel && sameGroup {
			return
		}
		_ = syscall.Kill(target, sig)
	}
	relayMu.Unlock()
	rl := &relay{}
	for _, s := range sigs {
		if C.relay_install(C.int(fd), C.int(s)) == 1 {
			rl.sigs = append(rl.sigs, s)
		}
	}
	return rl
}

// stop puts back the handlers that were there before.
func (rl *relay) stop() {
	if rl == nil {
		return
	}
	for _, s := range rl.sigs {
		C.relay_restore(C.int(s))
	}
	relayMu.Lock()
	relayTo = nil
	relayMu.Unlock()
	relayOne.Unlock()
}

// DieBy ends pyreplay killed by sig, as the program it ran was, so that a
// shell or a parent process sees the same status as without pyreplay
// (including the signals Go would otherwise turn into a stack dump or
// ignore). It returns only if sig does not end a process by default.
func DieBy(sig syscall.Signal) {
	C.die_by(C.int(sig))
}

// hasControllingTerminal reports whether pyreplay has one: only then do
// signals come from a terminal, and the program stays in pyreplay's process
// group so that job control (Ctrl-C, Ctrl-Z, reading the terminal) works as
// without pyreplay.
func hasControllingTerminal() bool {
	f, err := os.OpenFile("/dev/tty", os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
