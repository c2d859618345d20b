package tui

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/wire"
)

const (
	minWidth  = 40
	minHeight = 10
)

// View implements tea.Model. It always renders exactly height lines of
// exactly width cells.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	w, h := m.width, m.height
	if w < minWidth || h < minHeight {
		lines := []string{
			fit("terminal too small", w),
			fit(fmt.Sprintf("%dx%d, needs %dx%d", w, h, minWidth, minHeight), w),
			fit("q quits", w),
		}
		return strings.Join(padLines(lines, h, w), "\n")
	}
	if m.help {
		return strings.Join(m.helpView(w, h), "\n")
	}
	lw, rw := m.columns()
	topH, botH := m.rowsSplit()
	var out []string
	out = append(out, m.headerView(w))
	left := append([]string{m.title(paneTimeline, m.timelineTitle(), lw)}, m.timelineView(lw, topH-1)...)
	var right []string
	if m.hist != nil {
		right = append([]string{m.title(paneSource, m.historyTitle(), rw)}, m.historyView(rw, topH-1)...)
	} else if m.live && m.showOutput {
		right = append([]string{m.title(paneSource, "Output (O shows the source)", rw)}, m.outputView(rw, topH-1)...)
	} else {
		right = append([]string{m.title(paneSource, m.sourceTitle(), rw)}, m.sourceView(rw, topH-1)...)
	}
	out = append(out, join(left, right, m.sep())...)
	left = append([]string{m.title(paneStack, m.stackTitle(), lw)}, m.stackView(lw, botH-1)...)
	right = append([]string{m.title(paneVars, m.varsTitle(), rw)}, m.varsView(rw, botH-1)...)
	out = append(out, join(left, right, m.sep())...)
	out = append(out, m.statusView(w))
	return strings.Join(out, "\n")
}

func (m *Model) sep() string { return m.st.dim.Render("│") }

func join(left, right []string, sep string) []string {
	out := make([]string, len(left))
	for i := range left {
		out[i] = left[i] + sep + right[i]
	}
	return out
}

// columns splits the width: the left column (timeline, stack) and the right
// one (source, variables), with one column of separator between.
func (m *Model) columns() (int, int) {
	lw := m.width * 19 / 40
	lw = max(18, min(lw, 56))
	return lw, m.width - lw - 1
}

func (m *Model) rowsSplit() (int, int) {
	body := m.height - 2
	top := body / 2
	return top, body - top
}

// paneRows is the number of content rows of the focused pane.
func (m *Model) paneRows() int {
	top, bot := m.rowsSplit()
	if m.focus == paneTimeline || m.focus == paneSource {
		return max(1, top-1)
	}
	return max(1, bot-1)
}

func (m *Model) title(p pane, text string, w int) string {
	if m.focus == p {
		t := "━━ " + text + " "
		return m.st.titleFocus.Render(trunc(t, w) + strings.Repeat("━", max(0, w-width(trunc(t, w)))))
	}
	t := "── " + text + " "
	return m.st.title.Render(trunc(t, w) + strings.Repeat("─", max(0, w-width(trunc(t, w)))))
}

func (m *Model) headerView(w int) string {
	if m.snap == nil {
		return m.st.header.Render(fit(" pyreplay  "+m.eng.Path(), w))
	}
	s := m.snap
	parts := []string{" pyreplay", fmt.Sprintf("%s (%d/%d)", s.ID, m.cur+1, len(m.list))}
	if m.live {
		parts = append(parts, m.liveState())
	}
	if len(m.list) > 0 && m.list[0].Run != m.list[len(m.list)-1].Run {
		parts = append(parts, fmt.Sprintf("run %d", s.Run))
	}
	reason, label := s.Reason, ""
	if s.Reason == "step" {
		if k, ok := stepKinds[s.Label]; ok {
			reason = "step " + k
		}
	} else if _, label = shortReason(s.Summary); label != "" {
		label = strconv.Quote(label)
	}
	parts = append(parts, reason)
	if label != "" {
		parts = append(parts, label)
	}
	parts = append(parts, s.Function, fmt.Sprintf("%s:%d", filepath.Base(s.File), s.Line))
	parts = append(parts, time.Unix(0, int64(math.Round(s.Time*1e6))*1e3).In(m.opts.Location).Format("15:04:05.000"))
	if m.mark != 0 {
		parts = append(parts, "◆ "+recording.SnapID(m.mark))
	}
	// the Python version only when it fits whole
	line := strings.Join(parts, "  ")
	if s.Python != "" && width(line)+len("  py")+len(s.Python) <= w {
		line += "  py" + s.Python
	}
	return m.st.header.Render(fit(line, w))
}

