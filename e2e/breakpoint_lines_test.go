package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Breakpoints stop where CPython runs a line: as many times as sys.settrace
// reports a line event there (each iteration at a for header, each
// iteration of a comprehension, each call of a lambda), in record, over DAP
// and in the TUI, on 3.8, 3.11, 3.12 and 3.13; `@K if cond` counts the
// events at which the condition held, the same in all three.

var bpVersions = []string{"3.8", "3.11", "3.12", "3.13"}

// bpSetup copies fixtures/breakpoints/lines.py and returns its directory,
// the interpreter, and the line events sys.settrace reports for it.
func bpSetup(t *testing.T, minor string) (string, string, map[int]int) {
	t.Helper()
	py := testutil.PythonFor(t, minor) // skips, saying so, when absent
	dir := t.TempDir()
	testutil.CopyFixture(t, "breakpoints/lines.py", dir)
	ev := testutil.LineEvents(t, testutil.Cmd{Dir: dir}, py, []string{"lines.py"}, []string{"lines.py"})
	return dir, py, ev["lines.py"]
}

// bpCounts counts the breakpoint snapshots of a recording per line.
func bpCounts(t *testing.T, dir, db string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, s := range lsJSON(t, dir, db) {
		if s.Reason == "breakpoint" {
			out[s.Line]++
		}
	}
	return out
}

// condSpec is the `@K if cond` breakpoint every front end gets: the for
// header's 3rd event at which total > 5 is the 4th event of the first call
// (total is 0, 11, 20, then 35).
const condHit, condExpr, condTotal = 3, "total > 5", "35"

func checkCondStop(t *testing.T, what, dir, db string) {
	t.Helper()
	var ids []string
	for _, s := range lsJSON(t, dir, db) {
		if s.Reason == "breakpoint" {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s: %d breakpoint stops for @%d if %s, want 1", what, len(ids), condHit, condExpr)
	}
	top := topFrame(t, showJSON(t, dir, db, ids[0]))
	if v := frameLocal(t, top, "total"); v.Repr != condTotal || top.Line != marker(t, filepath.Join(dir, "lines.py"), "for") {
		t.Errorf("%s: @%d if %s stopped at line %d with total=%s, want the for header with total=%s", what, condHit, condExpr, top.Line, v.Repr, condTotal)
	}
}

func TestBreakpointLinesRecord(t *testing.T) {
	for _, minor := range bpVersions {
		minor := minor
		t.Run("py"+minor, func(t *testing.T) {
			t.Parallel()
			dir, py, ev := bpSetup(t, minor)
			lf := filepath.Join(dir, "lines.py")
			lines := []int{marker(t, lf, "for"), marker(t, lf, "comp"), marker(t, lf, "lambda")}
			args := []string{"record", "--db", "rec.db", "--python", py}
			for _, l := range lines {
				args = append(args, "-b", fmt.Sprintf("lines.py:%d", l))
			}
			c := testutil.Cmd{Dir: dir}
			if r := c.Pyreplay(t, append(args, "lines.py")...); r.Code != 0 {
				t.Fatalf("record: exit %d\n%s", r.Code, r.Stderr)
			}
			got := bpCounts(t, dir, "rec.db")
			for _, l := range lines {
				if got[l] != ev[l] || ev[l] < 2 {
					t.Errorf("line %d: %d snapshots, sys.settrace reports %d line events", l, got[l], ev[l])
				}
			}
			t.Logf("CPython %s: stops per line %v, sys.settrace %v", minor, got, ev)
			spec := fmt.Sprintf("lines.py:%d@%d if %s", lines[0], condHit, condExpr)
			if r := c.Pyreplay(t, "record", "--db", "cond.db", "--python", py, "-b", spec, "lines.py"); r.Code != 0 {
				t.Fatalf("record %s: exit %d\n%s", spec, r.Code, r.Stderr)
			}
			checkCondStop(t, "record", dir, "cond.db")
		})
	}
}

// A line CPython never runs is refused, naming the nearest lines that run.
func TestBreakpointLinesRefused(t *testing.T) {
	dir, py, _ := bpSetup(t, "3.11")
	lf := filepath.Join(dir, "lines.py")
	never := marker(t, lf, "never")
	res := testutil.Cmd{Dir: dir}.Pyreplay(t, "record", "--db", "rec.db", "--python", py, "-b", fmt.Sprintf("lines.py:%d", never), "lines.py")
	want := fmt.Sprintf("line %d of lines.py has no code CPython runs (nearest lines that run: %d, %d)", never, marker(t, lf, "lambda")+1, never+3)
	if res.Code == 0 || !strings.Contains(res.Stderr, want) {
		t.Errorf("exit %d, stderr %q; want a refusal saying %q", res.Code, res.Stderr, want)
	}
}

func TestBreakpointLinesDAP(t *testing.T) {
	for _, minor := range bpVersions {
		minor := minor
		t.Run("py"+minor, func(t *testing.T) {
			t.Parallel()
			dir, py, ev := bpSetup(t, minor)
			lf := filepath.Join(dir, "lines.py")
			forL, compL := marker(t, lf, "for"), marker(t, lf, "comp")
			stops := dapRun(t, dir, py, "rec.db", []map[string]any{{"line": forL}, {"line": compL}})
			got := bpCounts(t, dir, "rec.db")
			if stops != ev[forL]+ev[compL] || got[forL] != ev[forL] || got[compL] != ev[compL] {
				t.Errorf("%d stops %v; sys.settrace reports %d at the for header, %d at the comprehension", stops, got, ev[forL], ev[compL])
			}
			dapRun(t, dir, py, "cond.db", []map[string]any{{"line": forL, "condition": condExpr, "hitCondition": fmt.Sprint(condHit)}})
			checkCondStop(t, "dap", dir, "cond.db")
		})
	}
}

// dapRun debugs lines.py over DAP with these breakpoints, continuing at
// every stop until the program ends; it returns the number of stops.
func dapRun(t *testing.T, dir, py, db string, bps []map[string]any) int {
	t.Helper()
	c, stop := dapStdio(t)
	defer stop()
	prog := filepath.Join(dir, "lines.py")
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"program": prog, "python": py, "db": filepath.Join(dir, db), "cwd": dir})
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("launch: %v", r["message"])
	}
	c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": bps})
	r := c.wait("setBreakpoints", isResponse("setBreakpoints"))
	for _, b := range r["body"].(map[string]any)["breakpoints"].([]any) {
		if b.(map[string]any)["verified"] != true {
			t.Fatalf("breakpoint not verified: %v", b)
		}
	}
	c.send("configurationDone", nil)
	n := 0
	for {
		m := c.wait("stopped or terminated", func(m map[string]any) bool {
			return m["type"] == "event" && (m["event"] == "stopped" || m["event"] == "terminated")
		})
		if m["event"] == "terminated" {
			return n
		}
		n++
		c.send("continue", map[string]any{"threadId": 1})
	}
}

