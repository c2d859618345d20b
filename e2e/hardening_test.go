package e2e

// The small items of issue 11, each a regression test against the real
// binary: a directory program, non-UTF-8 arguments, terminal escapes in
// labels, a damaged line column, DAP paging arguments out of range and an
// empty stack.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// `pyreplay record DIR` runs DIR/__main__.py as `python DIR` does: the same
// output, traceback and exit code; a directory without one is refused.
func TestRecordDirectoryProgram(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		t.Run("py"+minor, func(t *testing.T) {
			py := testutil.Python{Minor: minor, Path: testutil.PythonFor(t, minor)}
			dir := testutil.CopyFixture(t, "safety", t.TempDir())
			db := filepath.Join(t.TempDir(), "rec.db")
			for _, args := range [][]string{{"adir"}, {"adir", "x", "fail"}} {
				want := runPlain(t, py, dir, "", args...)
				got := runRecord(t, py, dir, db, "", args...)
				gotErr, _ := splitSummary(t, got.Stderr)
				if got.Stdout != want.Stdout || gotErr != want.Stderr || got.Code != want.Code {
					t.Errorf("%v: got %q %q exit %d\nwant %q %q exit %d", args, got.Stdout, gotErr, got.Code, want.Stdout, want.Stderr, want.Code)
				}
			}
			if err := os.Remove(filepath.Join(dir, "adir", "__main__.py")); err != nil {
				t.Fatal(err)
			}
			res := runRecord(t, py, dir, db, "", "adir")
			if res.Code == 0 || !strings.Contains(res.Stderr, "without a __main__.py") {
				t.Errorf("a directory without __main__.py: exit %d %q", res.Code, res.Stderr)
			}
		})
	}
}

// Arguments that are not valid UTF-8 reach the program as surrogate
// escapes, as with plain Python (not as U+FFFD).
func TestRecordArgvBytes(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		t.Run("py"+minor, func(t *testing.T) {
			py := testutil.Python{Minor: minor, Path: testutil.PythonFor(t, minor)}
			dir := testutil.CopyFixture(t, "safety", t.TempDir())
			db := filepath.Join(t.TempDir(), "rec.db")
			args := []string{"argv.py", "caf\xe9", "\xff\xfe", "ok"}
			want := runPlain(t, py, dir, "", args...)
			got := runRecord(t, py, dir, db, "", args...)
			if !strings.Contains(want.Stdout, `\udce9`) || got.Stdout != want.Stdout {
				t.Errorf("argv: %q, want %q", got.Stdout, want.Stdout)
			}
		})
	}
}

// A label with terminal control sequences is listed escaped by `ls` and
// `show`: nothing reaches the terminal that it would act on.
func TestLsEscapesLabels(t *testing.T) {
	py := testutil.Python{Minor: "3.12", Path: testutil.PythonFor(t, "3.12")}
	dir := testutil.CopyFixture(t, "safety", t.TempDir())
	db := filepath.Join(dir, "rec.db")
	if res := runRecord(t, py, dir, db, "", "labels.py"); res.Code != 0 {
		t.Fatalf("record: %s", res.Stderr)
	}
	for _, args := range [][]string{{"ls", "--db", db}, {"show", "snap-2", "--db", db}} {
		res := runPyreplay(t, dir, args...)
		if res.Code != 0 {
			t.Fatalf("%v: %s", args, res.Stderr)
		}
		if strings.ContainsAny(res.Stdout, "\x1b\x07\u009b") {
			t.Errorf("%v printed raw control characters: %q", args, res.Stdout)
		}
		if !strings.Contains(res.Stdout, `evil\x1b]0;pwned\a`) {
			t.Errorf("%v: the label is not shown escaped: %q", args, res.Stdout)
		}
	}
}

