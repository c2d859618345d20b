package e2e

// Low items of the hardening issue: a live DAP session records a death by
// signal as pyreplay record does; a forked child's snapshots are a run of
// their own; non-UTF-8 argv survives a resume.

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

func writeProg(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runExit(t *testing.T, db string, run int) (code sql.NullInt64) {
	t.Helper()
	h, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.QueryRow(`SELECT exit_code FROM runs WHERE id=?`, run).Scan(&code); err != nil {
		t.Fatal(err)
	}
	return code
}

// A program that dies by SIGTERM under a live DAP session: the client is
// told 143 (as a shell would), the run records -15, as pyreplay record does.
func TestDAPLiveSignalExit(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := writeProg(t, dir, "die.py", "import os, signal\nprint('bye', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\n")
	recDB := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir}
	if r := c.Pyreplay(t, "record", "--python", py, "--db", recDB, "die.py"); r.Code == 0 || r.Stdout != "bye\n" {
		t.Fatalf("record: %+v", r)
	}
	if got := runExit(t, recDB, 1); !got.Valid || got.Int64 != -15 {
		t.Fatalf("pyreplay record kept %v", got)
	}
	db := filepath.Join(dir, "dap.db")
	cmd := exec.Command(testutil.Binary(t), "dap")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	d := newDAPConn(t, stdout, stdin)
	d.start(prog, py, db)
	ex := d.wait("exited", isEvent("exited"))
	if code := ex["body"].(map[string]any)["exitCode"].(float64); code != 143 {
		t.Fatalf("exited event: %v", ex)
	}
	d.wait("terminated", isEvent("terminated"))
	if got := runExit(t, db, 1); !got.Valid || got.Int64 != -15 {
		t.Fatalf("the DAP session kept %v, want -15 as pyreplay record does", got)
	}
}

const forkProg = `import os, pyreplay
pyreplay.snapshot("before")
pid = os.fork()
if pid == 0:
    pyreplay.snapshot("child")
    pid2 = os.fork()
    if pid2 == 0:
        pyreplay.snapshot("grandchild")
        os._exit(0)
    os.waitpid(pid2, 0)
    os._exit(0)
os.waitpid(pid, 0)
print(pid)
pyreplay.snapshot("parent")
`

// A forked child's snapshots go to a run of its own, marked with the run
// it was forked from and its pid; ls tells them apart.
func TestForkedChildRun(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		writeProg(t, dir, "forks.py", forkProg)
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		r := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "forks.py")
		if r.Code != 0 {
			t.Fatalf("record: %+v", r)
		}
		childPid, _ := strconv.ParseInt(strings.TrimSpace(r.Stdout), 10, 64)
		ls := c.Pyreplay(t, "ls", "--db", db, "--json")
		var list []struct {
			Run    int64  `json:"run"`
			Label  string `json:"label"`
			ForkOf *int64 `json:"fork_of"`
			Pid    *int64 `json:"pid"`
		}
		if err := json.Unmarshal([]byte(ls.Stdout), &list); err != nil || len(list) != 4 {
			t.Fatalf("ls --json: %v\n%s", err, ls.Stdout)
		}
		runs := map[string]int64{}
		for _, s := range list {
			runs[s.Label] = s.Run
			switch s.Label {
			case "before", "parent":
				if s.Run != 1 || s.ForkOf != nil {
					t.Fatalf("the parent's snapshot %+v", s)
				}
			case "child":
				if s.Run == 1 || s.ForkOf == nil || *s.ForkOf != 1 || s.Pid == nil || *s.Pid != childPid {
					t.Fatalf("the child's snapshot %+v (child pid %d)", s, childPid)
				}
			case "grandchild":
				if s.ForkOf == nil || *s.ForkOf != runs["child"] || s.Pid == nil || *s.Pid == childPid {
					t.Fatalf("the grandchild's snapshot %+v", s)
				}
			}
		}
		plain := c.Pyreplay(t, "ls", "--db", db)
		if !strings.Contains(plain.Stdout, "(fork of 1, pid "+strconv.FormatInt(childPid, 10)+")") {
			t.Fatalf("ls does not tell the child's run apart:\n%s", plain.Stdout)
		}
	})
}

// Command-line bytes that are not UTF-8 reach a resumed program as the
// same surrogate escapes a plain run gets: os.fsencode gives them back.
func TestResumeNonUTF8Argv(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		writeProg(t, dir, "args.py", "import os, sys\nx = 1\nprint([os.fsencode(a).hex() for a in sys.argv[1:]])\n")
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		arg := "caf\xe9-\xff\xfe"
		plain := c.Run(t, py.Path, "args.py", arg, "ok")
		if plain.Code != 0 || !strings.Contains(plain.Stdout, "636166e92dfffe") {
			t.Fatalf("plain run: %+v", plain)
		}
		if r := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "args.py:3", "args.py", arg, "ok"); r.Stdout != plain.Stdout {
			t.Fatalf("record: %+v", r)
		}
		if r := c.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code != 0 || r.Stdout != plain.Stdout {
			t.Fatalf("resume: got %q, want %q\n%s", r.Stdout, plain.Stdout, r.Stderr)
		}
	})
}