func (m *Model) statusView(w int) string {
	switch m.mode {
	case inputFilter:
		return m.st.input.Render(fit("/"+string(m.input)+"█   (enter keeps the filter, esc clears it)", w))
	case inputJump:
		return m.st.input.Render(fit("jump to snapshot: "+string(m.input)+"█   (snap-N or N; esc cancels)", w))
	case inputBreakpoint:
		return m.st.input.Render(fit("breakpoint at: "+string(m.input)+"█   (LINE of the shown file or FILE:LINE; set again clears; esc cancels)", w))
	}
	if m.msg != "" {
		if m.msgErr {
			return m.st.statusErr.Render(fit(" "+m.msg, w))
		}
		return m.st.status.Render(fit(" "+m.msg, w))
	}
	pairs := [][2]string{{"n/p", "next/prev"}, {":", "jump"}, {"/", "filter"}, {"d", "diff"}, {"r", "resume"},
		{"tab", "pane"}, {"m", "mark"}, {"g/G", "first/last"}}
	if m.live {
		pairs = append([][2]string{{"c", "cont"}, {"o", "over"}, {"i", "in"}, {"u", "out"}, {"b", "back"}}, pairs...)
	}
	tail := [][2]string{{"?", "help"}, {"q", "quit"}}
	used := 1 + 2*(len("? help")+2) // leading space, help and quit
	var plain []string
	var styled []string
	add := func(p [2]string) {
		plain = append(plain, p[0]+" "+p[1])
		styled = append(styled, m.st.statusKey.Render(p[0])+m.st.status.Render(" "+p[1]))
	}
	for _, p := range pairs {
		n := len(p[0]) + 1 + width(p[1]) + 2
		if used+n > w {
			continue
		}
		used += n
		add(p)
	}
	for _, p := range tail {
		add(p)
	}
	line := " " + strings.Join(plain, "  ")
	sep := m.st.status.Render("  ")
	return m.st.status.Render(" ") + strings.Join(styled, sep) + m.st.status.Render(strings.Repeat(" ", max(0, w-width(line))))
}

// --- timeline ---

func (m *Model) timelineTitle() string {
	pos := m.visiblePos() + 1
	if m.filter != "" {
		return fmt.Sprintf("Timeline /%s  %d of %d match", m.filter, len(m.visible), len(m.list))
	}
	return fmt.Sprintf("Timeline %d/%d", pos, len(m.list))
}

var reasonShort = map[string]string{
	"breakpoint": "break", "function": "call", "exception": "exc", "request": "req",
	"periodic": "tick", "step": "step", "entry": "entry",
}

func (m *Model) timelineView(w, h int) []string {
	var lines []string
	if len(m.visible) == 0 {
		if m.filter != "" {
			lines = append(lines, fit(fmt.Sprintf(" no snapshot matches %q", m.filter), w))
		} else {
			lines = append(lines, fit(" no snapshots yet", w))
		}
		return padLines(lines, h, w)
	}
	// keep the current snapshot in view
	pos := m.visiblePos()
	if pos >= 0 {
		if pos < m.tlTop {
			m.tlTop = pos
		}
		if pos >= m.tlTop+h {
			m.tlTop = pos - h + 1
		}
	}
	m.tlTop = max(0, min(m.tlTop, len(m.visible)-h))
	idW, whereW, timeW := 0, 0, 0
	for _, i := range m.visible {
		s := m.list[i]
		idW = max(idW, len(s.ID))
		whereW = max(whereW, width(where(s)))
	}
	avail := w - 2 - idW - 1 - 5 - 1
	if avail >= 34 {
		timeW = 8
		avail -= timeW + 1
	}
	whereW = min(whereW, max(6, avail/2))
	funcW := max(1, avail-whereW-1)
	for _, i := range m.visible[m.tlTop:min(len(m.visible), m.tlTop+h)] {
		s := m.list[i]
		cur := " "
		if i == m.cur {
			cur = "▶"
		}
		mk := " "
		if s.N == m.mark {
			mk = "◆"
		}
		reason, label := shortReason(s)
		fn := s.Function
		if label != "" {
			fn += " " + strconv.Quote(label)
		}
		row := cur + mk + fit(s.ID, idW) + " " + fit(reason, 5) + " " + fit(fn, funcW) + " " + fitRight(where(s), whereW)
		if timeW > 0 {
			row += " " + fitRight(m.relTime(s), timeW)
		}
		row = fit(row, w)
		switch {
		case i == m.cur:
			row = m.st.current.Render(row)
		case s.N == m.mark:
			row = m.st.changed.Render(row)
		}
		lines = append(lines, row)
	}
	return padLines(lines, h, w)
}

