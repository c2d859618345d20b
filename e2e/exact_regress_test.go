package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Regressions of the exact-or-refuse rule. (1) On 3.8-3.11 a breakpoint at
// the first statement of a body (where the compiled-in hook starts tracing)
// stops as often as sys.settrace reports its line, also when CPython's
// first line event there is another line: a decorated def (the decorator's
// line comes first) or a multi-line list (an element's line first, the
// statement's when the list is stored). (2) A snapshot inside an __exit__
// a with statement calls when its body ends resumes exactly or is refused
// (3.10 calls it with CALL_FUNCTION at the with header's line).

const regressFirstStmt = `def trace(fn):
    return fn


def outer(x):
    @trace
    def inner():
        return x
    return inner()


def multi(a):
    x = [
        a,
        a + 1,
    ]
    return x


for i in range(2):
    print(outer(i), multi(i))
`

const regressWithExit = `class Section:
    def __enter__(self):
        return "IN"

    def __exit__(self, *exc):
        print("exit")


def run():
    with Section() as t:
        print(t)
    print("after")


with Section() as t:
    print(t)
run()
print("end")
`

type regressSnap struct {
	ID          string `json:"id"`
	Line        int    `json:"line"`
	Reason      string `json:"reason"`
	StdoutBytes int    `json:"stdout_bytes"`
	Resume      string `json:"resume"`
	ResumeWhy   string `json:"resume_why"`
}

func regressList(t *testing.T, c testutil.Cmd, db string) []regressSnap {
	t.Helper()
	r := c.Pyreplay(t, "ls", "--db", db, "--json")
	var out []regressSnap
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("ls --json: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	return out
}

// regressRecord writes src as prog.py, runs it plainly and records it with
// breakpoints at lines; it returns the command, the plain run's stdout and
// the snapshots.
func regressRecord(t *testing.T, py, src string, lines []int) (testutil.Cmd, string, []regressSnap) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testutil.Cmd{Dir: dir}
	plain := c.Run(t, py, "prog.py")
	if plain.Code != 0 {
		t.Fatalf("the program itself fails: %s", plain.Stderr)
	}
	args := []string{"record", "--python", py, "--db", "rec.db"}
	for _, l := range lines {
		args = append(args, "-b", fmt.Sprintf("prog.py:%d", l))
	}
	rec := c.Pyreplay(t, append(args, "prog.py")...)
	if rec.Stdout != plain.Stdout || rec.Code != 0 {
		t.Fatalf("recording changed the run: %q (exit %d) vs %q\n%s", rec.Stdout, rec.Code, plain.Stdout, rec.Stderr)
	}
	return c, plain.Stdout, regressList(t, c, "rec.db")
}

// regressResume resumes every snapshot ls calls exact and checks it prints
// the rest of the original's stdout; a snapshot neither exact nor refused
// is an error when refuseOrExact.
func regressResume(t *testing.T, c testutil.Cmd, plain string, snaps []regressSnap, refuseOrExact bool) (exact int) {
	t.Helper()
	for _, s := range snaps {
		if s.Resume != "exact" {
			if refuseOrExact && s.Resume != "refused" {
				t.Errorf("%s (line %d): resume %q (%s), want exact or refused", s.ID, s.Line, s.Resume, s.ResumeWhy)
			}
			continue
		}
		exact++
		r := c.Pyreplay(t, "resume", s.ID, "--db", "rec.db")
		if want := plain[s.StdoutBytes:]; r.Stdout != want || r.Code != 0 {
			t.Errorf("%s (line %d, exact): resume gave %q (exit %d), want %q\n%s", s.ID, s.Line, r.Stdout, r.Code, want, r.Stderr)
		}
	}
	return exact
}

func TestExactRegressFirstStatement(t *testing.T) {
	// the decorator, the decorated def, the multi-line list, its element
	lines := []int{6, 7, 13, 14}
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		c, plain, snaps := regressRecord(t, py.Path, regressFirstStmt, lines)
		ev := testutil.LineEvents(t, c, py.Path, []string{"prog.py"}, []string{"prog.py"})["prog.py"]
		got := map[int]int{}
		for _, s := range snaps {
			if s.Reason == "breakpoint" {
				got[s.Line]++
			}
		}
		for _, l := range lines {
			if got[l] != ev[l] {
				t.Errorf("line %d: %d snapshots, sys.settrace reports %d line events", l, got[l], ev[l])
			}
		}
		n := regressResume(t, c, plain, snaps, false)
		t.Logf("CPython %s: stops %v, sys.settrace %v, %d exact resumed", py.Minor, got, ev, n)
	})
}

func TestExactRegressWithExit(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		c, plain, snaps := regressRecord(t, py.Path, regressWithExit, []int{6})
		if len(snaps) != 2 {
			t.Fatalf("want 2 snapshots in __exit__, got %+v", snaps)
		}
		n := regressResume(t, c, plain, snaps, true)
		t.Logf("CPython %s: %d of %d exact resumed", py.Minor, n, len(snaps))
	})
}
