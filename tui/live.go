package tui

// Live mode: the step keys become the engine's run commands (in the past
// they move through history by the engine's rule; at the live stop they run
// the program), and the engine's events end a run.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/pyreplay/pyreplay/session"
)

// engineMsg carries one of the engine's events (ok false: no more).
type engineMsg struct {
	ev any
	ok bool
}

// listen waits for the engine's next event.
func (m *Model) listen() tea.Cmd {
	ch := m.eng.Events()
	return func() tea.Msg {
		ev, ok := <-ch
		return engineMsg{ev: ev, ok: ok}
	}
}

// engineEvent ends a run once the program has stopped or ended; other
// events change nothing the engine's state does not already show.
func (m *Model) engineEvent(msg engineMsg) tea.Cmd {
	if m.running && !m.resuming && !m.eng.State().Running {
		m.liveDone()
	}
	if !msg.ok {
		return nil
	}
	return m.listen()
}

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
		if err := m.eng.Pause(); err != nil {
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
	if st := m.eng.State(); !m.running && st.Exited && m.atPresent() {
		m.setMsg(fmt.Sprintf("the program has exited with code %d; r resumes it from a snapshot", st.ExitCode), false)
		return nil, true
	}
	m.outBefore = len(m.eng.Output())
	m.historyMove(cmd, func() error {
		if cmd == "continue" {
			return m.eng.Continue()
		}
		return m.eng.Step(cmd)
	})
	return nil, true
}

// present is the index of the live program's current stop in the list
// (the last stop once it no longer runs).
func (m *Model) present() int {
	if p := m.eng.State().Present; p >= 0 && p < len(m.list) {
		return p
	}
	return len(m.list) - 1
}

func (m *Model) atPresent() bool { return len(m.list) == 0 || m.cur >= m.present() }

// historyMove moves the cursor with move (the engine's Continue, Step,
// ReverseContinue) and shows where it landed: through history, or (live,
// at the present) by running the program.
func (m *Model) historyMove(what string, move func() error) {
	if m.running {
		m.setMsg("the program is running; wait for it to stop (q quits and ends it)", false)
		return
	}
	runs := m.eng.State().Runs
	before := m.eng.State().Cursor
	if err := move(); err != nil {
		m.setMsg(fmt.Sprintf("%s: %v", what, err), true)
		return
	}
	if m.eng.State().Runs != runs {
		m.running = true // the program runs: its stop or end arrives as an event
		return
	}
	m.sync()
	m.seek(m.eng.State().Cursor)
	switch {
	case m.eng.State().Cursor == before && strings.HasSuffix(what, "continue"):
		m.setMsg(what+": no breakpoint hit that way", false)
	case m.eng.State().Cursor == before:
		m.setMsg(what+": this is as far as the history goes", false)
	case m.live && m.atPresent():
		m.setMsg("back at the present stop", false)
	default:
		m.setMsg(fmt.Sprintf("in the past (%s)", m.list[m.cur].ID), false)
	}
}

// toggleBreakpoint sets a breakpoint at spec (LINE of the shown file, or
// FILE:LINE), or clears the one there.
func (m *Model) toggleBreakpoint(spec string) {
	spec = strings.TrimSpace(spec)
	file, lineText := "", spec
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		file, lineText = spec[:i], spec[i+1:]
	}
	line, err := strconv.Atoi(lineText)
	if err != nil || line <= 0 {
		m.setMsg(fmt.Sprintf("breakpoint %q: give LINE or FILE:LINE", spec), true)
		return
	}
	if file == "" {
		if m.snap == nil || m.frame < 0 || m.frame >= len(m.snap.Frames) {
			m.setMsg("no file is shown: give FILE:LINE", true)
			return
		}
		file = m.snap.Frames[m.frame].File
	} else if !filepath.IsAbs(file) && m.snap != nil {
		// a name relative to the shown file's directory, or a base name
		for _, f := range m.snap.Frames {
			if filepath.Base(f.File) == filepath.Base(file) {
				file = f.File
				break
			}
		}
	}
	set := m.eng.LineBreakpoints(file)
	var keep []session.LineBreakpoint
	cleared := false
	for _, b := range set {
		if b.Line == line {
			cleared = true
			continue
		}
		keep = append(keep, b)
	}
	if !cleared {
		keep = append(keep, session.LineBreakpoint{Line: line})
	}
	res := m.eng.SetLineBreakpoints(file, keep)
	m.computeBreakpoints()
	switch {
	case cleared:
		m.setMsg(fmt.Sprintf("breakpoint at %s:%d cleared", filepath.Base(file), line), false)
	case len(res) > 0 && !res[len(res)-1].Verified:
		m.setMsg(res[len(res)-1].Message, true)
	default:
		m.setMsg(fmt.Sprintf("breakpoint at %s:%d (R goes back to its latest hit, c forward)", filepath.Base(file), res[len(res)-1].Line), false)
	}
}

func (m *Model) historyBack() {
	if m.eng.LineHistory() {
		ok, err := m.eng.StepBackLine()
		if err != nil {
			m.setMsg(err.Error(), true)
			return
		}
		if ok {
			m.sync()
			m.seek(m.eng.State().Cursor)
			m.setMsg(fmt.Sprintf("in the past: %s; o steps forward through history to the present", m.list[m.cur].ID), false)
			return
		}
	}
	if len(m.list) == 0 || m.cur == 0 {
		m.setMsg("this is the first stop", false)
		return
	}
	m.seek(m.cur - 1)
	m.setMsg(fmt.Sprintf("in the past (%s); c/o/i/u step forward through history to the present", m.list[m.cur].ID), false)
}

func (m *Model) liveDone() {
	m.running = false
	m.sync()
	if len(m.list) > 0 {
		m.refilterKeep()
		m.seek(m.present())
	}
	st := m.eng.State()
	note := ""
	if !st.Exited && m.cur < len(m.list) {
		if hist := m.eng.History(); m.cur < len(hist) && hist[m.cur].Exception != nil {
			e := hist[m.cur].Exception
			note = strings.TrimSpace(e.Type + ": " + e.Message)
		}
	}
	printed := ""
	if out := m.eng.Output(); len(out) > m.outBefore && !m.showOutput {
		n := strings.Count(out[m.outBefore:], "\n")
		printed = fmt.Sprintf("; it printed %d line(s) (O shows them)", max(1, n))
	}
	switch {
	case st.Exited:
		m.setMsg(fmt.Sprintf("the program exited with code %d%s", st.ExitCode, printed), st.ExitCode != 0)
	case note != "":
		m.setMsg(note+printed, false)
	case printed != "":
		m.setMsg("stopped"+printed, false)
	case m.runNote != "":
		m.setMsg(m.runNote, false)
	}
	m.runNote = ""
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
	if !m.live {
		return ""
	}
	st := m.eng.State()
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
	text := strings.TrimRight(m.eng.Output(), "\n")
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
