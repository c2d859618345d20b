package session

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/launch"
)

// TestTrailingCopy: a window's run whose one copy trails it (pyshim
// follow.py) writes the same events as one whose copies wait at fork
// checkpoints, byte for byte (values' addresses and the code table's
// numbering aside, as TestParkedReexecution compares): a window of the
// last events of every code, and a Reverse Continue's (from the last hit
// of a breakpoint in the hot function), from the last and a middle
// anchor to the uncaught exception. crunch.py's stretches pass the first
// checkpoint, so its runs trail (the end says so); applog.py has its log
// open and written all along, so its runs must not (a copy running beside
// the run would share it) and make fork checkpoints as before; journal.py
// writes, closes and reads back a file, and may trail where none is open.
func TestTrailingCopy(t *testing.T) {
	hotLine := map[string]int{"dap/crunch.py": 7, "dap/applog.py": 8, "dap/journal.py": 6}
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		for _, prog := range []string{"dap/crunch.py", "dap/applog.py", "dap/journal.py"} {
			t.Run(filepath.Base(prog), func(t *testing.T) {
				store, path, target, exact := recordTraced(t, py, prog)
				until, _ := untilOf(target)
				hot := [][3]any{{path, hotLine[prog], ""}} // (the function the loop calls)
				specs := []launch.HistorySpec{
					{Until: until, Scope: &launch.HistoryScope{All: true}, Limit: 300, ForkEvery: 2500},
					{Until: until, Scope: &launch.HistoryScope{All: true, Lines: hot, FromHit: true}, Limit: 5000, ForkEvery: 2500},
				}
				d := &Engine{ended: true}
				defer d.waitRunning(time.Minute) // (before the directory goes: they end after their lines are read)
				trailed := 0
				for _, anchor := range []int64{exact[len(exact)/2], exact[len(exact)-1]} {
					for _, spec := range specs {
						waited := copySpec(spec)
						waited.NoTrail = true
						want, _, err := d.reexecution(store, py.Path, anchor, waited)
						if err != nil {
							t.Fatalf("from snap-%d, fork checkpoints: %v", anchor, err)
						}
						got, _, err := d.reexecution(store, py.Path, anchor, copySpec(spec))
						if err != nil {
							t.Fatalf("from snap-%d, trailing: %v", anchor, err)
						}
						if trailedEnd(t, want) {
							t.Fatalf("from snap-%d: no_trail, yet the copy trailed", anchor)
						}
						if trailedEnd(t, got) {
							trailed++
						}
						if diff := firstDiff(comparable(t, dropTrailed(t, want)), comparable(t, dropTrailed(t, got))); diff != "" {
							t.Fatalf("from snap-%d (%+v): trailing differs from fork checkpoints (started: checkpoints, parked: trailing):\n%s", anchor, spec.Scope, diff)
						}
						if len(want) < 10 {
							t.Fatalf("from snap-%d: few events: %d lines", anchor, len(want))
						}
					}
				}
				switch {
				case prog == "dap/crunch.py" && trailed == 0:
					t.Fatal("no run of crunch.py trailed: the comparison compared fork checkpoints with themselves")
				case prog == "dap/applog.py" && trailed > 0:
					t.Fatalf("%d runs of applog.py trailed, sharing its open log with their copy", trailed)
				}
			})
		}
	})
}

// trailedEnd: the run's end line says its copy trailed it.
func trailedEnd(t *testing.T, lines [][]byte) bool {
	var e struct {
		End     string `json:"end"`
		Trailed bool   `json:"trailed"`
	}
	if len(lines) == 0 || json.Unmarshal(lines[len(lines)-1], &e) != nil || e.End == "" {
		t.Fatalf("no end line: %q", lines)
	}
	return e.Trailed
}

// dropTrailed: lines with the end line's "trailed" removed.
func dropTrailed(t *testing.T, lines [][]byte) [][]byte {
	out := append([][]byte(nil), lines...)
	var m map[string]any
	if err := json.Unmarshal(out[len(out)-1], &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "trailed")
	out[len(out)-1], _ = json.Marshal(m)
	return out
}
