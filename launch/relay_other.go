//go:build !linux

package launch

import (
	"os"
	"os/signal"
	"syscall"
)

// Without Linux's siginfo handling every caught signal is relayed.
type relay struct{ ch chan os.Signal }

func startRelay(sigs []syscall.Signal, target int, sameGroup bool) *relay {
	rl := &relay{ch: make(chan os.Signal, 8)}
	for _, s := range sigs {
		signal.Notify(rl.ch, s)
	}
	go func() {
		for s := range rl.ch {
			_ = syscall.Kill(target, s.(syscall.Signal))
		}
	}()
	return rl
}

func (rl *relay) stop() {
	signal.Stop(rl.ch)
	close(rl.ch)
}

// DieBy ends pyreplay by sig where Go lets it (see relay_linux.go).
func DieBy(sig syscall.Signal) {
	signal.Reset(sig)
	_ = syscall.Kill(os.Getpid(), sig)
}

func hasControllingTerminal() bool {
	f, err := os.OpenFile("/dev/tty", os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
