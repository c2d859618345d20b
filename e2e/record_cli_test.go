package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// The default recording, $PYREPLAY_DB, --db, appending runs, bare snapshot
// numbers, the summary line and the human-readable ls and show.
func TestRecordCLI(t *testing.T) {
	py := testutil.Python{Minor: "3.11", Path: testutil.PythonFor(t, "3.11")}
	dir := fixtureDir(t)
	bin := testutil.Binary(t)
	cmd := func(env []string, args ...string) testutil.Result {
		return recRunEnv(t, dir, "", env, bin, args...)
	}
	// default: .pyreplay/recording.db in the working directory
	res := cmd(nil, "record", "--python", py.Path, "triggers.py")
	if res.Code != 0 || !strings.HasSuffix(res.Stderr, "pyreplay: recorded 2 snapshots: snap-1..snap-2 in .pyreplay/recording.db\n") {
		t.Fatalf("first run: exit %d, stderr %q", res.Code, res.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".pyreplay", "recording.db")); err != nil {
		t.Fatalf("no default recording: %v", err)
	}
	// every run appends, numbering on
	res = cmd(nil, "record", "--python", py.Path, "-b", markerSpec(t, dir, "triggers.py", "loop", "@2"), "triggers.py")
	if !strings.HasSuffix(res.Stderr, "pyreplay: recorded 3 snapshots: snap-3..snap-5 in .pyreplay/recording.db\n") {
		t.Errorf("second run: %q", res.Stderr)
	}
	res = cmd(nil, "record", "--python", py.Path, "exits.py", "normal")
	if !strings.HasSuffix(res.Stderr, "pyreplay: recorded 0 snapshots in .pyreplay/recording.db\n") {
		t.Errorf("a run without snapshots: %q", res.Stderr)
	}
	res = cmd(nil, "record", "--python", py.Path, "exits.py", "raise")
	if !strings.HasSuffix(res.Stderr, "pyreplay: recorded 1 snapshot: snap-6 in .pyreplay/recording.db\n") {
		t.Errorf("a run with one snapshot: %q", res.Stderr)
	}
	list := lsJSON(t, dir, filepath.Join(dir, ".pyreplay", "recording.db"))
	if len(list) != 6 || list[0].Run != 1 || list[2].Run != 2 || list[5].Run != 4 {
		t.Errorf("runs of the snapshots: %+v", list)
	}
	// bare numbers
	a := cmd(nil, "show", "3", "--json").Stdout
	b := cmd(nil, "show", "snap-3", "--json").Stdout
	if a == "" || a != b {
		t.Errorf("show 3 and show snap-3 differ")
	}
	// human output
	ls := cmd(nil, "ls")
	if ls.Code != 0 || !strings.Contains(ls.Stdout, "snap-6") || !regexp.MustCompile(`snap-3\s+2\s+breakpoint\s+triggers\.py:\d+\s+main`).MatchString(ls.Stdout) {
		t.Errorf("ls:\n%s", ls.Stdout)
	}
	show := cmd(nil, "show", "snap-3")
	if show.Code != 0 || !strings.Contains(show.Stdout, "snap-3") || !strings.Contains(show.Stdout, "i: int = 1") {
		t.Errorf("show:\n%s", show.Stdout)
	}
	// $PYREPLAY_DB, and --db over it
	envDB := filepath.Join(t.TempDir(), "env.db")
	res = cmd([]string{"PYREPLAY_DB=" + envDB}, "record", "--python", py.Path, "triggers.py")
	if !strings.HasSuffix(res.Stderr, "snap-1..snap-2 in "+envDB+"\n") {
		t.Errorf("PYREPLAY_DB: %q", res.Stderr)
	}
	if n := len(strings.Split(strings.TrimSpace(cmd([]string{"PYREPLAY_DB=" + envDB}, "ls").Stdout), "\n")); n != 3 {
		t.Errorf("ls with PYREPLAY_DB lists %d lines", n)
	}
	flagDB := filepath.Join(t.TempDir(), "sub", "dir", "flag.db")
	res = cmd([]string{"PYREPLAY_DB=" + envDB}, "record", "--db", flagDB, "--python", py.Path, "triggers.py")
	if !strings.HasSuffix(res.Stderr, "snap-1..snap-2 in "+flagDB+"\n") {
		t.Errorf("--db over PYREPLAY_DB: %q", res.Stderr)
	}
	// an empty recording lists nothing, in JSON as []
	if res := cmd(nil, "ls", "--db", filepath.Join(dir, ".pyreplay", "recording.db"), "--json"); res.Code != 0 {
		t.Errorf("ls --json: %s", res.Stderr)
	}
	// python3 from PATH when --python is not given
	if p, err := exec.LookPath("python3"); err == nil {
		res = cmd(nil, "record", "--db", filepath.Join(t.TempDir(), "path.db"), "exits.py", "exit3")
		if res.Code != 3 {
			t.Errorf("record with %s from PATH: exit %d\n%s", p, res.Code, res.Stderr)
		}
	}
}