// shortReason is the timeline's reason column and the label worth showing
// beside the function (a step's label only repeats its kind).
func shortReason(s wire.Summary) (string, string) {
	if s.Reason == "step" {
		if k, ok := stepKinds[s.Label]; ok {
			return k, ""
		}
	}
	r := reasonShort[s.Reason]
	if r == "" {
		r = s.Reason
	}
	if s.Label == s.Function || s.Label == s.Reason || (s.Reason == "function" && strings.HasSuffix(s.Function, "."+s.Label)) {
		return r, ""
	}
	return r, s.Label
}

var stepKinds = map[string]string{"next": "over", "stepIn": "in", "stepOut": "out", "stepBack": "back"}

func where(s wire.Summary) string {
	return fmt.Sprintf("%s:%d", filepath.Base(s.File), s.Line)
}

// fitRight keeps the end of s (the line number matters more than the
// beginning of a file name).
func fitRight(s string, w int) string {
	if width(s) <= w {
		return fit(s, w)
	}
	r := []rune(s)
	for len(r) > 0 && width(string(r))+1 > w {
		r = r[1:]
	}
	return fit("…"+string(r), w)
}

func (m *Model) relTime(s wire.Summary) string {
	start, ok := m.runStartOf(s.Run)
	if !ok {
		return ""
	}
	d := s.Time - start
	if d < 0 {
		d = 0
	}
	if d >= 100 {
		return fmt.Sprintf("+%.0fs", d)
	}
	return fmt.Sprintf("+%.3fs", d)
}

// --- source ---

func (m *Model) currentFrame() *wire.Frame {
	if m.snap == nil || m.frame < 0 || m.frame >= len(m.snap.Frames) {
		return nil
	}
	return &m.snap.Frames[m.frame]
}

func (m *Model) sourceTitle() string {
	f := m.currentFrame()
	if f == nil {
		return "Source"
	}
	t := fmt.Sprintf("Source %s:%d  %s", filepath.Base(f.File), f.Line, f.Function)
	if m.srcLeft > 0 {
		t += fmt.Sprintf("  (→%d)", m.srcLeft)
	}
	return t
}

func (m *Model) sourceLines() ([]string, error) {
	f := m.currentFrame()
	if f == nil {
		return nil, fmt.Errorf("no snapshot")
	}
	text, err := m.eng.FrameSource(*f)
	if err != nil {
		return nil, err
	}
	text = strings.TrimRight(text, "\n")
	return strings.Split(text, "\n"), nil
}

func (m *Model) sourceFollowTop() int {
	f := m.currentFrame()
	_, topH := m.rowsSplit()
	h := max(1, topH-1)
	lines, err := m.sourceLines()
	if f == nil || err != nil {
		return 1
	}
	top := f.Line - (h-1)/2
	top = min(top, len(lines)-h+1)
	return max(1, top)
}

func (m *Model) sourceView(w, h int) []string {
	f := m.currentFrame()
	if f == nil {
		return padLines([]string{fit(" no snapshot selected", w)}, h, w)
	}
	lines, err := m.sourceLines()
	if err != nil {
		out := []string{m.st.errorMsg.Render(fit(" No source to show:", w))}
		for _, l := range wrap(err.Error(), w-2) {
			out = append(out, m.st.errorMsg.Render(fit("  "+l, w)))
		}
		out = append(out, fit(fmt.Sprintf("  (stopped at %s:%d in %s)", f.File, f.Line, f.Function), w))
		return padLines(out, h, w)
	}
	top := m.srcTop
	if top == 0 {
		top = m.sourceFollowTop()
	}
	top = max(1, min(top, len(lines)))
	if m.srcTop != 0 {
		m.srcTop = top
	}
	numW := len(strconv.Itoa(len(lines)))
	var out []string
	for n := top; n < top+h && n <= len(lines); n++ {
		bp := " "
		if m.isBreakpoint(f.File, n) {
			bp = "●"
		}
		cur := " "
		if n == f.Line {
			cur = "▶"
		}
		gutter := fmt.Sprintf("%s%s%*d ", bp, cur, numW, n)
		code := fit(skipCols(clean(lines[n-1]), m.srcLeft), max(0, w-width(gutter)))
		switch {
		case n == f.Line:
			out = append(out, m.st.current.Render(gutter+code))
		case bp == "●":
			out = append(out, m.st.bp.Render(bp)+m.st.lineNo.Render(gutter[len(bp):])+code)
		default:
			out = append(out, m.st.lineNo.Render(gutter)+code)
		}
	}
	return padLines(out, h, w)
}

