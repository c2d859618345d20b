package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/testutil"
)

// needCriu skips when no usable CRIU (>= 4.1, root) is found the way
// pyreplay finds it ($PYREPLAY_CRIU, PATH, the repository's .cache/criu).
func needCriu(t *testing.T) {
	t.Helper()
	probeOnce.Do(func() {
		_, probeErr = checkpoint.FindDumping(checkpoint.CacheDirs(testutil.Binary(t))...)
	})
	if probeErr != nil {
		t.Skipf("CRIU is not usable here, skipping the CRIU fallback tests: %v", probeErr)
	}
}

var (
	probeOnce sync.Once
	probeErr  error
)

type criuRow struct {
	ID          string `json:"id"`
	Line        int    `json:"line"`
	Resume      string `json:"resume"`
	ResumeWhy   string `json:"resume_why"`
	StdoutBytes int64  `json:"stdout_bytes"`
	StderrBytes int64  `json:"stderr_bytes"`
}

func criuRows(t *testing.T, c testutil.Cmd, db string) []criuRow {
	t.Helper()
	ls := c.Pyreplay(t, "ls", "--db", db, "--json")
	var rows []criuRow
	if err := json.Unmarshal([]byte(ls.Stdout), &rows); err != nil {
		t.Fatalf("ls --json: %v\n%s%s", err, ls.Stdout, ls.Stderr)
	}
	return rows
}

// criuResume resumes id and checks it gives exactly the original's output
// after the snapshot and its exit status.
func criuResume(t *testing.T, c testutil.Cmd, db string, row criuRow, wantOut, wantErr string, wantCode int) {
	t.Helper()
	start := time.Now()
	r := c.Pyreplay(t, "resume", row.ID, "--db", db)
	took := time.Since(start)
	notice, progErr, _ := strings.Cut(r.Stderr, "\n")
	if !strings.HasPrefix(notice, "pyreplay: resuming "+row.ID+" from its CRIU image: exact resume refuses: ") {
		t.Fatalf("resume %s: no one-line notice first on stderr:\n%s", row.ID, r.Stderr)
	}
	if r.Stdout != wantOut || progErr != wantErr || r.Code != wantCode {
		t.Fatalf("resume %s (exit %d, want %d):\nstdout diff:\n%s\nstderr %q, want %q", row.ID, r.Code, wantCode, outputDiff(wantOut, r.Stdout), progErr, wantErr)
	}
	t.Logf("resume %s from its image: %v", row.ID, took.Round(time.Millisecond))
}

// A snapshot exact resume refuses - in a worker thread of a program with
// three threads and a queue, in a sorted(key=...) callback, in a generator
// reached through yield from - is imaged by record --criu, listed as
// "criu", and resumes from its image to exactly the original's remaining
// output and exit status, twice (the thread case once while the original
// still runs).
func TestCriuFallback(t *testing.T) {
	needCriu(t)
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		for _, tc := range []struct{ prog, spec string }{
			{"sortkey.py", "sortkey.py:11@3"},
			{"yieldfrom.py", "yieldfrom.py:9@3"},
		} {
			t.Run(strings.TrimSuffix(tc.prog, ".py"), func(t *testing.T) {
				dir := t.TempDir()
				copyCriuFixture(t, dir, tc.prog)
				db := filepath.Join(dir, "rec.db")
				c := testutil.Cmd{Dir: dir, Env: buffered}
				orig := c.Pyreplay(t, "record", "--criu", "--db", db, "--python", py.Path, "-b", tc.spec, tc.prog)
				progErr, _ := splitSummary(t, orig.Stderr)
				row := oneCriuRow(t, c, db)
				for i := 0; i < 2; i++ {
					criuResume(t, c, db, row, orig.Stdout[row.StdoutBytes:], progErr[row.StderrBytes:], orig.Code)
				}
			})
		}
		t.Run("threads", func(t *testing.T) { criuThreads(t, py) })
	})
}

