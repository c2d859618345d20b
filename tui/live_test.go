package tui_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/tui"
)

const liveProg = `def f(i):
    x = i * 2
    return x


for i in range(3):
    f(i)
print("done")
`

// newLive launches liveProg under the engine with the breakpoint specs
// and opens the UI on its first stop, as pyreplay tui PROG.py does.
func newLive(t *testing.T, specs ...string) *tui.Model {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.py")
	if err := os.WriteFile(prog, []byte(liveProg), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := session.NewEngine()
	t.Cleanup(eng.Close)
	err := eng.Launch(session.LaunchOptions{Target: launch.Target{Script: prog}, Cwd: dir, Python: testutil.PythonFor(t, "3.11"), JustMyCode: true,
		DB: filepath.Join(dir, "rec.db"), Breakpoints: specs, Exceptions: []string{"uncaught"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	if err := eng.WaitStop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	m, err := tui.New(eng, tui.Options{Renderer: plainRenderer()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// TestLive drives a live program: the step keys run it, the breakpoint's
// condition decides where continue stops (live and in history), step back
// and forward move through history, and its end and output are shown.
func TestLive(t *testing.T) {
	m := newLive(t, "prog.py:2 if i >= 1")
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm, "‖ paused", "(1/1)", "i: int = 1")

	// step over: the program runs and stops at the next line
	tm.Send(keys("o")[0])
	waitScreen(t, tm, "(2/2)", "prog.py:3")
	// continue: the condition skips nothing here, i == 2 stops
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "(3/3)", "i: int = 2")
	// step back twice: history, no run
	tm.Send(keys("b")[0])
	tm.Send(keys("b")[0])
	waitScreen(t, tm, "◀ past", "(1/3)")
	// continue in the past: through history to the next stop the
	// breakpoint fires at (the step stop at line 3 is passed over)
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "back at the present stop", "(3/3)")
	// continue at the present runs the program to its end
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "exited with code 0")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "the program has exited with code 0; r resumes")
	tm.Send(keys("O")[0])
	waitScreen(t, tm, "Output (O shows the source)")
	tm.Send(keys("O")[0])
	// resume from a past stop: the engine starts a fresh process there,
	// which the UI goes on debugging (the history after that stop goes)
	tm.Send(keys("b")[0])
	waitScreen(t, tm, "(2/3)")
	tm.Send(keys("r")[0])
	waitScreen(t, tm, "‖ paused", "(3/3)", "resumed from snap-2 in a fresh process")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "(4/4)", "i: int = 2")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "exited with code 0")
	tm.Send(keys("O")[0])
	waitScreen(t, tm, "Output (O shows the source)")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	v := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "exited 0") || !strings.Contains(v, "(4/4)") || !strings.Contains(v, "done") {
		t.Errorf("after the end:\n%s", v)
	}
}

// --line-history in a replay of a record --trace recording: b steps back
// by line from the exception, with the locals of each line; a breakpoint
// set then (B) is reached backwards (R) and forwards (c) by line.
func TestLineHistoryReplayTUI(t *testing.T) {
	dir := t.TempDir()
	prog := testutil.CopyFixture(t, "dap/parse_fail.py", dir)
	db := filepath.Join(dir, "rec.db")
	r := testutil.Cmd{Dir: dir}.Pyreplay(t, "record", "--trace", "--python", testutil.PythonFor(t, "3.11"), "--db", db, filepath.Base(prog))
	// (the first line's anchor, periodic ones if the run lasts, the exception)
	_, rest, ok := strings.Cut(r.Stderr, "recorded ")
	_, rest, _ = strings.Cut(rest, "..snap-")
	last, err := strconv.ParseInt(strings.Fields(rest + " x")[0], 10, 64)
	if r.Code != 1 || !ok || err != nil {
		t.Fatalf("record --trace: %+v", r)
	}
	eng := session.NewEngine()
	t.Cleanup(eng.Close)
	if err := eng.OpenRecording(db, session.OpenOptions{Snap: last, AllRuns: true, LineHistory: true}); err != nil {
		t.Fatal(err)
	}
	m, err := tui.New(eng, tui.Options{Renderer: plainRenderer()})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	tm.Send(keys("b")[0])
	waitScreen(t, tm, "line 12 of parse", "r: str = 'c=x '")
	tm.Send(keys("b")[0])
	waitScreen(t, tm, "line 11 of parse", "r: str = ' b=2'")
	// a breakpoint in clean(), which had returned: R reaches its hits
	// backwards (the loop header at line 11 still holds the previous
	// row), c forwards, up to the exception
	for _, k := range keys("B", "5", "enter") {
		tm.Send(k)
	}
	waitScreen(t, tm, "breakpoint at parse_fail.py:5")
	tm.Send(keys("R")[0])
	waitScreen(t, tm, "line 5 of clean", "r: str = ' b=2'")
	tm.Send(keys("R")[0])
	waitScreen(t, tm, "line 5 of clean", "r: str = 'a=1'")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "line 5 of clean", "r: str = ' b=2'")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "line 5 of clean", "r: str = 'c=x '")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "ValueError")
	// where out's value came from (H on it in the variables pane), and
	// there: the line that gave it its second value
	for _, k := range keys("4", "down", "down", "H") {
		tm.Send(k)
	}
	waitScreen(t, tm, "History of out", "[3] [('a', 1), ('b', 2)]  (from line 13)")
	for _, k := range keys("up", "enter") {
		tm.Send(k)
	}
	waitScreen(t, tm, "line 13 gave out the value [('a', 1)]")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
}
