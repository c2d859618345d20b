package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/pyreplay/pyreplay/recording"
)

// Live is a running program the TUI drives in live mode. Every stop of the
// program is a snapshot in the recording the TUI shows.
type Live interface {
	// Run continues the program: "continue", "next", "stepIn" or "stepOut".
	// It blocks until the program stops again or ends.
	Run(cmd string) error
	// Status says whether the program still runs and how it ended.
	Status() LiveStatus
	// Output returns what the program has written so far (stdout and
	// stderr interleaved), which the TUI shows instead of letting it
	// scribble over the screen.
	Output() string
	// Pause asks the running program to stop at its next line.
	Pause() error
	// Close ends the program (if it still runs) and releases it.
	Close() error
}

// LiveStatus is the state of a live program.
type LiveStatus struct {
	Exited   bool
	ExitCode int
	// Stop is the snapshot of the current stop (0 when not stopped).
	Stop int64
	// Note says more about the stop (an exception's message).
	Note string
}

type liveDoneMsg struct {
	cmd string
	err error
}

var liveCommands = map[string]string{"c": "continue", "o": "next", "i": "stepIn", "u": "stepOut"}

// liveKey handles the live-mode keys; ok is false for keys it does not own.
func (m *Model) liveKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	var cmd string
	switch {
	case key.Matches(msg, k.Continue):
		cmd = "continue"
	case key.Matches(msg, k.StepOver):
		cmd = "next"
	case key.Matches(msg, k.StepIn):
		cmd = "stepIn"
	case key.Matches(msg, k.StepOut):
		cmd = "stepOut"
	case key.Matches(msg, k.StepBack):
		m.historyBack()
		return nil, true
	case key.Matches(msg, k.Pause):
		if !m.running {
			m.setMsg("the program is not running", false)
			return nil, true
		}
		if err := m.opts.Live.Pause(); err != nil {
			m.setMsg("pause: "+err.Error(), true)
		} else {
			m.setMsg("pausing…", false)
		}
		return nil, true
	case key.Matches(msg, k.Output):
		m.showOutput = !m.showOutput
		m.outTop = -1
		return nil, true
	default:
		return nil, false
	}
	m.msg, m.msgErr = "", false
	if m.running {
		m.setMsg("the program is running; wait for it to stop (q quits and ends it)", false)
		return nil, true
	}
	// In the past, forward steps move through history until the present.
	if !m.atPresent() {
		m.historyForward(cmd)
		return nil, true
	}
	st := m.opts.Live.Status()
	if st.Exited {
		m.setMsg(fmt.Sprintf("the program has exited with code %d; r resumes it from a snapshot", st.ExitCode), false)
		return nil, true
	}
	m.running = true
	m.outBefore = len(m.opts.Live.Output())
	live := m.opts.Live
	return func() tea.Msg { return liveDoneMsg{cmd: cmd, err: live.Run(cmd)} }, true
}

// present is the index of the live program's current stop in the list.
func (m *Model) present() int {
	st := m.opts.Live.Status()
	if st.Stop != 0 {
		for i, s := range m.list {
			if s.N == st.Stop {
				return i
			}
		}
	}
	return len(m.list) - 1
}

func (m *Model) atPresent() bool { return len(m.list) == 0 || m.cur >= m.present() }

func (m *Model) historyBack() {
	if len(m.list) == 0 || m.cur == 0 {
		m.setMsg("this is the first stop", false)
		return
	}
	m.seek(m.cur - 1)
	m.setMsg(fmt.Sprintf("in the past (%s); c/o/i/u step forward through history to the present", m.list[m.cur].ID), false)
}

func (m *Model) historyForward(cmd string) {
	target := m.cur + 1
	if cmd == "continue" {
		target = m.present()
		for i := m.cur + 1; i < m.present(); i++ {
			if r := m.list[i].Reason; r == "breakpoint" || r == "function" || r == "exception" {
				target = i
				break
			}
		}
	}
	m.seek(target)
	if m.atPresent() {
		m.setMsg("back at the present stop", false)
	} else {
		m.setMsg(fmt.Sprintf("in the past (%s)", m.list[m.cur].ID), false)
	}
}

func (m *Model) liveDone(msg liveDoneMsg) tea.Cmd {
	m.running = false
	if err := m.reload(); err != nil {
		m.setMsg(err.Error(), true)
		return nil
	}
	if len(m.list) > 0 {
		m.refilterKeep()
		m.seek(m.present())
	}
	st := m.opts.Live.Status()
	printed := ""
	if out := m.opts.Live.Output(); len(out) > m.outBefore && !m.showOutput {
		n := strings.Count(out[m.outBefore:], "\n")
		printed = fmt.Sprintf("; it printed %d line(s) (O shows them)", max(1, n))
	}
	switch {
	case msg.err != nil:
		m.setMsg(fmt.Sprintf("%s: %v", msg.cmd, msg.err), true)
	case st.Exited:
		m.setMsg(fmt.Sprintf("the program exited with code %d%s", st.ExitCode, printed), st.ExitCode != 0)
	case st.Note != "":
		m.setMsg(st.Note+printed, false)
	case printed != "":
		m.setMsg("stopped"+printed, false)
	}
	return nil
}

// refilterKeep clears a filter that would hide the new stop.
func (m *Model) refilterKeep() {
	if m.filter == "" {
		return
	}
	p := m.present()
	for _, v := range m.visible {
		if v == p {
			return
		}
	}
	m.filter = ""
	m.refilter()
}

func (m *Model) liveState() string {
	if m.opts.Live == nil {
		return ""
	}
	st := m.opts.Live.Status()
	switch {
	case m.running:
		return "● running"
	case st.Exited:
		return fmt.Sprintf("exited %d", st.ExitCode)
	case !m.atPresent():
		return "◀ past"
	}
	return "‖ paused"
}

// outputView shows the live program's output in place of the source.
func (m *Model) outputView(w, h int) []string {
	text := strings.TrimRight(m.opts.Live.Output(), "\n")
	var lines []string
	if text == "" {
		lines = []string{m.st.dim.Render(fit(" (no output yet)", w))}
		return padLines(lines, h, w)
	}
	all := strings.Split(text, "\n")
	top := m.outTop
	if top < 0 || top > len(all)-h {
		top = max(0, len(all)-h) // follow the end
	}
	for _, l := range all[top:min(len(all), top+h)] {
		lines = append(lines, fit(strings.TrimRight(l, "\r"), w))
	}
	return padLines(lines, h, w)
}

var _ = recording.SnapID
