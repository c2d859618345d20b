package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Recording a program must not change what it does: the same stdout, the
// same stderr (after pyreplay's own final summary line), the same exit
// status, byte for byte, on every CPython.
func TestRecordTransparency(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		db := filepath.Join(t.TempDir(), "rec.db")
		cases := []struct {
			name  string
			stdin string
			args  []string
		}{
			{"hello", "", []string{"hello.py", "first", "with space", "--flag=1"}},
			{"normal end", "", []string{"exits.py", "normal"}},
			{"sys.exit(3)", "", []string{"exits.py", "exit3"}},
			{"sys.exit(message)", "", []string{"exits.py", "exitmsg"}},
			{"sys.exit(0)", "", []string{"exits.py", "exit0"}},
			{"raise SystemExit(7)", "", []string{"exits.py", "systemexit"}},
			{"uncaught chained exception", "", []string{"exits.py", "raise"}},
			{"exception during handling", "", []string{"exits.py", "during"}},
			{"uncaught in the library", "", []string{"exits.py", "library"}},
			{"RecursionError", "", []string{"exits.py", "recursion"}},
			{"KeyboardInterrupt", "", []string{"exits.py", "keyboard"}},
			{"custom excepthook", "", []string{"exits.py", "hook"}},
			{"os._exit(4)", "", []string{"exits.py", "os_exit"}},
			{"stdin", "Ada\n1\n2\n39\n", []string{"stdin_sum.py"}},
			{"stdin empty", "", []string{"stdin_sum.py"}},
			{"-m module", "", []string{"-m", "mpkg.tool", "a", "-b"}},
			{"-m module raises", "", []string{"-m", "mpkg.tool", "raise"}},
			{"-m module sys.exit", "", []string{"-m", "mpkg.tool", "exit"}},
			{"-m package", "", []string{"-m", "mpkg", "x"}},
			{"-m module RecursionError", "", []string{"-m", "mpkg.tool", "recurse"}},
			{"relative path from elsewhere", "", []string{"../record/hello.py", "z"}},
		}
		for _, c := range cases {
			want := runPlain(t, py, dir, c.stdin, c.args...)
			got := runRecord(t, py, dir, db, c.stdin, c.args...)
			t.Run(c.name, func(t *testing.T) {
				if c.name == "stdin" && !strings.Contains(want.Stdout, "total 42") {
					t.Fatalf("the fixture itself misbehaves: %q", want.Stdout)
				}
				sameRun(t, want, got)
			})
		}
	})
}

// With stdout and stderr on one pipe (2>&1), the interleaving is the same,
// with buffered and with unbuffered (PYTHONUNBUFFERED) output.
func TestRecordTransparencyInterleaved(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		db := filepath.Join(t.TempDir(), "rec.db")
		for _, env := range []string{"PYTHONUNBUFFERED=", "PYTHONUNBUFFERED=1"} {
			for _, args := range [][]string{{"hello.py"}, {"exits.py", "raise"}, {"exits.py", "exitmsg"}} {
				want, wcode := recRunCombined(t, dir, []string{env}, py.Path, args...)
				got, gcode := recRunCombined(t, dir, []string{env}, testutil.Binary(t), append([]string{"record", "--db", db, "--python", py.Path}, args...)...)
				got, _ = splitSummary(t, got)
				if d := outputDiff(want, got); d != "" {
					t.Errorf("%s %v: combined output differs: %s", env, args, d)
				}
				if wcode != gcode {
					t.Errorf("%s %v: exit %d without pyreplay, %d with", env, args, wcode, gcode)
				}
			}
		}
	})
}
