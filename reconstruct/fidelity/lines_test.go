package fidelity

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// linesAfter is what a resumed program must execute: the original run's
// line events after the hit-th event of a line (the breakpoint's snapshot,
// whose own event the resumed run does not repeat) to the end.
type linesAfter struct {
	trace *testutil.LineTrace
	at    point
	hit   int
	files []string
}

// compare reads the resumed run's line events (written by the shim's
// linelog.py) and returns "" when they are the original's from the
// snapshot on, else where they first differ. The snapshot's thread is
// compared event by event; threads started later, whose names a resumed
// run may number differently, as a multiset of sequences.
func (la *linesAfter) compare(path, dir string) string {
	got, err := testutil.ReadLineTrace(path, dir, la.files)
	if err != nil {
		return "no line events were written (" + err.Error() + ")"
	}
	from, n := -1, 0
	for i, e := range la.trace.Events {
		if e.File == la.at.file && e.Line == la.at.line {
			n++
			if n == la.hit {
				from = i
				break
			}
		}
	}
	if from < 0 {
		return fmt.Sprintf("the original never reached hit %d of %s:%d", la.hit, la.at.file, la.at.line)
	}
	origThread := la.trace.Events[from].Thread
	var want, have []testutil.LineEvent
	wantOthers, haveOthers := map[int][]string{}, map[int][]string{}
	for _, e := range la.trace.Events[from+1:] {
		if e.Thread == origThread {
			want = append(want, e)
		} else {
			wantOthers[e.Thread] = append(wantOthers[e.Thread], fmt.Sprintf("%s:%d", e.File, e.Line))
		}
	}
	// the resumed run's first thread to report is the one that arrived
	for _, e := range got.Events {
		if e.Thread == 0 {
			have = append(have, e)
		} else {
			haveOthers[e.Thread] = append(haveOthers[e.Thread], fmt.Sprintf("%s:%d", e.File, e.Line))
		}
	}
	for i := 0; i < len(want) || i < len(have); i++ {
		if i >= len(want) || i >= len(have) || want[i].File != have[i].File || want[i].Line != have[i].Line {
			return fmt.Sprintf("event %d of %d: got %s, want %s (after %s)", i+1, len(want),
				eventAt(have, i), eventAt(want, i), around(want, i))
		}
	}
	if w, h := joinSorted(wantOthers), joinSorted(haveOthers); w != h {
		return "the other threads' line events differ"
	}
	return ""
}

func eventAt(evs []testutil.LineEvent, i int) string {
	if i >= len(evs) {
		return "the end"
	}
	return fmt.Sprintf("%s:%d", evs[i].File, evs[i].Line)
}

func around(evs []testutil.LineEvent, i int) string {
	var parts []string
	for j := max(0, i-3); j < i && j < len(evs); j++ {
		parts = append(parts, fmt.Sprint(evs[j].Line))
	}
	if len(parts) == 0 {
		return "the start"
	}
	return "lines " + strings.Join(parts, ",")
}

func joinSorted(m map[int][]string) string {
	var seqs []string
	for _, s := range m {
		seqs = append(seqs, strings.Join(s, " "))
	}
	sort.Strings(seqs)
	return strings.Join(seqs, "\n")
}