func oneCriuRow(t *testing.T, c testutil.Cmd, db string) criuRow {
	t.Helper()
	rows := criuRows(t, c, db)
	if len(rows) != 1 || rows[0].Resume != "criu" || rows[0].ResumeWhy == "" {
		t.Fatalf("want one snapshot listed as \"criu\" with the reason exact resume refuses, got %+v", rows)
	}
	return rows[0]
}

func copyCriuFixture(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "criu", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func criuThreads(t *testing.T, py testutil.Python) {
	dir := t.TempDir()
	copyCriuFixture(t, dir, "threads.py")
	db := filepath.Join(dir, "rec.db")
	gate := filepath.Join(dir, "gate")
	env := append(append([]string{}, buffered...), "CRIU_GATE="+gate)
	c := testutil.Cmd{Dir: dir, Env: env}

	// the original, held after its snapshot until the gate opens
	rec := exec.Command(testutil.Binary(t), "record", "--criu", "--db", db, "--python", py.Path, "-b", "threads.py:33", "threads.py")
	rec.Dir, rec.Env = dir, append(os.Environ(), env...)
	var ro, re bytes.Buffer
	rec.Stdout, rec.Stderr = &ro, &re
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer rec.Process.Kill()
	var row criuRow
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var rows []criuRow
		ls := c.Pyreplay(t, "ls", "--db", db, "--json")
		if json.Unmarshal([]byte(ls.Stdout), &rows) == nil && len(rows) == 1 && rows[0].Resume == "criu" {
			row = rows[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot listed as \"criu\" while the original runs: %s%s\nrecord's stderr: %s", ls.Stdout, ls.Stderr, re.String())
		}
	}
	if !strings.Contains(row.ResumeWhy, "thread") {
		t.Fatalf("resume_why should say the snapshot is in another thread: %q", row.ResumeWhy)
	}
	// a copy restored while the original still runs (both wait for the gate)
	res := exec.Command(testutil.Binary(t), "resume", row.ID, "--db", db)
	res.Dir, res.Env = dir, append(os.Environ(), env...)
	var so, se bytes.Buffer
	res.Stdout, res.Stderr = &so, &se
	if err := res.Start(); err != nil {
		t.Fatal(err)
	}
	defer res.Process.Kill()
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code := func(err error) int {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	origCode := code(rec.Wait())
	resCode := code(res.Wait())
	if origCode != 3 {
		t.Fatalf("the original: exit %d, want 3\n%s", origCode, re.String())
	}
	progErr, _ := splitSummary(t, re.String())
	wantOut, wantErr := ro.String()[row.StdoutBytes:], progErr[row.StderrBytes:]
	if !strings.HasPrefix(wantOut, "worker at item 4") {
		t.Fatalf("the original's output after the snapshot should start at the snapshot's line: %q", wantOut)
	}
	notice, gotErr, _ := strings.Cut(se.String(), "\n")
	if !strings.Contains(notice, "from its CRIU image") || so.String() != wantOut || gotErr != wantErr || resCode != origCode {
		t.Fatalf("resume while the original ran: exit %d\nstdout diff:\n%s\nstderr %q, want notice + %q", resCode, outputDiff(wantOut, so.String()), se.String(), wantErr)
	}
	// and again, from the same image, once the original is gone
	criuResume(t, c, db, row, wantOut, wantErr, origCode)
	if rows := criuRows(t, c, db); len(rows) != 1 {
		t.Fatalf("the copies must not write to the recording: %+v", rows)
	}
}

// --criu without a usable CRIU is one line on stderr, a non-zero exit,
// and nothing run or recorded; a bad value likewise.
func TestCriuUnusable(t *testing.T) {
	dir := t.TempDir()
	copyCriuFixture(t, dir, "sortkey.py")
	db := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir, Env: []string{"PYREPLAY_CRIU=" + filepath.Join(dir, "no-criu")}}
	for _, flag := range []string{"--criu", "--criu=always", "--criu=sometimes"} {
		r := c.Pyreplay(t, "record", flag, "--db", db, "sortkey.py")
		if r.Code == 0 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "--criu") {
			t.Fatalf("record %s: exit %d, stdout %q, stderr %q: want one line naming --criu and a failure", flag, r.Code, r.Stdout, r.Stderr)
		}
		if _, err := os.Stat(db); err == nil {
			t.Fatalf("record %s without CRIU created the recording", flag)
		}
	}
}