// --every takes periodic checkpoints at the program's own lines;
// --max-snapshots keeps only the newest N of them.
func TestRecordEvery(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} {
		minor := minor
		t.Run("py"+minor, func(t *testing.T) {
			t.Parallel()
			py := testutil.Python{Minor: minor, Path: testutil.PythonFor(t, minor)}
			dir := fixtureDir(t)
			db := filepath.Join(t.TempDir(), "rec.db")
			res := runRecord(t, py, dir, db, "", "--every", "20ms", "--max-snapshots", "3", "spin.py", "0.6")
			if res.Code != 0 || res.Stdout != "done True\n" {
				t.Fatalf("exit %d, stdout %q\n%s", res.Code, res.Stdout, res.Stderr)
			}
			list := lsJSON(t, dir, db)
			per := only(list, "periodic")
			if len(per) != 3 || len(list) != 4 || list[3].Label != "end" {
				t.Fatalf("want 3 periodic checkpoints then the requested one, got %+v", list)
			}
			end := list[3]
			for k, s := range per {
				if s.ID != "snap-"+itoa(snapNum(t, end.ID)-3+k) {
					t.Errorf("the kept checkpoints are not the newest: %s (end is %s)", s.ID, end.ID)
				}
				// (a tick may land in the few lines after work() returns)
				if (s.Function != "work" && s.Function != "<module>") || s.File != filepath.Join(dir, "spin.py") {
					t.Errorf("a checkpoint outside the program's own code: %+v", s)
				}
			}
			if snapNum(t, end.ID) < 8 {
				t.Errorf("only %d snapshots taken in 0.6s at 20ms", snapNum(t, end.ID)-1)
			}
			if per[0].Function == "work" {
				if f := topFrame(t, showJSON(t, dir, db, per[0].ID)); f.Locals["n"].Type != "int" {
					t.Errorf("the checkpoint has no n: %+v", f.Locals)
				}
			}
			// without a limit, all are kept (12 due: at least 3, with room
			// for a loaded machine, where 0.3 s once gave one)
			db2 := filepath.Join(t.TempDir(), "all.db")
			runRecord(t, py, dir, db2, "", "--every", "50ms", "spin.py", "0.6")
			if n := len(only(lsJSON(t, dir, db2), "periodic")); n < 3 {
				t.Errorf("%d periodic checkpoints in 0.6s at 50ms", n)
			}
		})
	}
}

func snapNum(t *testing.T, id string) int {
	t.Helper()
	n := 0
	for _, c := range strings.TrimPrefix(id, "snap-") {
		n = n*10 + int(c-'0')
	}
	return n
}

var ranRe = regexp.MustCompile(`Ran (\d+) tests? in [0-9.]+s`)

// One of CPython's own test modules passes under recording exactly as without.
func TestRecordUnittest(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		want := runPlain(t, py, dir, "", "-m", "unittest", "test.test_heapq")
		got := runRecord(t, py, dir, filepath.Join(dir, "rec.db"), "", "-m", "unittest", "test.test_heapq")
		stderr, _ := splitSummary(t, got.Stderr)
		norm := func(s string) string { return ranRe.ReplaceAllString(s, "Ran $1 tests in T") }
		if want.Code != 0 || !strings.Contains(want.Stderr, "\nOK") {
			t.Fatalf("test_heapq fails without pyreplay: %s", want.Stderr)
		}
		if got.Code != want.Code || norm(stderr) != norm(want.Stderr) || got.Stdout != want.Stdout {
			t.Errorf("test_heapq under pyreplay: exit %d (want %d)\n%s\nwant\n%s", got.Code, want.Code, stderr, want.Stderr)
		}
		if m := ranRe.FindStringSubmatch(stderr); m == nil || m[1] == "0" {
			t.Errorf("no tests ran: %s", stderr)
		}
	})
}
