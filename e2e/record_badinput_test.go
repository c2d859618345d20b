package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Every bad input gets one clear line on stderr starting with "pyreplay:",
// a non-zero exit, no Go panic and no Python traceback, and leaves the
// recording (or the foreign file) exactly as it was.
func TestRecordBadInput(t *testing.T) {
	py := testutil.Python{Minor: "3.11", Path: testutil.PythonFor(t, "3.11")}
	dir := fixtureDir(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "good.db")
	if res := runRecord(t, py, dir, db, "", "triggers.py"); res.Code != 0 {
		t.Fatalf("the good recording failed: %s", res.Stderr)
	}
	before := runPyreplay(t, dir, "ls", "--db", db, "--json").Stdout
	snapBefore := runPyreplay(t, dir, "show", "snap-1", "--db", db, "--json").Stdout
	if !strings.Contains(before, "snap-2") || !strings.Contains(snapBefore, "checkpoint-1") {
		t.Fatalf("the good recording does not hold its two snapshots:\n%s", before)
	}

	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("syntax.py", "print('fine')\ndef broken(:\n    pass\n")
	write("nocode.py", "import sys\n\n# a comment\nx = 0\n\n\ndef f():\n    \"\"\"Docstring.\"\"\"\n    global x\n    x = 1\n\n\nf()\n")
	notExec := write("notpython", "#!/bin/sh\n")
	if err := os.Mkdir(filepath.Join(dir, "nomain"), 0o755); err != nil {
		t.Fatal(err)
	}
	// a foreign SQLite file, random bytes, and a recording from a newer pyreplay
	other := filepath.Join(tmp, "other.db")
	rnd := filepath.Join(tmp, "random.db")
	newer := filepath.Join(tmp, "newer.db")
	if res := recRun(t, tmp, "", py.Path, "-c", `import sqlite3, shutil, sys
c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.execute("INSERT INTO t VALUES (1)"); c.commit(); c.close()
shutil.copy(sys.argv[3], sys.argv[2])
c = sqlite3.connect(sys.argv[2]); c.execute("PRAGMA user_version=99"); c.commit(); c.close()
open(sys.argv[4], "wb").write(bytes(range(256)) * 64)`, other, newer, db, rnd); res.Code != 0 {
		t.Fatalf("making the bad recordings: %s", res.Stderr)
	}
	files := map[string][]byte{}
	for _, f := range []string{other, rnd, newer} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}

	rec := []string{"record", "--db", db, "--python", py.Path}
	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"no program", []string{"record", "--db", db}, "nothing to record"},
		{"missing program", append(rec, "missing.py"), "missing.py does not exist"},
		// a directory with a __main__.py runs, as with python DIR (hardening_test.go)
		{"program is a directory without __main__.py", append(rec, "nomain"), "nomain is a directory without a __main__.py"},
		{"syntax error", append(rec, "syntax.py"), "syntax error in"},
		{"breakpoint on a blank line", append(rec, "-b", "nocode.py:2", "nocode.py"), "line 2 of nocode.py has no code"},
		{"breakpoint on a comment", append(rec, "-b", "nocode.py:3", "nocode.py"), "line 3 of nocode.py has no code"},
		{"breakpoint past the end", append(rec, "-b", "nocode.py:99", "nocode.py"), "line 99 of nocode.py has no code"},
		{"breakpoint on a docstring", append(rec, "-b", "nocode.py:8", "nocode.py"), "docstring"},
		{"breakpoint on global", append(rec, "-b", "nocode.py:9", "nocode.py"), "global declaration"},
		{"breakpoint in a missing file", append(rec, "-b", "nowhere.py:3", "nocode.py"), "nowhere.py does not exist"},
		{"breakpoint line is not a number", append(rec, "-b", "nocode.py:x", "nocode.py"), "is not FILE:LINE"},
		{"breakpoint hit 0", append(rec, "-b", "nocode.py:4@0", "nocode.py"), "1 or more"},
		{"empty breakpoint", append(rec, "-b", "", "nocode.py"), "is not FILE:LINE"},
		{"breakpoint is not a name", append(rec, "-b", "1abc", "nocode.py"), "is not FILE:LINE"},
		{"breakpoint on an unknown function", append(rec, "-b", "nosuchfunc", "nocode.py"), "no function nosuchfunc"},
		{"breakpoint condition does not compile", append(rec, "-b", "nocode.py:4 if (((", "nocode.py"), "not a Python expression"},
		{"breakpoint condition is a statement", append(rec, "-b", "nocode.py:4 if x = 1", "nocode.py"), "not a Python expression"},
		{"negative --every", append(rec, "--every", "-1s", "nocode.py"), "must not be negative"},
		{"bad --every", append(rec, "--every", "soon", "nocode.py"), "soon"},
		{"unknown flag", append(rec, "--bogus", "nocode.py"), "bogus"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"unknown snapshot", []string{"show", "snap-999", "--db", db}, "snap-999"},
		{"snapshot id is not a number", []string{"show", "abc", "--db", db}, `"abc" is not a snapshot id`},
		{"snapshot 0", []string{"show", "snap-0", "--db", db}, "is not a snapshot id"},
		{"show without id", []string{"show", "--db", db}, "arg"},
		{"no recording", []string{"ls", "--db", filepath.Join(tmp, "absent.db")}, "no recording at"},
		{"show with no recording", []string{"show", "1", "--db", filepath.Join(tmp, "absent.db")}, "no recording at"},
		{"recording is a directory", []string{"ls", "--db", tmp}, tmp},
		{"ls of a foreign SQLite file", []string{"ls", "--db", other}, "not a pyreplay recording"},
		{"show of a foreign SQLite file", []string{"show", "1", "--db", other}, "not a pyreplay recording"},
		{"record into a foreign SQLite file", []string{"record", "--db", other, "--python", py.Path, "nocode.py"}, "not a pyreplay recording"},
		{"ls of random bytes", []string{"ls", "--db", rnd}, "not a pyreplay recording"},
		{"show of random bytes", []string{"show", "1", "--db", rnd}, "not a pyreplay recording"},
		{"record into random bytes", []string{"record", "--db", rnd, "--python", py.Path, "nocode.py"}, "not a pyreplay recording"},
		{"ls of a newer schema", []string{"ls", "--db", newer}, "newer pyreplay"},
		{"show of a newer schema", []string{"show", "1", "--db", newer}, "newer pyreplay"},
		{"record into a newer schema", []string{"record", "--db", newer, "--python", py.Path, "nocode.py"}, "newer pyreplay"},
		{"recording directory cannot be made", []string{"record", "--db", "/proc/no/such/dir/x.db", "--python", py.Path, "nocode.py"}, "cannot create"},
		{"python does not exist", []string{"record", "--db", db, "--python", "/nonexistent/python3", "nocode.py"}, "no usable Python"},
		{"python is not executable", []string{"record", "--db", db, "--python", notExec, "nocode.py"}, "no usable Python"},
		{"python is a directory", []string{"record", "--db", db, "--python", tmp, "nocode.py"}, "no usable Python"},
	}
	for _, old := range []string{"2.7", "3.6", "3.7"} {
		if p := oldPython(old); p != "" {
			cases = append(cases, struct {
				name    string
				args    []string
				mention string
			}{"python " + old, []string{"record", "--db", db, "--python", p, "nocode.py"}, "Python " + old + " is not supported"})
		} else {
			t.Logf("CPython %s is not installed: not tested", old)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runPyreplay(t, dir, c.args...)
			expectBadInput(t, res, c.mention)
		})
	}

	// nothing recorded before is damaged, and no foreign file was touched
	if after := runPyreplay(t, dir, "ls", "--db", db, "--json").Stdout; after != before {
		t.Errorf("ls changed after the bad inputs:\n%s\nwas\n%s", after, before)
	}
	if after := runPyreplay(t, dir, "show", "snap-1", "--db", db, "--json").Stdout; after != snapBefore {
		t.Errorf("show snap-1 changed after the bad inputs")
	}
	for f, b := range files {
		now, _ := os.ReadFile(f)
		if !bytes.Equal(now, b) {
			t.Errorf("%s was modified by pyreplay", filepath.Base(f))
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(f + suffix); err == nil {
				t.Errorf("pyreplay left %s%s beside a file that is not its recording", filepath.Base(f), suffix)
			}
		}
	}
	// the good recording still takes new runs, numbered on
	if res := runRecord(t, py, dir, db, "", "triggers.py"); res.Code != 0 || !strings.Contains(res.Stderr, "snap-3..snap-4") {
		t.Errorf("recording again after the bad inputs: exit %d\n%s", res.Code, res.Stderr)
	}
}

// oldPython returns an installed pyenv CPython of an unsupported version, or "".
func oldPython(minor string) string {
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if out, err := exec.Command("pyenv", "root").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		} else {
			home, _ := os.UserHomeDir()
			root = filepath.Join(home, ".pyenv")
		}
	}
	ms, _ := filepath.Glob(filepath.Join(root, "versions", minor+".*", "bin", "python"))
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1]
}
