package e2e

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// A recorded program's Python children (a script through subprocess.run, a
// module through Popen) run under the shim: each records into a run of its
// own linked to the parent's (fork_of, spawned), with the same breakpoints,
// its exit status recorded; every output is the plain run's, and a child's
// snapshot resumes exactly.
func TestRecordSpawnedChildren(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		for _, f := range []string{"parent.py", "child.py", "childmod.py"} {
			b, err := os.ReadFile(filepath.Join(testutil.Root(), "e2e", "testdata", "children", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		plain := c.Run(t, py.Path, "parent.py")
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "child.py:7@2", "-b", "childmod.py:5", "-b", "parent.py:12", "parent.py")
		if rec.Code != plain.Code || rec.Stdout != plain.Stdout || !strings.Contains(plain.Stdout, "h|hé|hél False exit 4") {
			t.Fatalf("record: %+v\nplain: %+v", rec, plain)
		}
		h, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rows, err := h.Query(`SELECT id, program, COALESCE(fork_of, 0), COALESCE(spawned, 0), COALESCE(exit_code, -999) FROM runs ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id, forkOf, spawned, code int64
			var prog string
			if err := rows.Scan(&id, &prog, &forkOf, &spawned, &code); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal([]any{id, prog, forkOf, spawned, code})
			got = append(got, string(b))
		}
		rows.Close()
		want := `[1,"parent.py",0,0,0] [2,"child.py",1,1,4] [3,"-m childmod",1,1,0]`
		if strings.Join(got, " ") != want {
			t.Fatalf("runs %s, want %s", strings.Join(got, " "), want)
		}
		ls := c.Pyreplay(t, "ls", "--db", db)
		if !strings.Contains(ls.Stdout, "2 (child of 1, pid ") || !strings.Contains(ls.Stdout, "childmod.py:5") {
			t.Fatalf("ls:\n%s", ls.Stdout)
		}
		// the child's snapshot (its second loop iteration) resumes exactly
		r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
		if r.Code != 4 || r.Stdout != "h|hé|hél False\n" {
			t.Fatalf("resume of the child's snapshot: %+v", r)
		}
	})
}

// multiprocessing's spawn start method runs each worker as `python -c ...`
// (after the parent's interpreter options): the workers record into runs
// of their own, a breakpoint in the main script's function (which the
// worker runs as __mp_main__) stops in them, and the output is the plain
// run's.
func TestRecordSpawnedPoolWorkers(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		b, err := os.ReadFile(filepath.Join(testutil.Root(), "e2e", "testdata", "children", "mp_pool.py"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "mp_pool.py"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		plain := c.Run(t, py.Path, "mp_pool.py")
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "mp_pool.py:8", "mp_pool.py")
		if rec.Code != plain.Code || rec.Stdout != plain.Stdout || !strings.Contains(plain.Stdout, "'café': 2.4") {
			t.Fatalf("record: %+v\nplain: %+v", rec, plain)
		}
		ls := c.Pyreplay(t, "ls", "--db", db, "--json")
		var snaps []struct {
			Run      int64  `json:"run"`
			Function string `json:"function"`
			Line     int    `json:"line"`
		}
		if err := json.Unmarshal([]byte(ls.Stdout), &snaps); err != nil {
			t.Fatalf("ls --json: %v\n%s", err, ls.Stdout)
		}
		workers := map[int64]bool{}
		for _, s := range snaps {
			if s.Function != "price" || s.Line != 8 || s.Run == 1 {
				t.Fatalf("snapshot %+v: want price():8 in a worker's run", s)
			}
			workers[s.Run] = true
		}
		if len(snaps) != 3 {
			t.Fatalf("%d snapshots at the breakpoint, want 3 (one per item): %s", len(snaps), ls.Stdout)
		}
		h, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		for run := range workers {
			var prog string
			var forkOf int64
			if err := h.QueryRow(`SELECT program, COALESCE(fork_of, 0) FROM runs WHERE id = ?`, run).Scan(&prog, &forkOf); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(prog, "-c from multiprocessing.spawn import spawn_main") || forkOf != 1 {
				t.Fatalf("worker run %d: %q, child of %d", run, prog, forkOf)
			}
		}
	})
}
