// Package tui is pyreplay's terminal front end: a bubbletea program over the
// session engine (session.Engine) that browses its history (timeline,
// source, call stack, variables, diffs), resumes from a snapshot, and
// drives a live program. It translates keys into engine calls and the
// engine's state into views; it starts no process of its own.
package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/wire"
)

// Options configure a Model.
type Options struct {
	// Start is the snapshot number to open at; 0 opens at the engine's
	// cursor.
	Start int64
	// Renderer renders the styles; nil uses lipgloss's default renderer
	// (which follows the terminal and NO_COLOR).
	Renderer *lipgloss.Renderer
	// Location formats snapshot times (default time.Local).
	Location *time.Location
	// PageSize is how many children of a value are shown per page (default 20).
	PageSize int
}

type pane int

const (
	paneTimeline pane = iota
	paneStack
	paneSource
	paneVars
	numPanes
)

func (p pane) String() string {
	return [...]string{"Timeline", "Call stack", "Source", "Variables"}[p]
}

type inputMode int

const (
	inputNone inputMode = iota
	inputFilter
	inputJump
	inputBreakpoint
)

// Model is the TUI's bubbletea model.
type Model struct {
	eng  *session.Engine
	opts Options
	keys keyMap
	st   styles

	width, height int

	list    []wire.Summary
	visible []int // indexes into list that pass the filter
	filter  string
	cur     int // index into list
	snap    *wire.Snapshot
	snapErr error

	frame    int // index into snap.Frames
	stackPos int // position of frame in the innermost-first stack

	focus pane

	tree      treeState
	rows      []varRow
	varCursor int
	varTop    int

	srcTop    int // first source line shown (1-based), 0 = follow
	srcLeft   int // columns of source scrolled off to the left
	stackTop  int
	tlTop     int
	diffOn    bool
	diffTop   int
	mark      int64 // snapshot number marked as diff base, 0 = none
	diffLines []diffLine
	diffTitle string

	help    bool
	helpTop int

	mode  inputMode
	input []rune

	msg    string
	msgErr bool

	runStart map[int64]float64
	bps      map[string]map[int]bool

	resuming bool
	quitting bool

	// live mode: the engine drives (or drove) a live program
	live       bool
	running    bool
	runNote    string // said when the run ends, if nothing else is
	showOutput bool
	hist       *valueHistory // the value history pane, while open (history.go)
	outTop     int
	outBefore  int
}

// New builds the model over an engine opened on a recording or a live
// program. It fails, before any terminal is touched, on an empty recording
// or an unknown start snapshot.
func New(eng *session.Engine, opts Options) (*Model, error) {
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 20
	}
	m := &Model{
		eng:      eng,
		opts:     opts,
		keys:     newKeyMap(),
		st:       newStyles(opts.Renderer),
		width:    80,
		height:   24,
		tree:     newTreeState(),
		runStart: map[int64]float64{},
	}
	st := eng.State()
	m.live = st.Live || st.Exited
	m.running = st.Running
	if !m.live {
		// as a live session's (cmd/pyreplay/tui.go): continue through a
		// replay also stops at the uncaught exception
		_ = eng.SetExceptionFilters([]string{"uncaught"})
	}
	m.sync()
	if len(m.list) == 0 && !m.live {
		return nil, fmt.Errorf("%w in %s; record one with `pyreplay record -b FILE:LINE PROG.py`", session.ErrEmpty, eng.Path())
	}
	if len(m.list) == 0 {
		return m, nil
	}
	start := st.Cursor
	if opts.Start > 0 {
		if start = eng.IndexOf(opts.Start); start < 0 {
			return nil, fmt.Errorf("%s: %w in %s (`pyreplay ls` lists them)", recording.SnapID(opts.Start), recording.ErrNoSnapshot, eng.Path())
		}
	}
	m.seek(start)
	return m, nil
}