func TestBreakpointLinesTUI(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; the TUI test drives the real binary in it")
	}
	bin := testutil.Binary(t)
	for _, minor := range bpVersions {
		minor := minor
		t.Run("py"+minor, func(t *testing.T) {
			dir, py, ev := bpSetup(t, minor)
			lf := filepath.Join(dir, "lines.py")
			forL, compL := marker(t, lf, "for"), marker(t, lf, "comp")
			cmd := fmt.Sprintf("%s tui --db rec.db --python %s -b lines.py:%d -b lines.py:%d lines.py; echo \"tui exited with $?\"; sleep 60", bin, py, forL, compL)
			tm := newTmux(t, dir, 100, 30, nil, cmd)
			tm.waitFor("first stop", "‖ paused")
			deadline := time.Now().Add(60 * time.Second)
			for !strings.Contains(tm.screen(false), "exited 0") {
				if time.Now().After(deadline) {
					t.Fatalf("the program did not end:\n%s", tm.screen(false))
				}
				tm.keys("c")
				time.Sleep(150 * time.Millisecond)
			}
			tm.keys("q")
			tm.waitFor("quit", "tui exited with 0")
			got := bpCounts(t, dir, "rec.db")
			if got[forL] != ev[forL] || got[compL] != ev[compL] {
				t.Errorf("stops %v; sys.settrace reports %d at the for header, %d at the comprehension", got, ev[forL], ev[compL])
			}

			cmd = fmt.Sprintf("%s tui --db cond.db --python %s -b 'lines.py:%d@%d if %s' lines.py; echo \"tui exited with $?\"; sleep 60", bin, py, forL, condHit, condExpr)
			tm = newTmux(t, dir, 100, 30, nil, cmd)
			tm.waitFor("the conditional stop", "‖ paused", "total: int = "+condTotal)
			tm.keys("q")
			tm.waitFor("quit", "tui exited with 0")
			checkCondStop(t, "tui", dir, "cond.db")
		})
	}
}
