package tui

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/session"
)

// maxOutput bounds the program output kept for the Output view.
const maxOutput = 1 << 20

// DebuggerLive drives a live program through the session engine (the one
// the DAP server uses) for the TUI: each run command returns once the
// engine reports the next stop or the program's end.
type DebuggerLive struct {
	d *session.Debugger

	mu     sync.Mutex
	cond   *sync.Cond
	gen    int // counts stops and the end
	stop   int64
	exited bool
	code   int
	out    strings.Builder
	drops  int
	note   string
}

// NewDebuggerLive follows the engine's events; call it before d.Start.
func NewDebuggerLive(d *session.Debugger) *DebuggerLive {
	l := &DebuggerLive{d: d}
	l.cond = sync.NewCond(&l.mu)
	go l.follow()
	return l
}

func (l *DebuggerLive) follow() {
	for ev := range l.d.Events() {
		switch ev := ev.(type) {
		case session.StoppedEvent:
			st, _, _, err := l.d.Current()
			l.mu.Lock()
			if err == nil {
				l.stop = st.Snap
			}
			l.note = strings.TrimSpace(ev.Text)
			l.gen++
			l.cond.Broadcast()
			l.mu.Unlock()
		case session.OutputEvent:
			l.mu.Lock()
			l.appendLocked(ev.Text)
			l.mu.Unlock()
		case session.ExitedEvent:
			l.mu.Lock()
			l.exited, l.code, l.stop = true, ev.Code, 0
			l.gen++
			l.cond.Broadcast()
			l.mu.Unlock()
		case session.TerminatedEvent:
			l.mu.Lock()
			l.exited = true
			l.gen++
			l.cond.Broadcast()
			l.mu.Unlock()
		}
	}
	l.mu.Lock()
	l.exited = true
	l.gen++
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *DebuggerLive) appendLocked(text string) {
	if !strings.HasSuffix(text, "\n") && strings.HasPrefix(text, "pyreplay:") {
		text += "\n"
	}
	if l.out.Len()+len(text) > maxOutput {
		l.drops += len(text)
		return
	}
	l.out.WriteString(text)
}

// WaitStop waits until the program has stopped or ended (the first stop
// after Start), at most timeout.
func (l *DebuggerLive) WaitStop(timeout time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitLocked(0, timeout)
}

func (l *DebuggerLive) waitLocked(gen int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer t.Stop()
	for l.gen == gen && !l.exited {
		if time.Now().After(deadline) {
			return fmt.Errorf("the program did not stop within %v", timeout)
		}
		l.cond.Wait()
	}
	return nil
}

// Run implements Live.
func (l *DebuggerLive) Run(cmd string) error {
	l.mu.Lock()
	gen, exited := l.gen, l.exited
	l.note = ""
	l.mu.Unlock()
	if exited {
		return errors.New("the program has ended")
	}
	var err error
	switch cmd {
	case "continue":
		err = l.d.Continue()
	case "next", "stepIn", "stepOut":
		err = l.d.Step(cmd)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// a program may run for as long as it likes before its next stop
	return l.waitLocked(gen, 365*24*time.Hour)
}

// Status implements Live.
func (l *DebuggerLive) Status() LiveStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LiveStatus{Exited: l.exited, ExitCode: l.code, Stop: l.stop, Note: l.note}
}

// Output implements Live.
func (l *DebuggerLive) Output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.out.String()
	if l.drops > 0 {
		s += fmt.Sprintf("\n[pyreplay: %d more bytes of output not kept]\n", l.drops)
	}
	return s
}

// Pause implements Live.
func (l *DebuggerLive) Pause() error { return l.d.Pause() }

// Close implements Live: it ends the program and closes the engine.
func (l *DebuggerLive) Close() error {
	l.d.Close()
	return nil
}