// Init implements tea.Model: a live program's events are followed.
func (m *Model) Init() tea.Cmd {
	if m.live {
		return m.listen()
	}
	return nil
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.clampScroll()
		return m, nil
	case resumeDoneMsg:
		return m, m.resumeDone(msg)
	case engineMsg:
		return m, m.engineEvent(msg)
	case liveResumedMsg:
		return m, m.liveResumed(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		m.quitting = true
		return tea.Quit
	}
	if msg.Alt && msg.Type == tea.KeyRunes {
		// Esc followed at once by a key reads as alt+key: it is Esc, then the key
		esc := m.key(tea.KeyMsg{Type: tea.KeyEsc})
		msg.Alt = false
		return tea.Sequence(esc, m.key(msg))
	}
	if m.mode != inputNone {
		return m.inputKey(msg)
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		return m.typeahead(msg)
	}
	m.msg, m.msgErr = "", false
	if m.help {
		switch {
		case key.Matches(msg, m.keys.Quit):
			m.quitting = true
			return tea.Quit
		case key.Matches(msg, m.keys.Down):
			m.helpTop++
		case key.Matches(msg, m.keys.Up):
			if m.helpTop > 0 {
				m.helpTop--
			}
		default:
			m.help = false
		}
		return nil
	}
	if m.live {
		if cmd, ok := m.liveKey(msg); ok {
			return cmd
		}
	}
	k := m.keys
	if m.hist != nil && !key.Matches(msg, k.History) && m.historyKey(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return tea.Quit
	case key.Matches(msg, k.History):
		m.toggleHistory()
	case key.Matches(msg, k.Help):
		m.help, m.helpTop = true, 0
	case key.Matches(msg, k.Next):
		m.step(+1)
	case key.Matches(msg, k.Prev):
		m.step(-1)
	case key.Matches(msg, k.StepBack) && !m.live && m.eng.LineHistory():
		m.historyBack() // by line, from the recording (--line-history)
	case key.Matches(msg, k.Continue) && !m.live:
		m.historyMove("continue", m.eng.Continue)
	case key.Matches(msg, k.ReverseContinue):
		m.historyMove("reverse continue", m.eng.ReverseContinue)
	case key.Matches(msg, k.Breakpoint):
		m.mode, m.input = inputBreakpoint, nil
	case key.Matches(msg, k.First):
		if len(m.visible) > 0 {
			m.seek(m.visible[0])
		}
	case key.Matches(msg, k.Last):
		if len(m.visible) > 0 {
			m.seek(m.visible[len(m.visible)-1])
		}
	case key.Matches(msg, k.Jump):
		m.mode, m.input = inputJump, nil
	case key.Matches(msg, k.Filter):
		m.mode, m.input = inputFilter, []rune(m.filter)
	case key.Matches(msg, k.Tab):
		m.focus = (m.focus + 1) % numPanes
	case key.Matches(msg, k.BackTab):
		m.focus = (m.focus + numPanes - 1) % numPanes
	case msg.String() >= "1" && msg.String() <= "4":
		m.focus = pane(msg.String()[0] - '1')
	case key.Matches(msg, k.Diff):
		m.toggleDiff()
	case key.Matches(msg, k.Mark):
		m.toggleMark()
	case key.Matches(msg, k.Resume):
		return m.resume()
	default:
		m.paneKey(msg)
	}
	return nil
}

// typeahead handles several keys that arrived in one read (fast typing,
// a slow link, tmux send-keys) one by one; once one of them opens a
// prompt, the rest is typed into it.
func (m *Model) typeahead(msg tea.KeyMsg) tea.Cmd {
	var cmds []tea.Cmd
	for i, r := range msg.Runes {
		if m.mode != inputNone {
			cmds = append(cmds, m.inputKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes[i:]}))
			break
		}
		cmd := m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
		if cmd != nil {
			cmds = append(cmds, cmd)
		}
		if m.quitting {
			return tea.Quit
		}
	}
	return tea.Sequence(cmds...)
}

// paneKey handles movement keys in the focused pane.
func (m *Model) paneKey(msg tea.KeyMsg) {
	k := m.keys
	delta := 0
	switch {
	case key.Matches(msg, k.Up):
		delta = -1
	case key.Matches(msg, k.Down):
		delta = +1
	case key.Matches(msg, k.PageUp):
		delta = -m.paneRows()
	case key.Matches(msg, k.PageDown):
		delta = +m.paneRows()
	}
	switch m.focus {
	case paneTimeline:
		if delta != 0 {
			m.step(delta)
		}
	case paneStack:
		if delta != 0 && m.snap != nil {
			m.selectStack(m.stackPos + delta)
		}
	case paneSource:
		if m.live && m.showOutput {
			if delta != 0 {
				_, topH := m.rowsSplit()
				n := strings.Count(strings.TrimRight(m.eng.Output(), "\n"), "\n") + 1
				top := m.outTop
				if top < 0 {
					top = max(0, n-(topH-1))
				}
				m.outTop = max(0, top+delta)
			}
			return
		}
		switch {
		case delta != 0:
			top := m.srcTop
			if top == 0 {
				top = m.sourceFollowTop()
			}
			m.srcTop = max(1, top+delta)
		case key.Matches(msg, k.Expand):
			m.srcLeft += 8
		case key.Matches(msg, k.Collapse):
			m.srcLeft = max(0, m.srcLeft-8)
		case key.Matches(msg, k.Toggle):
			m.srcTop, m.srcLeft = 0, 0 // back to the current line
		}
	case paneVars:
		if m.diffOn {
			m.diffTop = max(0, min(m.diffTop+delta, len(m.diffLines)-1))
			return
		}
		switch {
		case delta != 0:
			m.varCursor = max(0, min(m.varCursor+delta, len(m.rows)-1))
		case key.Matches(msg, k.Expand):
			m.expand(true)
		case key.Matches(msg, k.Collapse):
			m.expand(false)
		case key.Matches(msg, k.Toggle):
			m.toggle()
		}
		m.clampScroll()
	}
}

