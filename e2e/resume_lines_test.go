package e2e

import (
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// After a resume the program runs exactly the line events the original ran
// after the snapshot: the rebuild of the stack reports none (callers' call
// lines, loop headers), the snapshot's own event is not repeated, and
// breakpoints of the resumed run count hits the same way — also in
// functions restored from the snapshot, whose recorded code carried the
// recording's breakpoint hooks on 3.8-3.11.
func TestResumeRunsTheOriginalsLineEvents(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir, db := resFixture(t, "resume_lines", "orders.py")
		c := testutil.Cmd{Dir: dir}
		orig := testutil.TraceLines(t, c, py.Path, []string{"orders.py"}, []string{"orders.py"})
		// the snapshot: the module's loop body, second order; price() holds a
		// breakpoint while recording (3.8-3.11 compile a hook into it)
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "orders.py:19@2", "-b", "orders.py:6", "orders.py")
		if rec.Code != 0 {
			t.Fatalf("record: %s", rec.Stderr)
		}
		var snap string
		for _, s := range resList(t, c, db) {
			if s.Line == 19 {
				snap = s.ID
			}
		}
		if snap == "" {
			t.Fatalf("no snapshot at line 19: %+v", resList(t, c, db))
		}
		// the original's events after the second line-19 event
		var want []int
		n := 0
		for i, e := range orig.Events {
			if e.Line == 19 {
				n++
				if n == 2 {
					for _, e := range orig.Events[i+1:] {
						want = append(want, e.Line)
					}
					break
				}
			}
		}
		out := filepath.Join(dir, "resumed.json")
		rc := testutil.Cmd{Dir: dir, Env: []string{"PYREPLAY_TRACE_LINES=" + out}}
		r := rc.Pyreplay(t, "resume", snap, "--db", db)
		if r.Code != 0 || r.Stdout != "total 16.5\ndone\n" {
			t.Fatalf("resume %s: exit %d\n%s%s", snap, r.Code, r.Stdout, r.Stderr)
		}
		got, err := testutil.ReadLineTrace(out, dir, []string{"orders.py"})
		if err != nil {
			t.Fatal(err)
		}
		var have []int
		for _, e := range got.Events {
			have = append(have, e.Line)
		}
		if len(have) != len(want) {
			t.Fatalf("resumed line events %v, want the original's %v", have, want)
		}
		for i := range want {
			if have[i] != want[i] {
				t.Fatalf("resumed line events %v, want the original's %v", have, want)
			}
		}
		// breakpoints of the resumed run: line 19's next event is not the
		// snapshot's own (there is none); total's loop header runs 3 times,
		// price's first line twice (a function restored from the snapshot)
		before := len(resList(t, c, db))
		r = c.Pyreplay(t, "resume", snap, "--db", db, "-b", "orders.py:19", "-b", "orders.py:12", "-b", "orders.py:6")
		if r.Code != 0 {
			t.Fatalf("resume with breakpoints: %s", r.Stderr)
		}
		hits := map[int]int{}
		for _, s := range resList(t, c, db)[before:] {
			hits[s.Line]++
		}
		if hits[19] != 0 || hits[12] != 3 || hits[6] != 2 {
			t.Fatalf("resumed run's breakpoint hits %v, want line 12: 3, line 6: 2, line 19: none", hits)
		}
	})
}
