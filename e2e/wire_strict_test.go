package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/wire"
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
			n := 0
			seen := map[string]bool{}
			conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			rows, err := conn.Query("SELECT id, frames, globals, placeholders, meta FROM snapshots")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var frames, globals, placeholders, meta string
				if err := rows.Scan(&id, &frames, &globals, &placeholders, &meta); err != nil {
					t.Fatal(err)
				}
				n++
				var fs []wire.Frame
				var m wire.Meta
				var ph []wire.Placeholder
				for _, c := range []struct {
					what, raw string
					v         any
				}{
					{"frames", frames, &fs},
					{"globals", globals, &map[string]map[string]wire.Value{}},
					{"placeholders", placeholders, &ph},
					{"meta", meta, &m},
				} {
					d := json.NewDecoder(bytes.NewReader([]byte(c.raw)))
					d.DisallowUnknownFields()
					if err := d.Decode(c.v); err != nil {
						t.Errorf("snap-%d %s: %v: %s", id, c.what, err, cut(c.raw, 400))
					}
				}
				for _, f := range append(fs, m.Generators...) {
					seen["kind "+f.Kind] = true
					if f.ClassBody {
						seen["class body"] = true
					}
					if f.FromC {
						seen["from C"] = true
					}
				}
				if len(ph) > 0 {
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
