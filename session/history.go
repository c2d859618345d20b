package session

// Moving through the history (time travel) and running the live program:
// the past is shown from snapshots; at the live stop, the same commands
// run the program.

import (
	"errors"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

func (d *Engine) runningLocked() bool { return d.live != nil && d.liveStop < 0 }

func (d *Engine) moveTo(i int, reason, text string) {
	d.cur = i
	st := d.hist[i]
	ev := StoppedEvent{Reason: reason, Text: text, Description: d.describe(st)}
	if text != "" && i == 0 {
		ev.Description = "start of history: " + ev.Description
	}
	if reason == "breakpoint" {
		ev.Breakpoints = st.Breakpoints
	}
	d.emit(ev)
}

func (d *Engine) describe(st Stop) string {
	if st.Snap < 0 {
		if s, ok := d.cache[st.Snap]; ok {
			return s.ID
		}
	}
	where := recording.SnapID(st.Snap)
	if d.live != nil && d.liveStop >= 0 && d.hist[d.liveStop].Snap == st.Snap {
		return where + " (live)"
	}
	return where + " (history)"
}

// Goto moves the cursor to stop i of the history (clamped) and returns its
// snapshot; it reports no event (the front end asked for it). The history
// can be browsed while the live program runs and after it ended.
func (d *Engine) Goto(i int) (*wire.Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.hist) == 0 {
		return nil, ErrEmpty
	}
	i = max(0, min(i, len(d.hist)-1))
	d.cur = i
	return d.snapLocked(d.hist[i].Snap)
}

// IndexOf is the history index of snapshot n, or -1.
func (d *Engine) IndexOf(n int64) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, st := range d.hist {
		if st.Snap == n {
			return i
		}
	}
	return -1
}

// Continue runs to the next breakpoint: through history first (by line
// from a line of the past: continueLine), then live.
func (d *Engine) Continue() error {
	if ok, err := d.continueLine(); err != nil || ok {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		if err == ErrRunning {
			return nil
		}
		return err
	}
	last := len(d.hist) - 1
	for i := d.cur + 1; i <= last; i++ {
		if d.matches(i) {
			d.moveTo(i, d.matchReason(i), "")
			return nil
		}
	}
	if d.live != nil && d.liveStop >= 0 {
		if _, past := d.virtual[d.hist[d.cur].Snap]; past && d.cur < d.liveStop {
			// line history: continuing from a past line comes back to the
			// present first (the stop the history was re-executed up to)
			d.moveTo(d.liveStop, d.hist[d.liveStop].Reason, "")
			return nil
		}
		d.cur = d.liveStop
		return d.runLocked("continue")
	}
	d.moveTo(last, "step", "pyreplay: no later snapshot matches a breakpoint; this is the last one\n")
	return nil
}

// matchReason is how a stop that matches (matches) is reported: an
// exception stop as one, others as a breakpoint's.
func (d *Engine) matchReason(i int) string {
	if d.hist[i].Reason == "exception" {
		return "exception"
	}
	return "breakpoint"
}

// Step moves one stop forward in history (from a line of the past, by
// line: stepLine), or steps the live program at the live stop. kind is
// next, stepIn or stepOut.
func (d *Engine) Step(kind string) error {
	d.mu.Lock()
	err := d.needStopLocked()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	if ok, err := d.stepLine(kind); ok || err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur < len(d.hist)-1 {
		d.moveTo(d.cur+1, "step", "")
		return nil
	}
	if d.live != nil && d.liveStop == d.cur {
		return d.runLocked(kind)
	}
	d.moveTo(d.cur, "step", "pyreplay: this is the last snapshot of the recording\n")
	return nil
}

// StepBack moves to the previous stop.
func (d *Engine) StepBack() error {
	d.mu.Lock()
	err := d.needStopLocked()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	if ok, err := d.stepBackLine(); ok || err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := d.previousStopLocked(); k >= 0 {
		d.moveTo(k, "step", "")
		return nil
	}
	d.cur = max(d.cur, 0)
	text, atStart := d.startLocked()
	desc := d.describe(d.hist[d.cur])
	if atStart {
		desc = "start of history: " + desc
	}
	d.emit(StoppedEvent{Reason: "step", Text: text, Description: desc})
	return nil
}

// previousStopLocked is the stop Step Back goes to when it cannot go
// back by line: the one before the cursor's in time, -1 at the start of
// the history. A line of the past lies after its window's anchor: the
// recorded snapshots between that anchor and the window's stop (a
// replay's later anchors) are not before it.
func (d *Engine) previousStopLocked() int {
	if d.cur <= 0 || d.cur >= len(d.hist) {
		return -1
	}
	v, past := d.virtual[d.hist[d.cur].Snap]
	if !past {
		return d.cur - 1
	}
	for k := d.cur - 1; k >= 0; k-- {
		st := d.hist[k]
		if _, p := d.virtual[st.Snap]; p || st.Snap <= v.w.anchor {
			return k
		}
	}
	return -1
}

// ReverseContinue moves to the previous stop that matches a breakpoint, or
// to the first.
func (d *Engine) ReverseContinue() error {
	d.mu.Lock()
	err := d.needStopLocked()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	ok, start, err := d.reverseContinueLine()
	if ok || err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := d.cur - 1; i >= 0; i-- {
		if d.matches(i) {
			d.moveTo(i, d.matchReason(i), "")
			return nil
		}
	}
	if start != nil {
		// no hit back to the history's start: its first line event
		d.moveTo(d.insertVirtualLocked(start.w, start.i), "step", d.atStartText())
		return nil
	}
	text := ""
	if d.cur == 0 {
		text = d.atStartText()
	}
	d.moveTo(0, "step", text)
	return nil
}

// Pause stops the running program at its next line.
func (d *Engine) Pause() error {
	d.mu.Lock()
	l := d.live
	running := d.runningLocked()
	d.mu.Unlock()
	if !running {
		return nil
	}
	return l.Send("pause", nil)
}

// needStopLocked: the history can be moved through (and shown) only at a
// stop; once a live program ended its history stays.
func (d *Engine) needStopLocked() error {
	if d.runningLocked() {
		return ErrRunning
	}
	if len(d.hist) == 0 {
		if d.ended {
			return errors.New("the session has ended")
		}
		return errors.New("the program has not stopped yet")
	}
	return nil
}

func (d *Engine) runLocked(cmd string) error {
	l := d.live
	d.liveStop = -1
	d.gen++
	d.runs++
	if err := l.Call(cmd, nil, nil); err != nil {
		if errors.Is(err, launch.ErrChannelClosed) {
			return nil // its end is being reported
		}
		return err
	}
	return nil
}