// A snapshot CRIU cannot dump (the program has an established TCP
// connection) gets CRIU's reason in resume_why and one line on stderr; the
// program's run and output are unchanged, and resume refuses in one line
// without running anything.
func TestCriuDumpFails(t *testing.T) {
	needCriu(t)
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := `import socket
srv = socket.create_server(("127.0.0.1", 0))
cli = socket.create_connection(srv.getsockname())
peer, _ = srv.accept()
cli.sendall(b"ping")
def key(w):
    return len(w)  # SNAP
print(sorted(["ccc", "a", "bb"], key=key), peer.recv(4))
`
	if err := os.WriteFile(filepath.Join(dir, "tcp.py"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir}
	plain := c.Run(t, py, "tcp.py")
	rec := c.Pyreplay(t, "record", "--criu", "--python", py, "--db", db, "-b", "tcp.py:7@1", "tcp.py")
	if rec.Code != 0 || rec.Stdout != plain.Stdout || !strings.Contains(rec.Stderr, "no CRIU image of snap-1") ||
		!strings.Contains(rec.Stderr, "TCP") {
		t.Fatalf("record: %+v\nplain: %+v", rec, plain)
	}
	rows := criuRows(t, c, db)
	if len(rows) != 1 || rows[0].Resume != "refused" || !strings.Contains(rows[0].ResumeWhy, "no CRIU image") || !strings.Contains(rows[0].ResumeWhy, "TCP") {
		t.Fatalf("ls: %+v", rows)
	}
	if _, err := os.Stat(db + ".criu/snap-1"); err == nil {
		t.Fatalf("a failed dump left its image directory")
	}
	r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
	if r.Code == 0 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("resume of a refused snapshot without an image: %+v", r)
	}
}

// --max-snapshots pruning takes a periodic snapshot's image with it: the
// images on disk are exactly those of the snapshots still listed.
func TestCriuPruning(t *testing.T) {
	needCriu(t)
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := `import time
t0 = time.time()
n = 0
while time.time() - t0 < 2.0:
    n += 1
    time.sleep(0.01)
print("done")
`
	if err := os.WriteFile(filepath.Join(dir, "loop.py"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir}
	rec := c.Pyreplay(t, "record", "--criu=always", "--every", "300ms", "--max-snapshots", "2", "--python", py, "--db", db, "loop.py")
	if rec.Code != 0 || rec.Stdout != "done\n" {
		t.Fatalf("record: %+v", rec)
	}
	rows := criuRows(t, c, db)
	if len(rows) == 0 || len(rows) > 2 || rows[0].ID == "snap-1" {
		t.Fatalf("want at most 2 periodic snapshots kept, the earlier ones pruned; got %+v", rows)
	}
	want := map[string]bool{}
	for _, r := range rows {
		want[r.ID] = true
		if r.Resume != "exact" {
			t.Errorf("%s: resume %q (an imaged snapshot that resumes exactly stays \"exact\")", r.ID, r.Resume)
		}
	}
	ents, err := os.ReadDir(db + ".criu")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
		if !want[e.Name()] {
			t.Errorf("the image %s stays after its snapshot was pruned", e.Name())
		}
	}
	if len(got) != len(rows) {
		t.Errorf("images %v for snapshots %+v", got, rows)
	}
}

