package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

const trustProg = `def f(x):
    y = x * 2
    return y
print("got", f(21))
`

// evilState writes a pickle whose loading creates marker: what a hostile
// edit of a recording would plant.
const evilState = `import os, pickle, sqlite3, sys
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE snapshots SET state=?", (pickle.dumps(Evil()),))
db.commit()
`

// A recording's state is loaded only when it is signed with the user's key:
// a tampered snapshot is refused by name and nothing of it runs; another
// user's recording can be browsed but not resumed until it is trusted.
func TestTrust(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	mine := filepath.Join(dir, "cfg-mine")
	theirs := filepath.Join(dir, "cfg-theirs")
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(trustProg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evil.py"), []byte(evilState), 0o644); err != nil {
		t.Fatal(err)
	}
	me := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + mine}}
	them := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + theirs}}
	db := filepath.Join(dir, "rec.db")

	rec := them.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:2", "prog.py")
	if rec.Code != 0 || rec.Stdout != "got 42\n" {
		t.Fatalf("record: %+v", rec)
	}
	// the key was created private
	st, err := os.Stat(filepath.Join(theirs, "pyreplay", "key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	// their recording under my key: browsable, not resumable
	if ls := me.Pyreplay(t, "ls", "--db", db); ls.Code != 0 || !strings.Contains(ls.Stdout, "snap-1") {
		t.Fatalf("ls of a foreign recording: %+v", ls)
	}
	if sh := me.Pyreplay(t, "show", "snap-1", "--db", db); sh.Code != 0 || !strings.Contains(sh.Stdout, "x") {
		t.Fatalf("show of a foreign recording: %+v", sh)
	}
	r := me.Pyreplay(t, "resume", "snap-1", "--db", db)
	if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "not recorded under your pyreplay key") ||
		!strings.Contains(r.Stderr, "pyreplay trust") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("resume of a foreign recording: %+v", r)
	}
	// trusting it makes it mine
	tr := me.Pyreplay(t, "trust", db)
	if tr.Code != 0 || !strings.Contains(tr.Stderr, "signed 1 snapshots") {
		t.Fatalf("trust: %+v", tr)
	}
	if r := me.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code != 0 || r.Stdout != "got 42\n" {
		t.Fatalf("resume after trust: %+v", r)
	}
	// a tampered snapshot is refused by name, and nothing of it runs
	marker := filepath.Join(dir, "PWNED")
	if ev := me.Run(t, py, "evil.py", db, marker); ev.Code != 0 {
		t.Fatalf("tampering: %+v", ev)
	}
	r = me.Pyreplay(t, "resume", "snap-1", "--db", db)
	if r.Code == 0 || !strings.Contains(r.Stderr, "snap-1 was changed after it was recorded") {
		t.Fatalf("resume of a tampered snapshot: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the tampered state ran")
	}
	// a planted source text is refused too
	r2 := me.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:2", "prog.py")
	if r2.Code != 0 {
		t.Fatalf("record: %+v", r2)
	}
	if ev := me.Run(t, py, "-c", `import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("UPDATE sources SET text = replace(text, 'x * 2', '__import__(\"os\").system(\"touch PWNED\")')"); db.commit()`, db); ev.Code != 0 {
		t.Fatalf("tampering: %+v", ev)
	}
	r = me.Pyreplay(t, "resume", "snap-2", "--db", db)
	if r.Code == 0 || !strings.Contains(r.Stderr, "snap-2 was changed after it was recorded (its source") {
		t.Fatalf("resume with a planted source: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the planted source ran")
	}
}

// The runs table is not signed: an interpreter path planted there is never
// run, by resume or by evaluation in the past; the snapshot's signed
// metadata names the interpreter that recorded it.
func TestTrustIgnoresRunsPython(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(trustProg), 0o644); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "PWNED")
	evil := filepath.Join(dir, "evil.sh")
	if err := os.WriteFile(evil, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	me := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "cfg")}}
	db := filepath.Join(dir, "rec.db")
	if rec := me.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:2", "prog.py"); rec.Code != 0 {
		t.Fatalf("record: %+v", rec)
	}
	if ev := me.Run(t, py, "-c", `import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("UPDATE runs SET python=?", (sys.argv[2],)); db.commit()`, db, evil); ev.Code != 0 {
		t.Fatalf("tampering: %+v", ev)
	}
	if r := me.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code != 0 || r.Stdout != "got 42\n" {
		t.Fatalf("resume: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("resume ran the interpreter path planted in the runs table")
	}
}

// resume --trust signs a foreign recording with the user's key, then
// resumes it.
func TestResumeTrustFlag(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(trustProg), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	them := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "theirs")}}
	me := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "mine")}}
	if rec := them.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:2", "prog.py"); rec.Code != 0 {
		t.Fatalf("record: %+v", rec)
	}
	if r := me.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code == 0 || r.Stdout != "" {
		t.Fatalf("resume of a foreign recording: %+v", r)
	}
	if r := me.Pyreplay(t, "resume", "snap-1", "--db", db, "--trust"); r.Code != 0 || r.Stdout != "got 42\n" {
		t.Fatalf("resume --trust: %+v", r)
	}
	if r := me.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code != 0 || r.Stdout != "got 42\n" {
		t.Fatalf("resume after --trust signed it: %+v", r)
	}
}