// skipCols drops the first n cells of s (horizontal scrolling).
func skipCols(s string, n int) string {
	if n <= 0 {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && n > 0 {
		n -= width(string(r[0]))
		r = r[1:]
	}
	return string(r)
}

func wrap(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= w:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
		for width(line) > w {
			r := []rune(line)
			out = append(out, string(r[:w]))
			line = string(r[w:])
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// --- call stack ---

func (m *Model) stackTitle() string {
	if m.snap == nil {
		return "Call stack"
	}
	return fmt.Sprintf("Call stack (%d)", len(m.snap.Frames))
}

func (m *Model) stackView(w, h int) []string {
	if m.snap == nil {
		return padLines(nil, h, w)
	}
	n := len(m.snap.Frames)
	if m.stackPos < m.stackTop {
		m.stackTop = m.stackPos
	}
	if m.stackPos >= m.stackTop+h {
		m.stackTop = m.stackPos - h + 1
	}
	m.stackTop = max(0, min(m.stackTop, n-h))
	numW := len(strconv.Itoa(n - 1))
	var out []string
	for pos := m.stackTop; pos < n && pos < m.stackTop+h; pos++ {
		f := m.snap.Frames[n-1-pos]
		sel := " "
		if pos == m.stackPos {
			sel = "▶"
		}
		loc := fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		fn := f.Function
		if f.Library {
			fn = "[lib] " + fn
		}
		head := fmt.Sprintf("%s #%-*d ", sel, numW, pos)
		fnW := max(1, w-width(head)-1-min(width(loc), max(10, w*2/5)))
		row := fit(head+fit(fn, fnW)+" "+fitRight(loc, max(1, w-width(head)-fnW-1)), w)
		switch {
		case pos == m.stackPos:
			row = m.st.current.Render(row)
		case f.Library:
			row = m.st.dim.Render(row)
		}
		out = append(out, row)
	}
	return padLines(out, h, w)
}

// --- variables ---

func (m *Model) varsTitle() string {
	if m.diffOn {
		return m.diffTitle
	}
	return "Variables"
}

func (m *Model) clampScroll() {
	m.varCursor = max(0, min(m.varCursor, len(m.rows)-1))
	_, bot := m.rowsSplit()
	h := max(1, bot-1)
	if m.varCursor < m.varTop {
		m.varTop = m.varCursor
	}
	if m.varCursor >= m.varTop+h {
		m.varTop = m.varCursor - h + 1
	}
	m.varTop = max(0, min(m.varTop, len(m.rows)-h))
}

func (m *Model) varsView(w, h int) []string {
	if m.diffOn {
		return m.diffView(w, h)
	}
	if m.snap == nil {
		return padLines(nil, h, w)
	}
	m.clampScroll()
	focused := m.focus == paneVars
	var out []string
	for i := m.varTop; i < len(m.rows) && i < m.varTop+h; i++ {
		r := m.rows[i]
		cursor := " "
		if focused && i == m.varCursor {
			cursor = "›"
		}
		tri := "  "
		if r.expandable {
			tri = "▸ "
			if r.expanded {
				tri = "▾ "
			}
		}
		indent := strings.Repeat("  ", max(0, r.depth-1))
		if r.kind == rowHeader {
			indent = ""
		}
		row := fit(cursor+indent+tri+r.text, w)
		switch {
		case focused && i == m.varCursor:
			row = m.st.cursor.Render(row)
		case r.kind == rowHeader:
			row = m.st.scope.Render(row)
		case r.kind == rowMore:
			row = m.st.more.Render(row)
		case r.kind == rowNote:
			row = m.st.dim.Render(row)
		}
		out = append(out, row)
	}
	return padLines(out, h, w)
}

// --- diff ---

type diffLine struct {
	kind string // "scope", "+", "-", "~", "note"
	text string
}

func (m *Model) toggleDiff() {
	m.diffOn = !m.diffOn
	if m.diffOn {
		m.computeDiff()
		if m.focus != paneVars {
			m.focus = paneVars
		}
	}
}

// diffBase is the snapshot the current one is compared with: the marked
// one, else the previous one in the (filtered) timeline.
func (m *Model) diffBase() (*wire.Snapshot, error) {
	if m.mark != 0 && (m.snap == nil || m.mark != m.snap.N) {
		return m.eng.Snapshot(m.mark)
	}
	pos := m.visiblePos()
	if pos <= 0 {
		return nil, nil
	}
	return m.eng.Snapshot(m.list[m.visible[pos-1]].N)
}

func (m *Model) computeDiff() {
	m.diffTop = 0
	m.diffLines = nil
	if m.snap == nil {
		m.diffTitle = "Diff"
		return
	}
	base, err := m.diffBase()
	if err != nil {
		m.diffTitle = "Diff"
		m.diffLines = []diffLine{{"note", err.Error()}}
		return
	}
	if base == nil {
		m.diffTitle = "Diff " + m.snap.ID
		m.diffLines = []diffLine{{"note", "no earlier snapshot to compare with;"}, {"note", "press m on another snapshot to mark it"}}
		return
	}
	m.diffTitle = fmt.Sprintf("Diff %s → %s", base.ID, m.snap.ID)
	if base.N == m.mark {
		m.diffTitle = fmt.Sprintf("Diff ◆%s → %s", base.ID, m.snap.ID)
	}
	changes := session.Diff(base, m.snap)
	if len(changes) == 0 {
		m.diffLines = []diffLine{{"note", "no variable changed"}}
		return
	}
	scope := ""
	for _, c := range changes {
		if c.Scope != scope {
			scope = c.Scope
			m.diffLines = append(m.diffLines, diffLine{"scope", scope})
		}
		switch c.Kind {
		case session.Added:
			m.diffLines = append(m.diffLines, diffLine{"+", fmt.Sprintf("+ %s: %s = %s", c.Name, c.New.Type, c.New.Repr)})
		case session.Removed:
			m.diffLines = append(m.diffLines, diffLine{"-", fmt.Sprintf("- %s: %s = %s", c.Name, c.Old.Type, c.Old.Repr)})
		case session.Changed:
			m.diffLines = append(m.diffLines, diffLine{"~", fmt.Sprintf("~ %s: %s → %s", c.Name, c.Old.Repr, c.New.Repr)})
		}
	}
}

func (m *Model) diffView(w, h int) []string {
	var out []string
	m.diffTop = max(0, min(m.diffTop, len(m.diffLines)-h))
	for i := m.diffTop; i < len(m.diffLines) && i < m.diffTop+h; i++ {
		d := m.diffLines[i]
		text := " " + d.text
		if d.kind == "scope" {
			text = d.text
		}
		row := fit(text, w)
		switch d.kind {
		case "scope":
			row = m.st.scope.Render(row)
		case "+":
			row = m.st.added.Render(row)
		case "-":
			row = m.st.removed.Render(row)
		case "~":
			row = m.st.changed.Render(row)
		case "note":
			row = m.st.dim.Render(row)
		}
		out = append(out, row)
	}
	return padLines(out, h, w)
}

// --- help ---

func (m *Model) helpView(w, h int) []string {
	var lines []string
	lines = append(lines, m.st.header.Render(fit(" pyreplay tui: keys   (any key closes this help; q quits)", w)))
	names := []string{"Snapshots", "Panes and variables", "Compare and resume"}
	if m.live {
		names = append([]string{"Live program"}, names...)
	}
	for gi, g := range m.keys.helpGroups(m.live) {
		lines = append(lines, "", m.st.scope.Render(fit(names[gi], w)))
		for _, b := range g {
			lines = append(lines, m.st.helpKey.Render(fit("  "+b.Help().Key, 10))+fit(b.Help().Desc, w-10))
		}
	}
	lines = append(lines, "", m.st.scope.Render(fit("Marks", w)),
		fit("  ▶ current snapshot, frame and line   ● breakpoint   ◆ diff base", w),
		fit("  diff: + added   - removed   ~ changed   1-4 focus a pane", w),
		"", fit("  recording: "+m.eng.Path(), w))
	for i := range lines {
		if lines[i] == "" {
			lines[i] = strings.Repeat(" ", w)
		}
	}
	m.helpTop = max(0, min(m.helpTop, len(lines)-h))
	out := padLines(lines[m.helpTop:], h, w)
	if m.helpTop+h < len(lines) {
		out[h-1] = m.st.more.Render(fit("  ↓/j: more below", w))
	}
	return out
}

var _ = lipgloss.Width
