package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// TestParkedReexecution: a parked re-execution (park.go: resumed ahead,
// its spec read where it arrives) writes the same events as one started
// with its spec, byte for byte, from the first, a middle and the last
// anchor of a recording to its last snapshot: every line event with the
// same numbers, hit counts, frames and values, recorded in full and
// through fork checkpoints (values' addresses aside: they differ from run
// to run; and the code table's numbering: comparable). Programs with
// anchors inside a call-heavy loop's frames, a file written and read
// back. (The dap tests' line history sessions, asyncio's among them,
// take parked re-executions too.)
func TestParkedReexecution(t *testing.T) {
	progs := []string{"dap/crunch.py", "dap/journal.py"}
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		for _, prog := range progs {
			t.Run(filepath.Base(prog), func(t *testing.T) {
				store, _, target, exact := recordTraced(t, py, prog)
				until, scope := untilOf(target)
				anchors := []int64{exact[0], exact[len(exact)/2], exact[len(exact)-1]}
				d := &Engine{ended: true}        // (ended: nothing parks again after a run)
				defer d.waitRunning(time.Minute) // (before the directory goes: they end after their lines are read)
				for _, anchor := range anchors {
					specs := []launch.HistorySpec{
						{Until: until, Scope: &launch.HistoryScope{All: true}, Limit: 3000, ForkEvery: 20000},
						{Until: until, Scope: scope, Limit: 40, ForkEvery: 60},
					}
					if prog == "dap/crunch.py" { // (a long run: its stop's frames only, a window's forks)
						specs = []launch.HistorySpec{{Until: until, Scope: scope, Limit: 300, ForkEvery: 5000}}
					}
					for _, spec := range specs {
						started, _, err := d.reexecution(store, py.Path, anchor, copySpec(spec))
						if err != nil {
							t.Fatalf("from snap-%d: %v", anchor, err)
						}
						p, err := startParked(store, py.Path, anchor)
						if err != nil {
							t.Fatalf("parking snap-%d: %v", anchor, err)
						}
						d.parked = p
						parked, run, err := d.reexecution(store, py.Path, anchor, copySpec(spec))
						if err != nil {
							t.Fatalf("parked, from snap-%d: %v", anchor, err)
						}
						if d.parked != nil || run != p.run {
							t.Fatalf("from snap-%d: the parked re-execution did not run it (run %d, parked %d)", anchor, run, p.run)
						}
						if diff := firstDiff(comparable(t, started), comparable(t, parked)); diff != "" {
							t.Fatalf("from snap-%d (fork every %d): parked differs:\n%s", anchor, spec.ForkEvery, diff)
						}
						if len(started) < 3 {
							t.Fatalf("from snap-%d: no events: %s", anchor, bytes.Join(started, nil))
						}
					}
				}
			})
		}
	})
}

func copySpec(s launch.HistorySpec) *launch.HistorySpec { return &s }

var address = regexp.MustCompile(` at 0x[0-9a-f]+`)

// comparable is a re-execution's output as lines to compare: values'
// addresses dropped, and the code table's numbers (given in the order the
// run first meets each code: a parked one meets its stack's at the
// arrival, not while the resume rebuilds it) replaced by the codes'
// names, the table itself sorted.
func comparable(t *testing.T, lines [][]byte) [][]byte {
	names := map[float64]string{}
	var table, rest [][]byte
	for _, l := range lines {
		l = address.ReplaceAll(l, nil)
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if k, ok := m["code"].(float64); ok {
			names[k] = fmt.Sprintf("%v:%v", m["file"], m["f"])
			delete(m, "code")
			b, _ := json.Marshal(m)
			table = append(table, b)
			continue
		}
		rest = append(rest, l)
	}
	for i, l := range rest {
		var m map[string]any
		_ = json.Unmarshal(l, &m)
		if k, ok := m["k"].(float64); ok {
			m["k"] = names[k]
			rest[i], _ = json.Marshal(m)
		}
	}
	slices.SortFunc(table, bytes.Compare)
	return append(table, rest...)
}

// firstDiff: the first line where a and b differ.
func firstDiff(a, b [][]byte) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y []byte
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n  started: %s\n  parked:  %s", i+1, x, y)
		}
	}
	return ""
}

// recordTraced records prog (a fixture, copied to a new directory) with
// record --trace under py: the recording, opened (closed with the test),
// the program's path, its last snapshot and the snapshots before it that
// resume exactly (at least one).
func recordTraced(t *testing.T, py testutil.Python, prog string) (*recording.Store, string, *wire.Snapshot, []int64) {
	dir := t.TempDir()
	path := testutil.CopyFixture(t, prog, dir)
	db := filepath.Join(dir, "rec.db")
	testutil.Cmd{Dir: dir}.Pyreplay(t, "record", "--trace", "--db", db, "--python", py.Path, path)
	store, err := recording.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	all, err := store.List(0)
	if err != nil || len(all) < 2 {
		t.Fatalf("recording: %d snapshots, %v", len(all), err)
	}
	target, err := store.Get(all[len(all)-1].N)
	if err != nil {
		t.Fatal(err)
	}
	var exact []int64
	for _, s := range all[:len(all)-1] {
		if v, _ := launch.ResumeVerdict(store, s.N); v == launch.ResumeExact {
			exact = append(exact, s.N)
		}
	}
	if len(exact) == 0 {
		t.Fatal("no anchor resumes exactly")
	}
	return store, path, target, exact
}
