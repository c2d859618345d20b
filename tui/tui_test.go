package tui_test

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/tui"
)

func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// newModel opens the shop fixture (optionally changed by mutate).
func newModel(t *testing.T, opts tui.Options, mutate func(*fixture)) *tui.Model {
	t.Helper()
	f := loadFixture(t)
	if mutate != nil {
		mutate(f)
	}
	path := writeRecording(t, f)
	eng := openEngine(t, path)
	if opts.Renderer == nil {
		opts.Renderer = plainRenderer()
	}
	opts.Location = time.UTC
	m, err := tui.New(eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// openEngine opens a recording as pyreplay tui does: every run.
func openEngine(t *testing.T, path string) *session.Engine {
	t.Helper()
	eng := session.NewEngine()
	t.Cleanup(eng.Close)
	if err := eng.OpenRecording(path, session.OpenOptions{AllRuns: true}); err != nil {
		t.Fatal(err)
	}
	return eng
}

// keys turns names ("enter", "down", "ctrl+c") and plain text into key messages.
func keys(ks ...string) []tea.Msg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "backspace": tea.KeyBackspace,
		"ctrl+c": tea.KeyCtrlC, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	var out []tea.Msg
	for _, k := range ks {
		if t, ok := named[k]; ok {
			out = append(out, tea.KeyMsg{Type: t})
			continue
		}
		for _, r := range k {
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return out
}

// drive runs the model in a teatest program at w×h, sends the messages,
// stops the program and returns the final frame.
func drive(t *testing.T, m *tui.Model, w, h int, msgs ...tea.Msg) string {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	for _, msg := range msgs {
		tm.Send(msg)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return fm.View()
}

func checkFrame(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i+1, got, w, l)
		}
	}
}

func goldenFrame(t *testing.T, view string, w, h int) {
	t.Helper()
	checkFrame(t, view, w, h)
	if strings.Contains(view, "\x1b") {
		t.Errorf("plain rendering contains escape sequences")
	}
	golden.RequireEqual(t, []byte(view))
}

func TestMainView(t *testing.T) {
	m := newModel(t, tui.Options{}, nil)
	goldenFrame(t, drive(t, m, 80, 24), 80, 24)
}

func TestNavigation(t *testing.T) {
	t.Run("next", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		goldenFrame(t, drive(t, m, 80, 24, keys("n", "n", "n")...), 80, 24)
	})
	t.Run("last-then-prev", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("G", "p")...)
		goldenFrame(t, v, 80, 24)
	})
	t.Run("jump", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("G", ":", "5", "enter")...)
		if !strings.Contains(v, "snap-5 (5/10)") {
			t.Errorf("jump to 5 did not land on snap-5:\n%s", v)
		}
		v = drive(t, newModel(t, tui.Options{}, nil), 80, 24, keys(":", "snap-99", "enter")...)
		if !strings.Contains(v, "snap-99: no such snapshot") || !strings.Contains(v, "snap-1 (1/10)") {
			t.Errorf("unknown snapshot not reported in the status bar:\n%s", v)
		}
	})
	t.Run("first-and-bounds", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 7}, nil)
		v := drive(t, m, 80, 24, keys("g", "p")...)
		if !strings.Contains(v, "snap-1 (1/10)") || !strings.Contains(v, "this is the first snapshot") {
			t.Errorf("g then p should stay on snap-1 and say so:\n%s", v)
		}
	})
	t.Run("source-scroll", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("3", "right", "right", "up", "up")...)
		if !strings.Contains(v, "Source shop.py:21  Basket.add  (→16)") || !strings.Contains(v, "●▶21 ms.append((name, qty))") {
			t.Errorf("the source did not scroll right:\n%s", v)
		}
		v = drive(t, newModel(t, tui.Options{}, nil), 80, 24, keys("3", "right", "up", "enter")...)
		if !strings.Contains(v, "●▶21         self.items.append") {
			t.Errorf("enter should recentre the source:\n%s", v)
		}
	})
	t.Run("stack", func(t *testing.T) {
		// the caller frame: source and variables follow it
		m := newModel(t, tui.Options{Start: 3}, nil)
		goldenFrame(t, drive(t, m, 80, 24, keys("tab", "down")...), 80, 24)
	})
}

