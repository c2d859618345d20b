package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// resFixture copies fixtures/<dir>/<name> into a fresh directory.
func resFixture(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	tmp := t.TempDir()
	testutil.CopyFixture(t, filepath.Join(dir, name), tmp)
	return tmp, filepath.Join(tmp, "rec.db")
}

type resSnap struct {
	ID          string `json:"id"`
	Run         int    `json:"run"`
	Line        int    `json:"line"`
	Reason      string `json:"reason"`
	StdoutBytes int    `json:"stdout_bytes"`
}

func resList(t *testing.T, c testutil.Cmd, db string) []resSnap {
	t.Helper()
	r := c.Pyreplay(t, "ls", "--db", db, "--json")
	var out []resSnap
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("ls --json: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	return out
}

// A resumed run continues with the original's output from the snapshot on,
// can itself be recorded with -b, and its snapshot resumes again (chain).
func TestResumeChainsAndEmits(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir, db := resFixture(t, "demo", "counter.py")
		c := testutil.Cmd{Dir: dir}
		plain := c.Run(t, py.Path, "counter.py")
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "counter.py:11@2", "counter.py")
		if rec.Stdout != plain.Stdout || rec.Code != plain.Code {
			t.Fatalf("recording changed the output:\n%s\n%s", rec.Stdout, rec.Stderr)
		}
		snaps := resList(t, c, db)
		if len(snaps) != 1 {
			t.Fatalf("want 1 snapshot, got %v", snaps)
		}
		first := snaps[0]
		r1 := c.Pyreplay(t, "resume", first.ID, "--db", db, "-b", "counter.py:12@2")
		if want := plain.Stdout[first.StdoutBytes:]; r1.Stdout != want || r1.Code != plain.Code {
			t.Fatalf("resume %s: got %q (exit %d), want %q\n%s", first.ID, r1.Stdout, r1.Code, want, r1.Stderr)
		}
		if !strings.Contains(r1.Stderr, "recorded 1 snapshot") {
			t.Fatalf("the resumed run's breakpoint did not record: %s", r1.Stderr)
		}
		snaps = resList(t, c, db)
		if len(snaps) != 2 || snaps[1].Run == snaps[0].Run || snaps[1].Line != 12 {
			t.Fatalf("chained snapshot not in a new run of the same recording: %+v", snaps)
		}
		second := snaps[1]
		r2 := c.Pyreplay(t, "resume", second.ID, "--db", db)
		if want := plain.Stdout[second.StdoutBytes:]; r2.Stdout != want || r2.Code != plain.Code {
			t.Fatalf("resume of the chained %s: got %q, want %q\n%s", second.ID, r2.Stdout, want, r2.Stderr)
		}
		// the same snapshot resumes any number of times
		r3 := c.Pyreplay(t, "resume", first.ID, "--db", db)
		if r3.Stdout != plain.Stdout[first.StdoutBytes:] {
			t.Fatalf("second resume of %s differs: %q", first.ID, r3.Stdout)
		}
		// --emit writes the reconstruction and runs nothing
		out := filepath.Join(dir, "emitted.py")
		e := c.Pyreplay(t, "resume", first.ID, "--db", db, "--emit", out)
		src, err := os.ReadFile(out)
		if e.Code != 0 || err != nil || e.Stdout != "" || !strings.Contains(string(src), "def count(lines):") {
			t.Fatalf("--emit: exit %d, %v, stdout %q\n%s", e.Code, err, e.Stdout, src)
		}
	})
}

