package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// A function's globals are saved as the module whose __dict__ they are, not
// by its __module__, which functools.wraps copies from another function:
// contextlib.contextmanager's helper lives in contextlib but carries the
// decorated function's __module__ ("__main__"), and a function of the
// program's that wraps a library one carries the library's. Each program
// snapshots at line 9 (after the definitions) and resumes to the rest of
// the original's output.
var stateRegressCases = []struct {
	name string
	src  string
}{
	{"contextmanager", `import contextlib


@contextlib.contextmanager
def section(title):
    yield title.upper()


x = 1
with section("rep") as t:
    print(t)
print(section.__globals__["__name__"], section.__wrapped__.__globals__["__name__"])
`},
	{"contextmanager-globals", `import contextlib
import functools


@contextlib.contextmanager
def section(title):
    yield title.upper()

x = 1
print(section.__globals__["__name__"])
with section("two") as t:
    print(t, x)
`},
	{"wraps-library", `import functools
import os.path


@functools.wraps(os.path.join)
def join(*parts):
    return "|".join(parts)

x = 1
print(join("a", "b"), join.__module__, join.__globals__["__name__"])
`},
}

func TestStateRegressWrappedFunctions(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		for _, tc := range stateRegressCases {
			tc := tc
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(tc.src), 0o644); err != nil {
					t.Fatal(err)
				}
				c := testutil.Cmd{Dir: dir}
				plain := c.Run(t, py.Path, "prog.py")
				if plain.Code != 0 {
					t.Fatalf("the program itself fails: %s", plain.Stderr)
				}
				db := filepath.Join(dir, "rec.db")
				rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "prog.py:9", "prog.py")
				if rec.Stdout != plain.Stdout {
					t.Fatalf("recording changed the output: %q vs %q\n%s", rec.Stdout, plain.Stdout, rec.Stderr)
				}
				snaps := resList(t, c, db)
				if len(snaps) != 1 {
					t.Fatalf("want 1 snapshot, got %+v\n%s", snaps, rec.Stderr)
				}
				r := c.Pyreplay(t, "resume", snaps[0].ID, "--db", db)
				if want := plain.Stdout[snaps[0].StdoutBytes:]; r.Stdout != want || r.Code != 0 {
					t.Fatalf("resume gave %q (exit %d), want %q\n%s", r.Stdout, r.Code, want, r.Stderr)
				}
			})
		}
	})
}
