package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// TestTUILive runs `pyreplay tui -b shop.py:29 shop.py` in tmux: the
// program stops at the breakpoint; step over, continue, step back and
// forward through history, read its output, run it to the end, quit.
func TestTUILive(t *testing.T) {
	bin := testutil.Binary(t)
	dir := t.TempDir()
	testutil.CopyFixture(t, "tui/shop.py", dir)
	py := testutil.PythonFor(t, "3.11")
	// (going back between the stops: line history, on by default, is
	// tested in tui/live_test.go)
	cmd := fmt.Sprintf("%s tui --db rec.db --python %s --line-history=false -b shop.py:29 shop.py; echo \"tui exited with $?\"; sleep 60", bin, py)
	tm := newTmux(t, dir, 80, 24, []string{"TERM=xterm-256color"}, cmd)

	s := tm.waitFor("first stop", "‖ paused", "breakpoint  total  shop.py:29", "●▶29", "amount: int = 0")
	checkScreenSize(t, s, 80, 24)
	t.Logf("live view:\n%s", s)

	tm.keys("o")
	tm.waitFor("step over", "step over  total  shop.py:30", "▶30")
	tm.keys("c")
	tm.waitFor("continue", "(3/3)", "breakpoint  total  shop.py:29", "amount: int = 6")
	tm.keys("b")
	tm.waitFor("step back", "◀ past", "(2/3)", "in the past")
	tm.keys("o")
	tm.waitFor("forward through history", "‖ paused", "(3/3)", "back at the present stop")

	// to the end: the program prints, exits 0
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tm.keys("c")
		time.Sleep(300 * time.Millisecond)
		if strings.Contains(tm.screen(false), "exited 0") {
			break
		}
	}
	tm.waitFor("end", "exited 0")
	tm.keys("O")
	tm.waitFor("output", "Output (O shows the source)", "total 10", "total 20")

	tm.keys("q")
	s = tm.waitFor("quit", "tui exited with 0")
	if strings.Contains(s, "Timeline") {
		t.Errorf("the UI is still on the screen after quitting:\n%s", s)
	}
}

// TestTUILiveQuitEndsProgram: quitting while the program is stopped ends it.
func TestTUILiveQuitEndsProgram(t *testing.T) {
	bin := testutil.Binary(t)
	dir := t.TempDir()
	testutil.CopyFixture(t, "tui/shop.py", dir)
	py := testutil.PythonFor(t, "3.11")
	marker := "tui-live-" + fmt.Sprint(time.Now().UnixNano())
	cmd := fmt.Sprintf("%s tui --db rec.db --python %s -b shop.py:29 shop.py; echo \"tui exited with $?\"; sleep 60", bin, py)
	tm := newTmux(t, dir, 80, 24, []string{"PYREPLAY_TEST_MARKER=" + marker}, cmd)
	tm.waitFor("first stop", "‖ paused")
	if !processRunning(t, marker) {
		t.Fatalf("no program process with %s in its arguments while stopped", marker)
	}
	tm.keys("q")
	tm.waitFor("quit", "tui exited with 0")
	deadline := time.Now().Add(5 * time.Second)
	for processRunning(t, marker) {
		if time.Now().After(deadline) {
			t.Fatalf("the program (%s) still runs after quitting the TUI", marker)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processRunning says whether a Python process (the shim's boot.py) with
// PYREPLAY_TEST_MARKER=marker in its environment is alive.
func processRunning(t *testing.T, marker string) bool {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("boot.py")) {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err == nil && bytes.Contains(env, []byte("PYREPLAY_TEST_MARKER="+marker)) {
			if st, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
				continue // a zombie is gone
			}
			return true
		}
	}
	return false
}

// TestTUILiveLineHistoryByDefault: a live program's TUI steps back by line
// without --line-history (as a DAP live session's time travel).
func TestTUILiveLineHistoryByDefault(t *testing.T) {
	bin := testutil.Binary(t)
	dir := t.TempDir()
	testutil.CopyFixture(t, "tui/shop.py", dir)
	py := testutil.PythonFor(t, "3.12")
	cmd := fmt.Sprintf("%s tui --db rec.db --python %s -b shop.py:29 shop.py; echo \"tui exited with $?\"; sleep 60", bin, py)
	tm := newTmux(t, dir, 80, 24, []string{"TERM=xterm-256color"}, cmd)
	tm.waitFor("first stop", "‖ paused", "breakpoint  total  shop.py:29")
	tm.keys("b")
	tm.waitFor("step back by line", "in the past: line 28 of total")
	tm.keys("q")
	tm.waitFor("quit", "tui exited with 0")
}
