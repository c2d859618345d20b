package tui_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/tui"
)

// fakeLive plays the shop fixture as a live program: each run command
// "stops" at the fixture's next snapshot; past the last one it exits.
type fakeLive struct {
	mu    sync.Mutex
	f     *fixture
	store *recording.Store
	next  int // fixture index of the next stop
	stop  int64
	runs  []string
	code  int
	done  bool
}

func (l *fakeLive) Run(cmd string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, cmd)
	if l.next >= len(l.f.Snapshots) {
		l.done, l.stop = true, 0
		return nil
	}
	if err := insertSnapshot(l.store.DB, l.f, l.next); err != nil {
		return err
	}
	l.stop = l.f.Snapshots[l.next].ID
	l.next++
	return nil
}

func (l *fakeLive) Status() tui.LiveStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tui.LiveStatus{Exited: l.done, ExitCode: l.code, Stop: l.stop}
}

func (l *fakeLive) Output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Repeat("total 10\n", l.next/4)
}

func (l *fakeLive) Close() error { return nil }

func (l *fakeLive) Pause() error { return nil }

func (l *fakeLive) commands() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.runs...)
}

// newLive starts with the fixture's first k stops recorded.
func newLive(t *testing.T, k int) (*tui.Model, *fakeLive) {
	t.Helper()
	f := loadFixture(t)
	all := f.Snapshots
	f.Snapshots = all[:k]
	path := writeRecording(t, f)
	f.Snapshots = all
	rep, err := session.OpenReplay(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	live := &fakeLive{f: f, store: rep.Store, next: k, stop: f.Snapshots[k-1].ID}
	m, err := tui.New(rep, tui.Options{Renderer: plainRenderer(), DBPath: path, Live: live, Start: f.Snapshots[k-1].ID})
	if err != nil {
		t.Fatal(err)
	}
	return m, live
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func TestLive(t *testing.T) {
	m, live := newLive(t, 2)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm, "‖ paused")

	// step over: the program runs and stops at the next snapshot
	tm.Send(keys("o")[0])
	waitScreen(t, tm, "snap-3 (3/3)")
	// step back: history, no run
	tm.Send(keys("b")[0])
	waitScreen(t, tm, "◀ past")
	// continue in the past moves forward through history to the present
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "back at the present stop")
	// continue, step in, step out run the program
	for i, k := range []string{"c", "i", "u"} {
		tm.Send(keys(k)[0])
		waitScreen(t, tm, []string{"snap-4 (4/4)", "snap-5 (5/5)", "snap-6 (6/6)"}[i])
	}
	tm.Send(keys("O")[0])
	waitScreen(t, tm, "Output (O shows the source)")
	// run to the end
	for n := 7; n <= 10; n++ {
		tm.Send(keys("c")[0])
		waitScreen(t, tm, fmt.Sprintf("snap-%d (%d/%d)", n, n, n))
	}
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "exited with code 0")
	tm.Send(keys("c")[0])
	waitScreen(t, tm, "the program has exited with code 0; r resumes")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	v := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "exited 0") || !strings.Contains(v, "snap-10 (10/10)") || !strings.Contains(v, "total 10") {
		t.Errorf("after the end:\n%s", v)
	}
	want := "next continue stepIn stepOut continue continue continue continue continue"
	if got := strings.Join(live.commands(), " "); got != want {
		t.Errorf("the program ran %q, want %q", got, want)
	}
}
