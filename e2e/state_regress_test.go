package e2e

import (
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
				resumesToTheEnd(t, py, []byte(tc.src), "prog.py:9")
			})
		}
	})
}
