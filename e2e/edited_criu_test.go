package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

const editedCriuProg = `def unit(o):
    return o["qty"] * o["price"]
total = 0
for o in [{"qty": 1, "price": 2.0}, {"qty": 3, "price": None}]:
    total += unit(o)
    print("total", total)
`

// A snapshot with a CRIU image resumed into edited source continues in
// the edited code: the image, which holds the recorded code, is never
// restored for --allow-edited (it ran the old code with the new file's
// lines in its traceback), and --criu with --allow-edited is refused.
func TestResumeEditedNeverRestoresTheImage(t *testing.T) {
	needCriu(t)
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := filepath.Join(dir, "orders.py")
	if err := os.WriteFile(prog, []byte(editedCriuProg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testutil.Cmd{Dir: dir}
	db := filepath.Join(dir, "rec.db")
	rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "--criu=always", "-b", "orders.py:5@2", "orders.py")
	if rec.Code == 0 || !strings.Contains(rec.Stderr, "TypeError") {
		t.Fatalf("record: %+v", rec)
	}
	if rows := criuRows(t, c, db); len(rows) == 0 || rows[0].Resume != "exact" {
		t.Fatalf("rows: %+v", rows)
	}
	fixed := strings.Replace(editedCriuProg, `o["price"]`, `(o["price"] or 0.0)`, 1)
	if err := os.WriteFile(prog, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.Pyreplay(t, "resume", "snap-1", "--db", db, "--allow-edited")
	if r.Code != 0 || r.Stdout != "total 2.0\n" || strings.Contains(r.Stderr, "CRIU image") {
		t.Fatalf("resume --allow-edited of a snapshot with an image: %+v", r)
	}
	r = c.Pyreplay(t, "resume", "snap-1", "--db", db, "--allow-edited", "--criu")
	if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "cannot continue in edited source") {
		t.Fatalf("--criu with --allow-edited: %+v", r)
	}
}
