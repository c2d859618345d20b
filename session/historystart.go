package session

// Where the history begins, as Step Back and Reverse Continue say at its
// start: the program's first line while its anchor is kept, else the
// oldest snapshot of the run kept (time travel's anchors are bounded:
// launch.UseAnchors), and how to have more of it.

import (
	"fmt"
	"path/filepath"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// atStartText is what Step Back and Reverse Continue say at the start of
// the history. Called with d.mu held.
func (d *Engine) atStartText() string {
	text, _ := d.startLocked()
	return text
}

// startLocked is what Step Back says when the cursor has no earlier line
// or stop, and whether that is the start of the history: the run's oldest
// snapshot reached (a line of the past: the oldest anchor its windows
// were re-executed from). Called with d.mu held.
func (d *Engine) startLocked() (text string, atStart bool) {
	if !d.lines {
		return "pyreplay: this is the first stop; there is no earlier one (\"lineHistory\": true steps back by line)\n", true
	}
	first, last, ok := d.historyBoundsLocked()
	if !ok {
		return "pyreplay: this is the start of the history\n", true
	}
	begins := "the program's first line"
	if first.Reason != "entry" || first.Label != "anchor" {
		begins = fmt.Sprintf("%s (%s at %s:%d)", recording.SnapID(first.N), first.Function, filepath.Base(first.File), first.Line)
		if last.N > first.N && last.Time >= first.Time {
			begins += fmt.Sprintf(", %.1f s before %s", last.Time-first.Time, recording.SnapID(last.N))
		}
	}
	if reached := d.reachedLocked(); reached > first.N {
		// (a frame whose earlier lines a re-execution from an earlier
		// anchor did not trace: not the history's start)
		return fmt.Sprintf("pyreplay: no earlier line of this frame or stop found going back from here (the history begins at %s)\n", begins), false
	}
	if first.Reason == "entry" && first.Label == "anchor" {
		return "pyreplay: this is the start of the history (the program's first line)\n", true
	}
	more := "record with a longer --history to keep more (pyreplay record --trace --history 1m)"
	if !d.replay {
		more = fmt.Sprintf("a longer \"history\" in the launch configuration keeps more (it keeps %s; e.g. \"history\": \"1m\")", d.opts.History)
	}
	return fmt.Sprintf("pyreplay: this is the start of the history: it begins at %s; nothing of the run before it is kept to re-execute from; %s\n", begins, more), true
}

// reachedLocked is the oldest snapshot going back from the cursor has
// reached: the anchor of the earliest window made before a line of the
// past's, or the cursor's own snapshot.
func (d *Engine) reachedLocked() int64 {
	at := d.hist[d.cur].Snap
	v, past := d.virtual[at]
	if !past {
		return at
	}
	at = v.w.anchor
	for w := v.w; w != nil; w = w.prev {
		at = min(at, w.anchor)
	}
	return at
}

// historyBoundsLocked is the run's oldest snapshot still recorded (where
// its history begins) and the latest stop of the history in that run.
func (d *Engine) historyBoundsLocked() (first, last wire.Summary, ok bool) {
	if d.store == nil || d.cur < 0 || d.cur >= len(d.hist) {
		return first, last, false
	}
	at := d.hist[d.cur].Snap
	if v, past := d.virtual[at]; past {
		at = v.w.head
	}
	s, err := d.snapLocked(at)
	if err != nil {
		return first, last, false
	}
	all, err := d.store.List(s.Run)
	if err != nil || len(all) == 0 {
		return first, last, false
	}
	byN := make(map[int64]wire.Summary, len(all))
	for _, x := range all {
		byN[x.N] = x
	}
	for i := len(d.hist) - 1; i >= 0; i-- {
		if x, in := byN[d.hist[i].Snap]; in {
			return all[0], x, true
		}
	}
	return all[0], all[len(all)-1], true
}