func TestExpansion(t *testing.T) {
	t.Run("object", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 4}, nil)
		// focus the variables, open basket, then basket.items
		v := drive(t, m, 80, 24, keys("4", "down", "down", "right", "down", "down", "enter")...)
		goldenFrame(t, v, 80, 24)
	})
	t.Run("paged", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 1}, nil)
		// collapse the locals, open STOCK (45 items, pages of 20)
		msgs := keys("4", "left", "down", "down", "down", "down", "right")
		v := drive(t, m, 80, 24, msgs...)
		if !strings.Contains(v, "[8]: str = 'item8'") {
			t.Errorf("STOCK did not expand:\n%s", v)
		}
		// walk to the "… show more" row and load two more pages
		m = newModel(t, tui.Options{Start: 1}, nil)
		msgs = append(msgs, keys(strings.Repeat("j", 21), "enter", strings.Repeat("j", 20), "enter")...)
		v = drive(t, m, 80, 24, msgs...)
		goldenFrame(t, v, 80, 24)
		if strings.Contains(v, "shown; enter shows") {
			t.Errorf("all 45 items should be shown after two more pages:\n%s", v)
		}
	})
}

func TestDiff(t *testing.T) {
	t.Run("previous", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 4}, nil)
		goldenFrame(t, drive(t, m, 80, 24, keys("d")...), 80, 24)
	})
	t.Run("marked", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 3}, nil)
		v := drive(t, m, 80, 24, keys("m", "G", "p", "d")...)
		goldenFrame(t, v, 80, 24)
	})
	t.Run("first-has-no-base", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("d")...)
		if !strings.Contains(v, "no earlier snapshot to compare with") {
			t.Errorf("diff on the first snapshot:\n%s", v)
		}
	})
}

func TestFilter(t *testing.T) {
	t.Run("function", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("/", "total", "enter", "n")...)
		goldenFrame(t, v, 80, 24)
	})
	t.Run("typing", func(t *testing.T) {
		// the timeline narrows while typing; the prompt shows the text
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("/", "checkou")...)
		goldenFrame(t, v, 80, 24)
	})
	t.Run("no-match-then-clear", func(t *testing.T) {
		m := newModel(t, tui.Options{}, nil)
		v := drive(t, m, 80, 24, keys("/", "nothing-like-this", "enter")...)
		if !strings.Contains(v, `no snapshot matches "nothing-like-this"`) {
			t.Errorf("no-match message missing:\n%s", v)
		}
		m = newModel(t, tui.Options{}, nil)
		v = drive(t, m, 80, 24, keys("/", "nothing-like-this", "enter", "/", "esc")...)
		if !strings.Contains(v, "Timeline 1/10") {
			t.Errorf("esc should clear the filter:\n%s", v)
		}
	})
}

