package tui

// The value history pane (H, with line history): the values the selected
// variable took in its frame, each with the line that gave it, in place of
// the source; enter goes to that line (engine GoToChange), H or esc closes.

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/pyreplay/pyreplay/session"
)

type valueHistory struct {
	name    string
	frame   int
	changes []session.ValueChange
	sel     int
}

// toggleHistory opens the pane for the variable under the cursor in the
// variables pane (a local of the shown frame), or closes it.
func (m *Model) toggleHistory() {
	if m.hist != nil {
		m.hist = nil
		return
	}
	if !m.eng.LineHistory() {
		m.setMsg("a value's history needs line history (--line-history; on by default with a program)", true)
		return
	}
	if m.varCursor >= len(m.rows) {
		m.setMsg("select a variable first (tab to the variables pane)", true)
		return
	}
	r := m.rows[m.varCursor]
	name, ok := strings.CutPrefix(r.path, "L/")
	if r.kind != rowVar || !ok || strings.Contains(name, "/") {
		m.setMsg("H shows the history of a local variable of the shown frame: select one", true)
		return
	}
	changes, err := m.eng.ValueHistory(m.frame, name)
	if err != nil {
		m.setMsg(err.Error(), true)
		return
	}
	m.hist = &valueHistory{name: name, frame: m.frame, changes: changes, sel: len(changes) - 1}
	m.setMsg(fmt.Sprintf("%s took %d value(s): enter goes to the line that gave one, H closes", name, len(changes)), false)
}

// historyKey handles a key while the pane is open; false: not its key.
func (m *Model) historyKey(msg tea.KeyMsg) bool {
	h, k := m.hist, m.keys
	switch {
	case key.Matches(msg, k.Up):
		h.sel = max(0, h.sel-1)
	case key.Matches(msg, k.Down):
		h.sel = min(len(h.changes)-1, h.sel+1)
	case msg.Type == tea.KeyEsc:
		m.hist = nil
	case msg.Type == tea.KeyEnter:
		ch, err := m.eng.GoToChange(h.frame, h.name, h.sel+1)
		if err != nil {
			m.setMsg(err.Error(), true)
			return true
		}
		m.hist = nil
		m.sync()
		m.seek(m.eng.State().Cursor)
		m.setMsg(fmt.Sprintf("line %d gave %s the value %s (o steps forward to see it)", ch.Line, h.name, ch.Repr), false)
	default:
		return false
	}
	return true
}

func (m *Model) historyTitle() string {
	return fmt.Sprintf("History of %s (enter goes there, H closes)", m.hist.name)
}

func (m *Model) historyView(w, h int) []string {
	var lines []string
	for k, ch := range m.hist.changes {
		from := fmt.Sprintf("from line %d", ch.Line)
		if ch.Line == 0 {
			from = "before the history begins"
		}
		mark := " "
		if k == m.hist.sel {
			mark = "▶"
		}
		text := fit(fmt.Sprintf("%s[%d] %s  (%s)", mark, k+1, ch.Repr, from), w)
		if k == m.hist.sel {
			text = m.st.cursor.Render(text)
		}
		lines = append(lines, text)
	}
	if top := m.hist.sel - h + 1; top > 0 {
		lines = lines[top:]
	}
	return padLines(lines, h, w)
}
