package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// tmuxTerm is one tmux server (private socket) running one command in a
// window of a fixed size, read the way a person reads a terminal.
type tmuxTerm struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, dir string, w, h int, env []string, command string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); the TUI end-to-end test drives the real binary in it")
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tm := &tmuxTerm{t: t, sock: sock}
	args := []string{"new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "-c", dir}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, command)
	tm.run(args...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", sock, "kill-server").Run() })
	return tm
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	full := append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)
	out, err := exec.Command("tmux", full...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the pane shows now (plain text; with escapes when asked).
func (tm *tmuxTerm) screen(escapes bool) string {
	tm.t.Helper()
	args := []string{"capture-pane", "-p", "-t", "0"}
	if escapes {
		args = append(args, "-e")
	}
	return tm.run(args...)
}

func (tm *tmuxTerm) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", "0"}, keys...)...)
}

// literal types text as it is (no key-name lookup).
func (tm *tmuxTerm) literal(text string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", "0", "-l", text)
}

// waitFor polls the screen until every want is on it.
func (tm *tmuxTerm) waitFor(what string, want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = tm.screen(false)
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	tm.t.Fatalf("%s: the screen never showed %q; it shows:\n%s", what, want, s)
	return ""
}

func recordShop(t *testing.T) (dir, db string) {
	t.Helper()
	dir = t.TempDir()
	testutil.CopyFixture(t, "tui/shop.py", dir)
	db = filepath.Join(dir, "rec.db")
	py := testutil.PythonFor(t, "3.11")
	res := testutil.Cmd{Dir: dir, Timeout: 90 * time.Second}.Pyreplay(t,
		"record", "--db", db, "--python", py, "-b", "shop.py:29", "-b", "Basket.add", "shop.py")
	if res.Code != 0 || !strings.Contains(res.Stderr, "recorded 9 snapshots") {
		t.Fatalf("recording shop.py: code %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	return dir, db
}

func checkScreenSize(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != h {
		t.Errorf("the pane shows %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > w {
			t.Errorf("line %d is %d wide, more than %d: %q", i+1, n, w, l)
		}
	}
}

// TestTUITmux runs `pyreplay tui` in an 80×24 tmux window and uses it as a
// person would: step, jump, expand, diff, filter, help, resize, resume, quit.
func TestTUITmux(t *testing.T) {
	bin := testutil.Binary(t)
	dir, db := recordShop(t)
	// a person's terminal: CI=true (set by CI) makes the colour detection
	// turn colour off, so it is not passed on
	cmd := fmt.Sprintf("env -u CI %s tui --db %s; echo \"tui exited with $?\"; sleep 60", bin, db)
	tm := newTmux(t, dir, 80, 24, []string{"TERM=xterm-256color"}, cmd)

	s := tm.waitFor("start", "snap-1 (1/9)", "Timeline 1/9", "Call stack (3)", "Locals of Basket.add")
	checkScreenSize(t, s, 80, 24)
	for _, want := range []string{"●▶21         self.items.append", "▶ #0 Basket.add", "qty: int = 2", "q quit"} {
		if !strings.Contains(s, want) {
			t.Errorf("main view lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(tm.screen(true), "\x1b[") {
		t.Errorf("a colour terminal without NO_COLOR shows no colour")
	}
	t.Logf("main view:\n%s", s)

	// next, previous, last, first
	tm.keys("n")
	tm.waitFor("next", "snap-2 (2/9)", "▶ snap-2")
	tm.keys("G")
	tm.waitFor("last", "snap-9 (9/9)", "▶ snap-9")
	tm.keys("g")
	tm.waitFor("first", "snap-1 (1/9)")

	// jump by id, then the caller frame
	tm.keys(":")
	tm.waitFor("jump prompt", "jump to snapshot:")
	tm.literal("4")
	tm.keys("Enter")
	s = tm.waitFor("jump", "snap-4 (4/9)", "Source shop.py:29  total", "amount: int = 6")
	tm.keys("Tab", "Down")
	tm.waitFor("caller frame", "▶ #1 main", "Source shop.py:38  main", "Locals of main")

	// expand a variable
	tm.keys("4", "Down", "Right")
	tm.waitFor("expand", "▾ basket: Basket", "owner: str = 'ada'", "items: list[2]")

	// diff with the previous snapshot
	tm.keys("d")
	tm.waitFor("diff", "Diff snap-3 → snap-4", "~ amount: 0 → 6", "~ sold: 0 → 2")
	tm.keys("d")

	// filter the timeline by function
	tm.keys("/")
	tm.literal("add")
	tm.keys("Enter")
	s = tm.waitFor("filter", "Timeline /add  3 of 9 match")
	if strings.Contains(s, "break total") {
		t.Errorf("the filter left total's snapshots in the timeline:\n%s", s)
	}
	tm.keys("/", "Escape")
	tm.waitFor("clear filter", "Timeline 1/9")

	// help, then back
	tm.keys("?")
	tm.waitFor("help", "pyreplay tui: keys", "next snapshot")
	tm.keys("Escape")
	tm.waitFor("help closed", "Call stack")

	// resize: the UI redraws to the new size
	tm.run("resize-window", "-t", "0", "-x", "110", "-y", "30")
	s = tm.waitFor("resize", "+0.") // the wide timeline shows run-relative times
	checkScreenSize(t, s, 110, 30)
	if lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n"); !strings.Contains(lines[len(lines)-1], "q quit") {
		t.Errorf("after a resize the status bar is not on the last line:\n%s", s)
	}
	tm.run("resize-window", "-t", "0", "-x", "80", "-y", "24")
	tm.waitFor("resize back", "Timeline")

	// resume from snap-6 (inside the second total) in the same terminal,
	// read what the program printed, then come back
	tm.keys(":")
	tm.literal("6")
	tm.keys("Enter")
	tm.waitFor("jump to 6", "snap-6 (6/9)")
	tm.keys("r")
	s = tm.waitFor("resume", "resumed from snap-6 exited with code 0", "press Enter to return")
	if !strings.Contains(s, "total 20") {
		t.Errorf("the resumed program's output is not on the screen:\n%s", s)
	}
	tm.keys("Enter")
	tm.waitFor("back from resume", "resumed from snap-6: the program exited with code 0", "Timeline")

	// quit: the terminal is restored (no UI left on it)
	tm.keys("q")
	s = tm.waitFor("quit", "tui exited with 0")
	if strings.Contains(s, "Timeline") || strings.Contains(s, "Call stack") {
		t.Errorf("the UI is still on the screen after quitting:\n%s", s)
	}
}

// TestTUITmuxNoColor: with NO_COLOR the screen has no colour, and the
// markers still show the current line and the breakpoints.
func TestTUITmuxNoColor(t *testing.T) {
	bin := testutil.Binary(t)
	dir, db := recordShop(t)
	cmd := fmt.Sprintf("%s tui --db %s snap-3; echo \"tui exited with $?\"; sleep 60", bin, db)
	tm := newTmux(t, dir, 80, 24, []string{"TERM=xterm-256color", "NO_COLOR=1"}, cmd)
	s := tm.waitFor("start", "snap-3 (3/9)", "●▶29")
	if esc := tm.screen(true); strings.Contains(esc, "\x1b[3") || strings.Contains(esc, "\x1b[4") || strings.Contains(esc, "\x1b[1m") || strings.Contains(esc, "\x1b[7m") {
		t.Errorf("NO_COLOR: the screen is styled:\n%q", esc)
	}
	checkScreenSize(t, s, 80, 24)
	tm.keys("C-c")
	tm.waitFor("ctrl+c", "tui exited with 0")
}

// TestTUIBadInput: what cannot be shown is refused before the terminal is
// taken over, with a message that says what to do.
func TestTUIBadInput(t *testing.T) {
	dir, db := recordShop(t)
	bin := testutil.Binary(t)
	rec := testutil.Cmd{Dir: dir}
	// no terminal at all (the test's stdin is not a tty)
	res := rec.Run(t, bin, "tui", "--db", db)
	if res.Code == 0 || !strings.Contains(res.Stderr, "needs a terminal") {
		t.Errorf("tui without a terminal: code %d, stderr %q", res.Code, res.Stderr)
	}
	// in a terminal: an unknown snapshot, a missing recording, an empty one
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(filepath.Join(dir, "nothing.py"), []byte("pass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := rec.Pyreplay(t, "record", "--db", empty, "--python", testutil.PythonFor(t, "3.11"), "nothing.py"); r.Code != 0 {
		t.Fatalf("recording nothing.py: %d %s", r.Code, r.Stderr)
	}
	cases := []struct{ args, want string }{
		{"--db " + db + " snap-42", "snap-42: no such snapshot"},
		{"--db " + filepath.Join(dir, "nope.db"), "no recording at"},
		{"--db " + db + " banana", `"banana" is not a snapshot id`},
		{"--db " + empty, "has no snapshots yet"},
		{"--db " + db + " -b shop.py:29", "-b needs a program"},
		{"--db " + db + " missing.py", "missing.py does not exist"},
		{"--db " + db + " -b shop.py:3 shop.py", "line 3 of shop.py"},
	}
	for _, c := range cases {
		tm := newTmux(t, dir, 80, 24, nil, fmt.Sprintf("%s tui %s; echo \"tui exited with $?\"; sleep 60", bin, c.args))
		s := tm.waitFor(c.args, "tui exited with 2")
		if !strings.Contains(s, c.want) {
			t.Errorf("tui %s: want %q on the screen:\n%s", c.args, c.want, s)
		}
	}
}