// step moves to the next/previous visible snapshot.
func (m *Model) step(dir int) {
	if len(m.visible) == 0 {
		m.setMsg("no snapshot matches the filter", true)
		return
	}
	pos := m.visiblePos()
	if pos < 0 {
		// the current snapshot is filtered out: go to the nearest match
		for i, idx := range m.visible {
			if (dir > 0 && idx > m.cur) || (dir < 0 && idx < m.cur) {
				pos = i
				if dir > 0 {
					break
				}
			}
		}
		if pos >= 0 {
			m.seek(m.visible[pos])
		}
		return
	}
	np := pos + dir
	switch {
	case np < 0:
		np = 0
		if dir == -1 {
			m.setMsg("this is the first snapshot", false)
		}
	case np >= len(m.visible):
		np = len(m.visible) - 1
		if dir == +1 {
			m.setMsg("this is the last snapshot", false)
		}
	}
	if m.visible[np] != m.cur {
		m.seek(m.visible[np])
	}
}

func (m *Model) visiblePos() int {
	for i, idx := range m.visible {
		if idx == m.cur {
			return i
		}
	}
	return -1
}

// seek loads the snapshot at list index i.
func (m *Model) seek(i int) {
	if i < 0 || i >= len(m.list) {
		return
	}
	m.cur = i
	snap, err := m.eng.Goto(i)
	m.snap, m.snapErr = snap, err
	m.srcTop, m.srcLeft = 0, 0
	if err != nil {
		m.snap = nil
		m.setMsg(err.Error(), true)
		m.rows = nil
		return
	}
	// select the innermost frame of the program's own code
	m.frame = session.TopUserFrame(snap)
	m.stackPos = len(snap.Frames) - 1 - m.frame
	m.rebuild()
	if m.diffOn {
		m.computeDiff()
	}
}

func (m *Model) selectStack(pos int) {
	n := len(m.snap.Frames)
	if n == 0 {
		return
	}
	pos = max(0, min(pos, n-1))
	m.stackPos = pos
	m.frame = n - 1 - pos
	m.srcTop, m.srcLeft = 0, 0
	m.rebuild()
}

func (m *Model) rebuild() {
	m.rows = buildRows(m.snap, m.frame, m.tree, m.opts.PageSize)
	m.clampScroll()
}

func (m *Model) expand(open bool) {
	if m.varCursor >= len(m.rows) {
		return
	}
	r := m.rows[m.varCursor]
	if open {
		if r.expandable && !r.expanded {
			m.tree.open[r.path] = true
			m.rebuild()
			m.reveal()
		} else if r.kind == rowMore {
			m.toggle()
		}
		return
	}
	if r.expandable && r.expanded {
		m.tree.open[r.path] = false
		m.rebuild()
		return
	}
	// go to the parent
	for i := m.varCursor - 1; i >= 0; i-- {
		if m.rows[i].path == r.parent {
			m.varCursor = i
			return
		}
	}
}

func (m *Model) toggle() {
	if m.varCursor >= len(m.rows) {
		return
	}
	r := m.rows[m.varCursor]
	switch {
	case r.kind == rowMore:
		shown := m.tree.pages[r.path]
		if shown <= 0 {
			shown = m.opts.PageSize
		}
		m.tree.pages[r.path] = shown + m.opts.PageSize
		m.rebuild()
	case r.expandable:
		m.tree.open[r.path] = !r.expanded
		m.rebuild()
		if !r.expanded {
			m.reveal()
		}
	}
}

// reveal scrolls the variables so the children just opened under the
// cursor are in view, keeping the cursor row visible.
func (m *Model) reveal() {
	if m.varCursor >= len(m.rows) {
		return
	}
	d := m.rows[m.varCursor].depth
	last := m.varCursor
	for i := m.varCursor + 1; i < len(m.rows) && m.rows[i].depth > d; i++ {
		last = i
	}
	_, bot := m.rowsSplit()
	h := max(1, bot-1)
	if last >= m.varTop+h {
		m.varTop = min(m.varCursor, last-h+1)
	}
	m.clampScroll()
}

