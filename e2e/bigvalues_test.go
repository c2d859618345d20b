package e2e

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Large values (bytes, bytearray, str, array; one object under two names)
// go into state_chunks without a copy in memory, and resume exactly.
const bigProg = `import array, sys
big = bytes(range(256)) * 12288
ba = bytearray(big[::-1])
s = "\u00e9x" * (1 << 20)
same = big
arr = array.array("d", range(300000))
huge, many = 10 ** 6000, set(range(300000))
print("ready")
print(len(big), big == bytes(range(256)) * 12288, type(ba).__name__, ba == bytearray(big[::-1]),
      same is big, len(s), s == "\u00e9x" * (1 << 20), arr[-1], type(big).__name__, huge == 10 ** 6000, len(many))
`

func TestBigValues(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "big.py"), []byte(bigProg), 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		plain := c.Run(t, py.Path, "big.py")
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "big.py:8", "big.py")
		if rec.Code != 0 || rec.Stdout != plain.Stdout || !strings.Contains(rec.Stderr, "recorded 1 snapshot") {
			t.Fatalf("record: %+v (plain %q)", rec, plain.Stdout)
		}
		h, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		var chunks, total, stateLen int64
		if err := h.QueryRow(`SELECT count(*), COALESCE(sum(length(data)), 0) FROM state_chunks WHERE snap=1`).Scan(&chunks, &total); err != nil {
			t.Fatal(err)
		}
		if err := h.QueryRow(`SELECT length(state) FROM snapshots WHERE id=1`).Scan(&stateLen); err != nil {
			t.Fatal(err)
		}
		// ~3 MiB of bytes and of bytearray, ~3 MiB of UTF-8, 2.4 MB of doubles
		if chunks < 8 || total < 10_000_000 || stateLen > 1<<20 {
			t.Fatalf("the large values are not in state_chunks: %d chunks, %d bytes; state column %d bytes", chunks, total, stateLen)
		}
		// the views are cut, never a whole repr: the snapshot's JSON stays small
		if sh := c.Pyreplay(t, "show", "snap-1", "--db", db, "--json"); sh.Code != 0 || len(sh.Stdout) > 100_000 ||
			!strings.Contains(sh.Stdout, "int of 19932 bits") {
			t.Fatalf("show --json: %d bytes, exit %d\n%s", len(sh.Stdout), sh.Code, cut(sh.Stdout, 2000))
		}
		want := plain.Stdout
		r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
		if r.Code != 0 || r.Stdout != want {
			t.Fatalf("resume: got %q, want %q\n%s", r.Stdout, want, r.Stderr)
		}
		if py.Minor != "3.11" {
			return
		}
		// pruning a snapshot takes its chunks with it
		if _, err := h.Exec(`UPDATE state_chunks SET data = zeroblob(length(data)) WHERE snap=1 AND seq=3`); err != nil {
			t.Fatal(err)
		}
		r = c.Pyreplay(t, "resume", "snap-1", "--db", db)
		if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "changed after it was recorded") {
			t.Fatalf("resume of a tampered chunk: %+v", r)
		}
		if _, err := h.Exec(`DELETE FROM snapshots WHERE id=1`); err != nil {
			t.Fatal(err)
		}
		if err := h.QueryRow(`SELECT count(*) FROM state_chunks`).Scan(&chunks); err != nil || chunks != 0 {
			t.Fatalf("chunks of a deleted snapshot left: %d %v", chunks, err)
		}
	})
}

// A large state of immutable pieces is written while the program goes on
// (store.write_snapshot(defer=True)): every snapshot still lands, in order,
// whole and signed; a fork and the end of the program wait for the write;
// the shim's writer is not one of the program's threads; a snapshot in an
// atexit function (the interpreter finalising) is written at once.
const deferProg = `import atexit, os, sys, threading
blob = bytes(range(256)) * (80 * 1024)
def done():
    last = blob[-1]
    print("atexit", last)
atexit.register(done)
for i in range(3):
    mark = i
    print("threads", threading.active_count(), i)
pid = os.fork()
if pid == 0:
    os._exit(7)
print("child", os.waitpid(pid, 0)[1] >> 8)
print("end", len(blob))
sys.exit(3)
`

func TestDeferredBigWrite(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "defer.py"), []byte(deferProg), 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		plain := c.Run(t, py.Path, "defer.py")
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "defer.py:8", "-b", "defer.py:5", "defer.py")
		if rec.Code != 3 || plain.Code != 3 || rec.Stdout != plain.Stdout || !strings.Contains(rec.Stderr, "recorded 4 snapshots") {
			t.Fatalf("record: %+v\nplain: %+v", rec, plain)
		}
		h, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rows, err := h.Query(`SELECT s.id, s.line, (SELECT COALESCE(sum(length(data)), 0) FROM state_chunks WHERE snap=s.id)
			FROM snapshots s ORDER BY s.id`)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var id, line, chunked int64
			if err := rows.Scan(&id, &line, &chunked); err != nil {
				t.Fatal(err)
			}
			if chunked < 20_000_000 {
				t.Errorf("snap-%d: %d bytes chunked, want the 20 MB value", id, chunked)
			}
			lines = append(lines, strconv.FormatInt(line, 10))
		}
		rows.Close()
		if got := strings.Join(lines, ","); got != "8,8,8,5" {
			t.Fatalf("snapshot lines %s, want 8,8,8,5 (in order)", got)
		}
		// a deferred one resumes to the original's remaining output (the
		// MAC over the chunks written after the program went on checks
		// out); the atexit one is refused (not the main module's frame)
		r := c.Pyreplay(t, "resume", "snap-2", "--db", db)
		if want := plain.Stdout[strings.Index(plain.Stdout, "threads 1 1"):]; r.Code != 3 || r.Stdout != want {
			t.Errorf("resume snap-2: exit %d, stdout %q, want %q\n%s", r.Code, r.Stdout, want, r.Stderr)
		}
	})
}