// Restored in a terminal, the copy is the terminal's foreground job: it
// reads what is typed (instead of stopping with SIGTTIN, as a process group
// of its own in the background would), and pyreplay gets the terminal back.
// The terminal is a pseudo-terminal of script(1).
func TestCriuRestoreInTerminal(t *testing.T) {
	needCriu(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give the restore a terminal")
	}
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := `def key(w):
    return len(w)  # SNAP
print(sorted(["ccc", "a"], key=key))
name = input("name? ")
print("hello", name)
`
	if err := os.WriteFile(filepath.Join(dir, "ask.py"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir, Stdin: "bob\n"}
	if rec := c.Pyreplay(t, "record", "--criu", "--python", py, "--db", db, "-b", "ask.py:2@1", "ask.py"); rec.Code != 0 {
		t.Fatalf("record: %+v", rec)
	}
	oneCriuRow(t, c, db)
	// TERM=dumb: no terminal queries at pyreplay's start (they would read
	// the typed line first)
	tc := testutil.Cmd{Dir: dir, Stdin: "alice\n", Env: []string{"TERM=dumb"}, Timeout: 30 * time.Second}
	r := tc.Run(t, script, "-qfec", testutil.Binary(t)+" resume --db "+db+" snap-1; echo status=$?", "/dev/null")
	if !strings.Contains(r.Stdout, "hello alice") || !strings.Contains(r.Stdout, "status=0") {
		t.Fatalf("the copy in a terminal: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// Recorded with its stdio on a terminal (script(1)) or stdout on /dev/null,
// the program's image restores, its output going to the resume's stdout:
// through pipes and through a terminal.
func TestCriuRecordedInTerminal(t *testing.T) {
	needCriu(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give the recording a terminal")
	}
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := `def key(w):
    return len(w)  # SNAP
print(sorted(["ccc", "a"], key=key))
print("after")
import sys; sys.exit(3)
`
	if err := os.WriteFile(filepath.Join(dir, "k.py"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := testutil.Binary(t)
	tc := testutil.Cmd{Dir: dir, Env: []string{"TERM=dumb"}, Timeout: 60 * time.Second}
	tty := filepath.Join(dir, "tty.db")
	rec := tc.Run(t, script, "-qfec", bin+" record --criu --python "+py+" --db "+tty+" -b k.py:2@1 k.py; echo status=$?", "/dev/null")
	if !strings.Contains(rec.Stdout, "status=3") {
		t.Fatalf("record in a terminal: %+v", rec)
	}
	null := filepath.Join(dir, "null.db")
	nc := exec.Command("sh", "-c", bin+" record --criu --python "+py+" --db "+null+" -b k.py:2@1 k.py >/dev/null 2>&1 </dev/null")
	nc.Dir = dir
	if err := nc.Run(); err == nil {
		t.Fatal("record to /dev/null: want exit status 3")
	}
	c := testutil.Cmd{Dir: dir}
	for _, db := range []string{tty, null} {
		oneCriuRow(t, c, db)
		ents, _ := os.ReadDir(filepath.Join(db+".criu", "snap-1"))
		for _, e := range ents {
			if st, err := os.Stat(filepath.Join(db+".criu", "snap-1", e.Name())); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", e.Name(), st.Mode().Perm())
			}
		}
		r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
		if r.Stdout != "['a', 'ccc']\nafter\n" || r.Code != 3 {
			t.Errorf("%s resumed through pipes: exit %d\n%s%s", filepath.Base(db), r.Code, r.Stdout, r.Stderr)
		}
		r = tc.Run(t, script, "-qfec", bin+" resume --db "+db+" snap-1; echo status=$?", "/dev/null")
		if !strings.Contains(r.Stdout, "['a', 'ccc']") || !strings.Contains(r.Stdout, "after") || !strings.Contains(r.Stdout, "status=3") {
			t.Errorf("%s resumed in a terminal: exit %d\n%s%s", filepath.Base(db), r.Code, r.Stdout, r.Stderr)
		}
	}
}