// refilter recomputes the visible timeline rows.
func (m *Model) refilter() {
	m.visible = m.visible[:0]
	f := strings.ToLower(strings.TrimSpace(m.filter))
	for i, s := range m.list {
		if f == "" || matches(s, f) {
			m.visible = append(m.visible, i)
		}
	}
}

func matches(s wire.Summary, f string) bool {
	base := filepath.Base(s.File)
	hay := strings.ToLower(strings.Join([]string{
		s.ID, s.Reason, s.Label, s.Function, s.File, fmt.Sprintf("%s:%d", base, s.Line),
	}, "\x00"))
	for _, word := range strings.Fields(f) {
		if !strings.Contains(hay, word) {
			return false
		}
	}
	return true
}

func (m *Model) inputKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		if m.mode == inputFilter {
			m.filter = ""
			m.refilter()
		}
		m.mode = inputNone
		return nil
	case tea.KeyEnter:
		mode := m.mode
		m.mode = inputNone
		if mode == inputJump {
			m.jump(string(m.input))
		} else if mode == inputBreakpoint {
			m.toggleBreakpoint(string(m.input))
		} else {
			m.applyFilter(string(m.input), true)
		}
		return nil
	case tea.KeyBackspace:
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case tea.KeyCtrlU:
		m.input = nil
	case tea.KeyRunes, tea.KeySpace:
		m.input = append(m.input, msg.Runes...)
	}
	if m.mode == inputFilter {
		m.applyFilter(string(m.input), false)
	}
	return nil
}

func (m *Model) applyFilter(f string, final bool) {
	m.filter = f
	m.refilter()
	m.tlTop = 0
	if len(m.visible) == 0 {
		if final {
			m.setMsg(fmt.Sprintf("no snapshot matches %q (/ then esc clears the filter)", f), true)
		}
		return
	}
	if m.visiblePos() < 0 {
		m.seek(m.visible[0])
	}
}

func (m *Model) jump(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	n, err := recording.ParseSnapID(text)
	if err != nil {
		m.setMsg(err.Error(), true)
		return
	}
	for i, s := range m.list {
		if s.N == n {
			in := false
			for _, v := range m.visible {
				if v == i {
					in = true
				}
			}
			if !in {
				m.filter = ""
				m.refilter()
				m.setMsg("filter cleared to show "+s.ID, false)
			}
			m.seek(i)
			return
		}
	}
	m.setMsg(fmt.Sprintf("%s: no such snapshot in this recording (%s … %s)", recording.SnapID(n), m.list[0].ID, m.list[len(m.list)-1].ID), true)
}

func (m *Model) toggleMark() {
	if m.snap == nil {
		return
	}
	if m.mark == m.snap.N {
		m.mark = 0
		m.setMsg("mark cleared: diffs compare with the previous snapshot", false)
	} else {
		m.mark = m.snap.N
		m.setMsg(m.snap.ID+" marked: diffs now compare with it", false)
	}
	if m.diffOn {
		m.computeDiff()
	}
}

func (m *Model) setMsg(s string, isErr bool) { m.msg, m.msgErr = s, isErr }

// computeBreakpoints collects the lines to mark with ●: the engine's line
// breakpoints and where the history stopped at a breakpoint or on entering
// a function (also by base name: a recording made elsewhere).
func (m *Model) computeBreakpoints() {
	m.bps = m.eng.LineMarks()
	for file, lines := range m.bps {
		base := "base:" + filepath.Base(file)
		if m.bps[base] == nil {
			m.bps[base] = map[int]bool{}
		}
		for l := range lines {
			m.bps[base][l] = true
		}
	}
}

func (m *Model) isBreakpoint(file string, line int) bool {
	return m.bps[file][line] || m.bps["base:"+filepath.Base(file)][line]
}

func (m *Model) runStartOf(run int64) (float64, bool) {
	if t, ok := m.runStart[run]; ok {
		return t, t != 0
	}
	r, err := m.eng.RunInfo(run)
	if err != nil {
		m.runStart[run] = 0
		return 0, false
	}
	m.runStart[run] = r.Started
	return r.Started, true
}

// sync takes the history from the engine (after a resume or a live step);
// the cursor stays on the same snapshot.
func (m *Model) sync() {
	var curN int64
	if m.cur < len(m.list) {
		curN = m.list[m.cur].N
	}
	hist := m.eng.History()
	m.list = m.list[:0]
	for _, st := range hist {
		m.list = append(m.list, st.Summary)
	}
	m.refilter()
	m.computeBreakpoints()
	for i, s := range m.list {
		if s.N == curN {
			m.cur = i
		}
	}
}

// Err reports why the program could not show anything (for tests).
func (m *Model) Err() error { return m.snapErr }
