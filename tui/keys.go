package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds every binding; the status bar and the help screen are
// generated from it so they never disagree with what the keys do.
type keyMap struct {
	Next, Prev, First, Last, Jump, Filter key.Binding
	Up, Down, PageUp, PageDown            key.Binding
	Expand, Collapse, Toggle              key.Binding
	Tab, BackTab                          key.Binding
	Diff, Mark, Resume                    key.Binding
	Breakpoint, ReverseContinue, History  key.Binding
	Help, Quit                            key.Binding
	// live mode
	Continue, StepOver, StepIn, StepOut, StepBack, Output, Pause key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, h string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, h))
	}
	return keyMap{
		Next:            b([]string{"n", "]"}, "n", "next snapshot"),
		Prev:            b([]string{"p", "["}, "p", "previous snapshot"),
		First:           b([]string{"g", "home"}, "g", "first snapshot"),
		Last:            b([]string{"G", "end"}, "G", "last snapshot"),
		Jump:            b([]string{":", "#"}, ":", "jump to a snapshot by id"),
		Filter:          b([]string{"/"}, "/", "filter the timeline (file, function, label, reason)"),
		Up:              b([]string{"up", "k"}, "↑/k", "move up in the focused pane"),
		Down:            b([]string{"down", "j"}, "↓/j", "move down in the focused pane"),
		PageUp:          b([]string{"pgup", "ctrl+b"}, "PgUp", "page up"),
		PageDown:        b([]string{"pgdown", "ctrl+f"}, "PgDn", "page down"),
		Expand:          b([]string{"right", "l"}, "→/l", "expand a variable; scroll the source right"),
		Collapse:        b([]string{"left", "h"}, "←/h", "collapse a variable (or go to its parent); scroll left"),
		Toggle:          b([]string{"enter", " "}, "enter", "expand/collapse; next page of a long value; recentre source"),
		Tab:             b([]string{"tab"}, "tab", "next pane"),
		BackTab:         b([]string{"shift+tab"}, "S-tab", "previous pane"),
		Diff:            b([]string{"d"}, "d", "diff against the previous (or marked) snapshot"),
		Mark:            b([]string{"m"}, "m", "mark/unmark this snapshot as the diff base"),
		Resume:          b([]string{"r"}, "r", "resume the program from this snapshot"),
		Breakpoint:      b([]string{"B"}, "B", "set or clear a breakpoint (LINE of the shown file, or FILE:LINE)"),
		ReverseContinue: b([]string{"R"}, "R", "reverse continue: back to the latest earlier breakpoint hit (by line with --line-history)"),
		History:         b([]string{"H"}, "H", "the selected variable's values and the lines that gave them (line history)"),
		Help:            b([]string{"?"}, "?", "help"),
		Quit:            b([]string{"q", "ctrl+c"}, "q", "quit"),

		Continue: b([]string{"c"}, "c", "continue to the next breakpoint (through history to the present)"),
		StepOver: b([]string{"o"}, "o", "step over (next line)"),
		StepIn:   b([]string{"i"}, "i", "step in"),
		StepOut:  b([]string{"u"}, "u", "step out"),
		StepBack: b([]string{"b"}, "b", "step back (a line with --line-history, else to the previous stop)"),
		Pause:    b([]string{"P"}, "P", "pause the running program"),
		Output:   b([]string{"O"}, "O", "show the program's output instead of the source"),
	}
}

func (k keyMap) helpGroups(live bool) [][]key.Binding {
	groups := [][]key.Binding{
		{k.Next, k.Prev, k.First, k.Last, k.Jump, k.Filter},
		{k.Tab, k.BackTab, k.Up, k.Down, k.PageUp, k.PageDown, k.Expand, k.Collapse, k.Toggle},
		{k.Diff, k.Mark, k.Resume, k.Breakpoint, k.ReverseContinue, k.History, k.Help, k.Quit},
	}
	if !live {
		groups[0] = append(groups[0], k.Continue)
	}
	if live {
		groups = append([][]key.Binding{{k.Continue, k.StepOver, k.StepIn, k.StepOut, k.StepBack, k.Pause, k.Output}}, groups...)
	}
	return groups
}
