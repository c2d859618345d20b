package session

// What the live program reports (stops, output, its end) becomes history
// and events; events reach the front end through an unbounded queue, and
// the output is also kept for front ends that show it on demand.

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

func (d *Engine) emit(ev any) {
	if o, ok := ev.(OutputEvent); ok {
		d.out.add(o.Text)
	}
	d.events.push(ev)
}

// ------------------------------------------------------------------ live callbacks

func (d *Engine) liveStopped(l *Live, s LiveStop) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l != d.live {
		return
	}
	st := Stop{Snap: s.Snap, Reason: s.Reason, Label: s.Label, Breakpoints: s.Breakpoints, Exception: s.Exception}
	if snap, err := d.snapLocked(s.Snap); err == nil {
		st.Summary = snap.Summary
	} else {
		st.Summary = wire.Summary{ID: recording.SnapID(s.Snap), N: s.Snap, Run: l.run, Reason: s.Reason, Label: s.Label}
	}
	d.hist = append(d.hist, st)
	d.liveStop = len(d.hist) - 1
	d.cur = d.liveStop
	d.gen++
	d.prefetch(s.Snap)
	reason := map[string]string{"function": "function breakpoint"}[s.Reason]
	if reason == "" {
		reason = s.Reason
	}
	ev := StoppedEvent{Reason: reason, Breakpoints: s.Breakpoints, Description: recording.SnapID(s.Snap) + " (live)"}
	if snap, err := d.snapLocked(s.Snap); err == nil && len(snap.Meta.Threads) > 0 && !s.AllStopped {
		ev.OthersRunning = true
	}
	if s.Exception != nil {
		ev.Text = s.Exception.Type + ": " + s.Exception.Message
	}
	d.emit(ev)
}

func (d *Engine) liveOutput(l *Live, category, text string) {
	d.mu.Lock()
	cur := l == d.live
	d.mu.Unlock()
	if cur {
		d.emit(OutputEvent{Category: category, Text: text})
	}
}

func (d *Engine) liveChild(l *Live, c wire.ChildEvent) {
	d.mu.Lock()
	cur := l == d.live
	d.mu.Unlock()
	if cur {
		d.emit(ChildEvent{Pid: c.Pid, Control: c.Control, Argv: c.Argv})
	}
}

func (d *Engine) liveExited(l *Live, code int, shimErr string) {
	d.mu.Lock()
	if d.store != nil && l.proc != nil { // (an attached child ends its run itself)
		_ = d.store.EndRun(l.run, l.status)
	}
	if l != d.live {
		d.mu.Unlock()
		return // replaced by Resume from Here: not the session's end
	}
	d.live = nil
	d.liveStop = -1
	d.ended = true
	d.exited, d.exitCode = true, code
	d.mu.Unlock()
	if shimErr != "" {
		d.emit(OutputEvent{Category: "stderr", Text: "pyreplay: " + shimErr + "\n"})
	}
	d.emit(ExitedEvent{Code: code})
	d.emit(TerminatedEvent{})
}

// ------------------------------------------------------------------ output

// maxOutput bounds the output kept for Output.
const maxOutput = 1 << 20

type outputLog struct {
	mu    sync.Mutex
	b     strings.Builder
	drops int
}

func (o *outputLog) add(text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !strings.HasSuffix(text, "\n") && strings.HasPrefix(text, "pyreplay:") {
		text += "\n"
	}
	if o.b.Len()+len(text) > maxOutput {
		o.drops += len(text)
		return
	}
	o.b.WriteString(text)
}

func (o *outputLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.b.String()
	if o.drops > 0 {
		s += fmt.Sprintf("\n[pyreplay: %d more bytes of output not kept]\n", o.drops)
	}
	return s
}

// ------------------------------------------------------------------ queue

// eventQueue is an unbounded FIFO in front of a channel, so that the engine
// never blocks on a slow front end while holding its lock.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []any
	closed bool
	out    chan any
}

func newEventQueue() *eventQueue {
	e := &eventQueue{out: make(chan any)}
	e.cond = sync.NewCond(&e.mu)
	go e.run()
	return e
}

func (e *eventQueue) push(ev any) {
	e.mu.Lock()
	if !e.closed {
		e.q = append(e.q, ev)
		e.cond.Signal()
	}
	e.mu.Unlock()
}

func (e *eventQueue) close() {
	e.mu.Lock()
	e.closed = true
	e.cond.Signal()
	e.mu.Unlock()
}

func (e *eventQueue) run() {
	for {
		e.mu.Lock()
		for len(e.q) == 0 && !e.closed {
			e.cond.Wait()
		}
		if len(e.q) == 0 && e.closed {
			e.mu.Unlock()
			close(e.out)
			return
		}
		ev := e.q[0]
		e.q = e.q[1:]
		e.mu.Unlock()
		e.out <- ev
	}
}