// The resumed program reads the terminal's stdin and exits with its own status;
// tracebacks name the original file and line.
func TestResumeStdinExitAndTraceback(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir, db := resFixture(t, "refuse", "reader.py")
	c := testutil.Cmd{Dir: dir}
	rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "reader.py:5", "reader.py")
	if rec.Code != 0 {
		t.Fatalf("record: %d %s", rec.Code, rec.Stderr)
	}
	c.Stdin = "hello\n"
	r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
	if r.Stdout != "read hello\n" || r.Code != 5 {
		t.Fatalf("resume: stdout %q exit %d\n%s", r.Stdout, r.Code, r.Stderr)
	}

	dir, db = resFixture(t, "resume", "raises.py")
	c = testutil.Cmd{Dir: dir}
	plain := c.Run(t, py, "raises.py")
	c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "raises.py:8@5", "raises.py")
	r = c.Pyreplay(t, "resume", "1", "--db", db)
	if r.Code != 1 || r.Code != plain.Code {
		t.Fatalf("exit %d, want %d", r.Code, plain.Code)
	}
	// same traceback as the plain run: file names, lines, function names
	if !strings.Contains(r.Stderr, `raises.py", line 8, in parse`) || !strings.Contains(r.Stderr, `raises.py", line 13, in <module>`) ||
		strings.Contains(r.Stderr, "pyreplay_shim") || strings.Contains(r.Stderr, "_pyr_") {
		t.Fatalf("traceback of the resumed run:\n%s\nplain:\n%s", r.Stderr, plain.Stderr)
	}
	if got, want := tracebackLines(r.Stderr), tracebackLines(plain.Stderr); got != want {
		t.Fatalf("traceback differs:\n%s\n--- plain ---\n%s", got, want)
	}
}

func tracebackLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "pyreplay:") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// What cannot be rebuilt exactly is refused: one line naming the construct
// and file:line, a non-zero exit, nothing run.
func TestResumeRefuses(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	cases := []struct {
		file, bp, want string
	}{
		{"callback.py", "callback.py:5", "through C code"},
		{"threads.py", "threads.py:16", "another thread (spinner)"},
		{"coro.py", "coro.py:7", "a coroutine (work)"},
	}
	for _, k := range cases {
		t.Run(k.file, func(t *testing.T) {
			dir, db := resFixture(t, "refuse", k.file)
			c := testutil.Cmd{Dir: dir}
			rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", k.bp+"@1", k.file)
			if rec.Code != 0 || !strings.Contains(rec.Stderr, "recorded 1 snapshot") {
				t.Fatalf("record: %d %s", rec.Code, rec.Stderr)
			}
			r := c.Pyreplay(t, "resume", "1", "--db", db)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code == 0 || r.Stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], "cannot resume snap-1 exactly") ||
				!strings.Contains(lines[0], k.want) || !strings.Contains(lines[0], ".py:") {
				t.Fatalf("want one refusal line with %q and %s:LINE, got exit %d stdout %q stderr:\n%s", k.want, k.file, r.Code, r.Stdout, r.Stderr)
			}
		})
	}
	// a source file changed since recording
	dir, db := resFixture(t, "demo", "counter.py")
	c := testutil.Cmd{Dir: dir}
	c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "counter.py:11@1", "counter.py")
	f := filepath.Join(dir, "counter.py")
	src, _ := os.ReadFile(f)
	if err := os.WriteFile(f, append(src, []byte("\n# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.Pyreplay(t, "resume", "1", "--db", db)
	if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "counter.py changed since it was recorded") {
		t.Fatalf("edited source: exit %d stdout %q stderr %s", r.Code, r.Stdout, r.Stderr)
	}
	// and a Python of another version
	if other := otherPython(t, "3.11"); other != "" {
		os.WriteFile(f, src, 0o644)
		r = c.Pyreplay(t, "resume", "1", "--db", db, "--python", other)
		if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "recorded with Python 3.11") {
			t.Fatalf("other python: exit %d stdout %q stderr %s", r.Code, r.Stdout, r.Stderr)
		}
	}
}

func otherPython(t *testing.T, not string) string {
	for _, p := range testutil.Pythons(t) {
		if p.Minor != not {
			return p.Path
		}
	}
	return ""
}

// A value that could not be saved blocks the resume when the program can
// still reach it: a global that a module of the program mentions is refused
// by name (resuming would make the program fail where it did not). Browsing
// still lists it.
func TestResumePlaceholders(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir, db := resFixture(t, "refuse", "unsaved.py")
	c := testutil.Cmd{Dir: dir}
	c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "unsaved.py:10", "unsaved.py")
	show := c.Pyreplay(t, "show", "1", "--db", db)
	if !strings.Contains(show.Stdout, "global 'sock' of module __main__") {
		t.Fatalf("show does not list the unsaved socket:\n%s", show.Stdout)
	}
	r := c.Pyreplay(t, "resume", "1", "--db", db)
	if r.Code == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "global 'sock' of module __main__") ||
		!strings.Contains(r.Stderr, "could not be saved and the program's code mentions it") {
		t.Fatalf("a resume that would touch the unsaved socket: exit %d stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
