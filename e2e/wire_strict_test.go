package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// A program whose snapshots hold every kind of frame the shim writes: a
// class body, a frame called from C, a suspended generator, a with block,
// a value that cannot be saved, an uncaught exception; run by a relative
// path (co_filename differs from the absolute file before 3.9).
const wireProg = `import contextlib
import socket
import threading
class K:
    a = 1
    b = a + 1
def gen():
    for i in range(3):
        yield i
@contextlib.contextmanager
def cm():
    yield 5
def f(x):
    g = gen()
    next(g)
    lock = threading.Lock()
    sock = socket.socket()
    with cm() as c:
        y = sorted([3, 1], key=lambda v:
                   v)
    return x + y[0] + c
print(f(1))
{}["missing"]
`

// Every snapshot a recording holds decodes into the wire types with
// unknown fields disallowed (issue 12; the control channel's messages are
// checked the same way in dap/wire_strict_test.go).
func TestWireStrictSnapshots(t *testing.T) {
	for _, py := range testutil.Pythons(t) {
		py := py
		t.Run(py.Minor, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(wireProg), 0o644); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "rec.db")
			res := runRecord(t, py, dir, db, "", "-b", "prog.py:6", "-b", "prog.py:20", "-b", "prog.py:21", "prog.py")
			if res.Code != 1 {
				t.Fatalf("exit %d: %s", res.Code, res.Stderr)
			}
			seen := map[string]bool{}
			snaps := testutil.StrictSnapshots(t, db)
			n := len(snaps)
			for _, s := range snaps {
				for _, f := range append(s.Frames, s.Meta.Generators...) {
					seen["kind "+f.Kind] = true
					if f.ClassBody {
						seen["class body"] = true
					}
					if f.FromC {
						seen["from C"] = true
					}
				}
				if len(s.Placeholders) > 0 {
					seen["placeholder"] = true
				}
			}
			if n < 4 {
				t.Fatalf("%d snapshots", n)
			}
			for _, want := range []string{"kind line", "kind call", "kind exception", "kind suspended", "class body", "placeholder"} {
				if !seen[want] {
					t.Errorf("no %s in the snapshots (seen %v)", want, seen)
				}
			}
		})
	}
}
