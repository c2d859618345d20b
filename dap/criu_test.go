package dap_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/testutil"
)

var (
	criuOnce sync.Once
	criuPath string
	criuErr  error
)

// needCriu skips when CRIU cannot dump here (checkpoint.Probe's reason);
// otherwise the server in this test binary finds the one pyreplay finds.
func needCriu(t *testing.T) {
	t.Helper()
	criuOnce.Do(func() {
		c, err := checkpoint.FindDumping(checkpoint.CacheDirs(testutil.Binary(t))...)
		if err == nil {
			criuPath = c.Path
		}
		criuErr = err
	})
	if criuErr != nil {
		t.Skipf("CRIU is not usable here, skipping: %v", criuErr)
	}
	t.Setenv("PYREPLAY_CRIU", criuPath)
}

// "criu": true images a live stop that exact resume refuses (inside a
// sorted(key=...) callback); Resume from Here then restores that image:
// the copy prints exactly the original's remaining output, undebugged, and
// its exit status ends the session.
func TestLaunchCriuResumeFromHere(t *testing.T) {
	needCriu(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(testutil.Root(), "e2e", "testdata", "criu", "sortkey.py"))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "sortkey.py")
	if err := os.WriteFile(prog, src, 0o644); err != nil {
		t.Fatal(err)
	}
	f := fixture{dir: dir, db: filepath.Join(dir, "rec.db"), prog: prog, py: testutil.PythonFor(t, "3.11")}
	plain := testutil.Cmd{Dir: dir}.Run(t, f.py, "sortkey.py")

	c := newClient(t)
	c.launch(f, msg{"criu": true, "timeTravel": false}, map[string][]int{"sortkey.py": {11}}, nil)
	c.stopped()
	ls := testutil.Cmd{Dir: dir}.Pyreplay(t, "ls", "--json", "--db", f.db)
	var raw []map[string]any
	if err := json.Unmarshal([]byte(ls.Stdout), &raw); err != nil || len(raw) != 1 || raw[0]["resume"] != "criu" {
		t.Fatalf("the live stop is not listed as \"criu\": %v %s", err, ls.Stdout)
	}
	// pyreplay resume restores the same image while the original is
	// stopped: the copy of a live session runs undebugged to its end
	want := plain.Stdout[strings.Index(plain.Stdout, "sorted:"):]
	r := testutil.Cmd{Dir: dir}.Pyreplay(t, "resume", "snap-1", "--db", f.db)
	if r.Code != 5 || r.Stdout != want || !strings.HasSuffix(r.Stderr, "bye\n") || !strings.Contains(r.Stderr, "from its CRIU image") {
		t.Fatalf("pyreplay resume of the live stop's image: %+v, want stdout %q", r, want)
	}
	before := len(c.outputs)
	c.request("pyreplayResume", nil)
	c.event("continued")
	c.expectExit(5)
	by := map[string]string{}
	for _, o := range c.outputs[before:] {
		by[o.str("category")] += o.str("output")
	}
	if !strings.Contains(by["console"], "from its CRIU image") {
		t.Errorf("no console line about the CRIU image: %q", by["console"])
	}
	// the copy's output is the original's after the first key call
	if by["stdout"] != want || by["stderr"] != "bye\n" {
		t.Errorf("the copy printed %q and %q on stderr, want %q and bye", by["stdout"], by["stderr"], want)
	}
}

// A bad "criu" value, or no usable CRIU, fails the launch with one line.
func TestLaunchCriuBadValue(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	e := c.requestErr("launch", msg{"program": f.prog, "cwd": f.dir, "python": f.py, "db": f.db, "criu": "sometimes"})
	if !strings.Contains(e, "criu") || strings.Contains(e, "\n") {
		t.Fatalf("launch with \"criu\": \"sometimes\": %q", e)
	}
	if _, err := os.Stat(f.db); err == nil {
		t.Fatalf("a refused launch created the recording")
	}
}