// TestTypeahead: keys that arrive in one read act one by one.
func TestTypeahead(t *testing.T) {
	m := newModel(t, tui.Options{}, nil)
	v := drive(t, m, 80, 24, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("nn:7")}, tea.KeyMsg{Type: tea.KeyEnter})
	if !strings.Contains(v, "snap-7 (7/10)") {
		t.Errorf("typeahead \"nn:7\" + enter should land on snap-7:\n%s", v)
	}
	// Esc and the next key in one read arrive as alt+key
	m = newModel(t, tui.Options{}, nil)
	v = drive(t, m, 80, 24, append(keys("/", "zzz"), tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G"), Alt: true})...)
	if !strings.Contains(v, "Timeline 10/10") {
		t.Errorf("esc+G should clear the filter, then go to the last snapshot:\n%s", v)
	}
	m = newModel(t, tui.Options{}, nil)
	v = drive(t, m, 80, 24, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d/total")}, tea.KeyMsg{Type: tea.KeyEnter})
	if !strings.Contains(v, "Timeline /total  6 of 10 match") || !strings.Contains(v, "Diff snap-3") {
		t.Errorf("typeahead \"d/total\":\n%s", v)
	}
}

func TestHelp(t *testing.T) {
	m := newModel(t, tui.Options{}, nil)
	goldenFrame(t, drive(t, m, 80, 24, keys("?")...), 80, 24)
	m = newModel(t, tui.Options{}, nil)
	v := drive(t, m, 80, 24, keys("?", "x")...)
	if !strings.Contains(v, "Timeline 1/10") {
		t.Errorf("any key should close the help:\n%s", v)
	}
}

func TestResize(t *testing.T) {
	m := newModel(t, tui.Options{Start: 4}, nil)
	for _, size := range [][2]int{{120, 40}, {40, 10}, {30, 8}, {200, 60}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		view := m.View()
		checkFrame(t, view, size[0], size[1])
		if size[0] == 30 && !strings.Contains(view, "too small") {
			t.Errorf("30x8 should say the terminal is too small:\n%s", view)
		}
		if size[0] == 120 && !strings.Contains(view, "+0.500s") {
			t.Errorf("a wide timeline shows times relative to the run's start:\n%s", view)
		}
	}
	goldenFrame(t, m.View(), 80, 24)
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m := newModel(t, tui.Options{}, nil)
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
		for _, msg := range keys(k) {
			tm.Send(msg)
		}
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		if v := tm.FinalModel(t).View(); v != "" {
			t.Errorf("%s: the final frame should be empty so the terminal is left clean, got %q", k, v)
		}
	}
}

func TestColor(t *testing.T) {
	colored := lipgloss.NewRenderer(io.Discard)
	colored.SetColorProfile(termenv.ANSI256)
	m := newModel(t, tui.Options{Renderer: colored}, nil)
	v := m.View()
	if !strings.Contains(v, "\x1b[") {
		t.Errorf("a colour terminal gets no colour")
	}
	checkFrame(t, v, 80, 24)
	// NO_COLOR: the command picks the Ascii profile; the markers still say
	// which line is current and where the breakpoints are.
	plain := newModel(t, tui.Options{}, nil).View()
	if strings.Contains(plain, "\x1b") || !strings.Contains(plain, "●▶21") {
		t.Errorf("plain rendering lacks markers or has escapes:\n%s", plain)
	}
}

func TestBadInput(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.db")
		st, err := recording.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		eng := session.NewEngine()
		defer eng.Close()
		err = eng.OpenRecording(path, session.OpenOptions{AllRuns: true})
		if !errors.Is(err, session.ErrEmpty) || !strings.Contains(err.Error(), "pyreplay record") {
			t.Errorf("empty recording: %v", err)
		}
	})
	t.Run("unknown-snapshot", func(t *testing.T) {
		path := writeRecording(t, loadFixture(t))
		_, err := tui.New(openEngine(t, path), tui.Options{Start: 42, Renderer: plainRenderer()})
		if !errors.Is(err, recording.ErrNoSnapshot) || !strings.Contains(err.Error(), "snap-42") {
			t.Errorf("unknown snapshot: %v", err)
		}
	})
	t.Run("missing-source", func(t *testing.T) {
		m := newModel(t, tui.Options{Start: 3}, func(f *fixture) { f.Sources = nil })
		goldenFrame(t, drive(t, m, 80, 24), 80, 24)
	})
	t.Run("damaged-snapshot", func(t *testing.T) {
		m := newModel(t, tui.Options{}, func(f *fixture) { f.Snapshots[1].Frames = []byte("{not json") })
		v := drive(t, m, 80, 24, keys("n")...)
		checkFrame(t, v, 80, 24)
		if !strings.Contains(v, "damaged frame data") {
			t.Errorf("a damaged snapshot should be reported in the UI:\n%s", v)
		}
		v = drive(t, newModel(t, tui.Options{}, func(f *fixture) { f.Snapshots[1].Frames = []byte("{not json") }), 80, 24, keys("n", "n")...)
		if !strings.Contains(v, "snap-3 (3/10)") {
			t.Errorf("moving past a damaged snapshot should work:\n%s", v)
		}
	})
}

// TestResume: the engine plans the resume before the UI lets go of the
// terminal; a snapshot it cannot resume (the fixture keeps no state) is
// reported in the status bar, and nothing runs.
func TestResume(t *testing.T) {
	m := newModel(t, tui.Options{Start: 4}, nil)
	v := drive(t, m, 80, 24, keys("r")...)
	if !strings.Contains(v, "resume from snap-4 failed") || !strings.Contains(v, "snap-4 (4/10)") {
		t.Errorf("an unresumable snapshot should be reported in the UI:\n%s", v)
	}
}
