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
			flags []string // pyreplay's own
		}{
			{"hello", "", []string{"hello.py", "first", "with space", "--flag=1"}, nil},
			{"normal end", "", []string{"exits.py", "normal"}, nil},
			{"sys.exit(3)", "", []string{"exits.py", "exit3"}, nil},
			{"sys.exit(message)", "", []string{"exits.py", "exitmsg"}, nil},
			{"sys.exit(0)", "", []string{"exits.py", "exit0"}, nil},
			{"raise SystemExit(7)", "", []string{"exits.py", "systemexit"}, nil},
			{"uncaught chained exception", "", []string{"exits.py", "raise"}, nil},
			{"exception during handling", "", []string{"exits.py", "during"}, nil},
			{"uncaught in the library", "", []string{"exits.py", "library"}, nil},
			{"RecursionError", "", []string{"exits.py", "recursion"}, nil},
			{"KeyboardInterrupt", "", []string{"exits.py", "keyboard"}, nil},
			{"custom excepthook", "", []string{"exits.py", "hook"}, nil},
			{"os._exit(4)", "", []string{"exits.py", "os_exit"}, nil},
			{"stdin", "Ada\n1\n2\n39\n", []string{"stdin_sum.py"}, nil},
			{"stdin empty", "", []string{"stdin_sum.py"}, nil},
			{"-m module", "", []string{"-m", "mpkg.tool", "a", "-b"}, nil},
			{"-m module raises", "", []string{"-m", "mpkg.tool", "raise"}, nil},
			{"-m module sys.exit", "", []string{"-m", "mpkg.tool", "exit"}, nil},
			{"-m package", "", []string{"-m", "mpkg", "x"}, nil},
			{"-m module RecursionError", "", []string{"-m", "mpkg.tool", "recurse"}, nil},
			{"relative path from elsewhere", "", []string{"../record/hello.py", "z"}, nil},
			// with triggers set: compiled-in hooks (<=3.11) or sys.monitoring (3.12+), a timer
			{"hello with breakpoints", "", []string{"hello.py", "b"}, []string{"-b", "hello.py:8", "-b", "interleave", "-b", "hello.py:1"}},
			{"raise with breakpoints", "", []string{"exits.py", "raise"}, []string{"-b", "parse", "-b", "exits.py:16", "-b", "exits.py:13 if False"}},
			{"recursion with a breakpoint", "", []string{"exits.py", "recursion"}, []string{"-b", "exits.py:32 if n == 10"}},
			{"stdin with --every", "Ada\n1\n2\n39\n", []string{"stdin_sum.py"}, []string{"--every", "1ms"}},
			{"raise with --every", "", []string{"exits.py", "raise"}, []string{"--every", "1ms", "--max-snapshots", "2"}},
			{"-m with a breakpoint", "", []string{"-m", "mpkg.tool", "raise"}, []string{"-b", "fail"}},
			{"a warning shows once, snapshots or not", "", []string{"warn.py"}, []string{"-b", "warn.py:11"}},
			{"import of a module that does not compile, with a breakpoint in it", "", []string{"imports_broken.py"}, []string{"-b", "broken_mod.py:2", "-b", "imports_broken.py:2"}},
		}
		for _, c := range cases {
			want := runPlain(t, py, dir, c.stdin, c.args...)
			got := runRecord(t, py, dir, db, c.stdin, append(append([]string{}, c.flags...), c.args...)...)
			t.Run(c.name, func(t *testing.T) {
				if c.name == "stdin" && !strings.Contains(want.Stdout, "total 42") {
					t.Fatalf("the fixture itself misbehaves: %q", want.Stdout)
				}
				if c.name == "recursion with a breakpoint" && (py.Minor == "3.8" || py.Minor == "3.9" || py.Minor == "3.10" || py.Minor == "3.13") {
					// Known limit (README, Breakpoints): the breakpoint's trace
					// function (3.8-3.10) or PY_START callback (3.13) is a
					// Python call that the interpreter makes at the limit
					// itself, so the overflow is reported one frame earlier,
					// at the function's def line. Same output, exit status
					// and exception.
					if got.Stdout != want.Stdout || got.Code != want.Code || !strings.Contains(got.Stderr, "RecursionError: maximum recursion depth exceeded") {
						t.Fatalf("recursion with a breakpoint: got %+v, want %+v", got, want)
					}
					return
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