// One snapshot row whose line is not an integer (an edited or damaged
// recording) leaves the rest readable: ls, ls --json, show, the TUI and a
// DAP replay.
func TestDamagedLineColumn(t *testing.T) {
	py := testutil.Python{Minor: "3.12", Path: testutil.PythonFor(t, "3.12")}
	dir := testutil.CopyFixture(t, "safety", t.TempDir())
	db := filepath.Join(dir, "rec.db")
	if res := runRecord(t, py, dir, db, "", "labels.py"); res.Code != 0 {
		t.Fatalf("record: %s", res.Stderr)
	}
	sqlite(t, py.Path, db, "UPDATE snapshots SET line='not a line' WHERE id=1")
	if res := runPyreplay(t, dir, "ls", "--db", db); res.Code != 0 || !strings.Contains(res.Stdout, "snap-2") {
		t.Errorf("ls: exit %d %s%s", res.Code, res.Stdout, res.Stderr)
	}
	if list := lsJSON(t, dir, db); len(list) != 2 {
		t.Errorf("ls --json lists %d snapshots", len(list))
	}
	for _, id := range []string{"snap-1", "snap-2"} {
		if res := runPyreplay(t, dir, "show", id, "--db", db); res.Code != 0 {
			t.Errorf("show %s: %s", id, res.Stderr)
		}
	}
	c, stop := dapStdio(t)
	defer stop()
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"recording": db, "snapshot": "snap-1"})
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("DAP replay: %v", r["message"])
	}
	c.send("stackTrace", map[string]any{"threadId": 1})
	if r := c.wait("stackTrace", isResponse("stackTrace")); r["success"] != true {
		t.Errorf("stackTrace: %v", r["message"])
	}
	tm := newTmux(t, dir, 100, 30, []string{"TERM=xterm-256color"}, testutil.Binary(t)+" tui --db "+db)
	tm.waitFor("the TUI with the damaged row", "snap-1", "snap-2")
	tm.keys("q")
}

// DAP paging arguments out of range (negative startFrame, start, count,
// levels) are answered, not a panic; a snapshot without frames gives
// "stackFrames": [] rather than null.
func TestDAPArgumentsOutOfRange(t *testing.T) {
	py := testutil.Python{Minor: "3.12", Path: testutil.PythonFor(t, "3.12")}
	dir := testutil.CopyFixture(t, "safety", t.TempDir())
	db := filepath.Join(dir, "rec.db")
	if res := runRecord(t, py, dir, db, "", "labels.py"); res.Code != 0 {
		t.Fatalf("record: %s", res.Stderr)
	}
	sqlite(t, py.Path, db, "UPDATE snapshots SET frames='[]' WHERE id=2")
	c, stop := dapStdio(t)
	defer stop()
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"recording": db, "snapshot": "snap-1"})
	c.wait("launch", isResponse("launch"))
	c.send("stackTrace", map[string]any{"threadId": 1, "startFrame": -5, "levels": -1})
	st := c.wait("stackTrace", isResponse("stackTrace"))
	frames, _ := st["body"].(map[string]any)["stackFrames"].([]any)
	if st["success"] != true || len(frames) == 0 {
		t.Fatalf("stackTrace with startFrame -5: %v", st)
	}
	frameID := frames[0].(map[string]any)["id"]
	c.send("scopes", map[string]any{"frameId": frameID})
	sc := c.wait("scopes", isResponse("scopes"))
	ref := sc["body"].(map[string]any)["scopes"].([]any)[0].(map[string]any)["variablesReference"]
	for _, args := range []map[string]any{{"start": -3}, {"start": -3, "count": -2}, {"start": 1 << 40, "count": 1 << 40}} {
		args["variablesReference"] = ref
		c.send("variables", args)
		if r := c.wait("variables", isResponse("variables")); r["success"] != true {
			t.Errorf("variables %v: %v", args, r)
		}
	}
	c.send("next", map[string]any{"threadId": 1})
	c.wait("stopped", isEvent("stopped"))
	c.send("stackTrace", map[string]any{"threadId": 1})
	st = c.wait("stackTrace", isResponse("stackTrace"))
	body, _ := st["body"].(map[string]any)
	if fr, ok := body["stackFrames"].([]any); st["success"] != true || !ok || len(fr) != 0 {
		t.Errorf("stackTrace of a snapshot without frames: %v, want stackFrames []", st)
	}
}

// dapStdio starts `pyreplay dap` on stdio.
func dapStdio(t *testing.T) (*dapConn, func()) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t), "dap")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return newDAPConn(t, stdout, stdin), func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

// sqlite runs one statement on a recording with Python's sqlite3 (as
// someone editing it by hand would).
func sqlite(t *testing.T, python, db, stmt string) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", db, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", stmt, err, out)
	}
}
