package tui

import (
	"fmt"

	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/wire"
)

// rowKind tells what a row of the variables tree is.
type rowKind int

const (
	rowHeader rowKind = iota // "Locals of f", "Globals of m"
	rowVar                   // a variable or a child value
	rowMore                  // "… show N more": loads the next page
	rowNote                  // information, not selectable for an action
)

// varRow is one line of the flattened variables tree.
type varRow struct {
	kind       rowKind
	path       string // expansion key (stable across snapshots)
	parent     string // path of the parent row ("" for headers)
	depth      int
	text       string
	expandable bool
	expanded   bool
}

// treeState remembers which nodes are open and how many children of each
// are shown. Keys are paths such as "L/basket/items" or "G:__main__/STOCK",
// so what the user opened stays open while stepping between snapshots.
type treeState struct {
	open  map[string]bool
	pages map[string]int
}

func newTreeState() treeState {
	return treeState{open: map[string]bool{}, pages: map[string]int{}}
}

func (t treeState) isOpen(path string, def bool) bool {
	if v, ok := t.open[path]; ok {
		return v
	}
	return def
}

// buildRows flattens the locals of frame f and the globals of the snapshot.
func buildRows(s *wire.Snapshot, f int, t treeState, pageSize int) []varRow {
	var rows []varRow
	if s == nil {
		return nil
	}
	if f >= 0 && f < len(s.Frames) {
		fr := s.Frames[f]
		path := "L"
		open := t.isOpen(path, true)
		rows = append(rows, varRow{kind: rowHeader, path: path, text: "Locals of " + fr.Function, expandable: true, expanded: open})
		if open {
			switch {
			case len(fr.Locals) == 0 && fr.Module:
				rows = append(rows, varRow{kind: rowNote, parent: path, depth: 1, text: "(a module's variables are its globals, below)"})
			case len(fr.Locals) == 0:
				rows = append(rows, varRow{kind: rowNote, parent: path, depth: 1, text: "(none)"})
			}
			for _, name := range session.SortedNames(fr.Locals) {
				rows = appendValue(rows, path, 1, name, fr.Locals[name], t, pageSize)
			}
		}
	}
	for _, mod := range session.ModuleOrder(s.Globals) {
		path := "G:" + mod
		open := t.isOpen(path, true)
		rows = append(rows, varRow{kind: rowHeader, path: path, text: "Globals of " + mod, expandable: true, expanded: open})
		if open {
			g := s.Globals[mod]
			if len(g) == 0 {
				rows = append(rows, varRow{kind: rowNote, parent: path, depth: 1, text: "(none)"})
			}
			for _, name := range session.SortedNames(g) {
				rows = appendValue(rows, path, 1, name, g[name], t, pageSize)
			}
		}
	}
	return rows
}

func appendValue(rows []varRow, parent string, depth int, name string, v wire.Value, t treeState, pageSize int) []varRow {
	path := parent + "/" + name
	expandable := len(v.Children) > 0 || v.More
	open := expandable && t.isOpen(path, false)
	rows = append(rows, varRow{kind: rowVar, path: path, parent: parent, depth: depth,
		text: describe(name, v), expandable: expandable, expanded: open})
	if !open {
		return rows
	}
	if len(v.Children) == 0 {
		return append(rows, varRow{kind: rowNote, parent: path, depth: depth + 1, text: "(not recorded this deep)"})
	}
	shown := t.pages[path]
	if shown <= 0 {
		shown = pageSize
	}
	if shown > len(v.Children) {
		shown = len(v.Children)
	}
	for i, c := range v.Children[:shown] {
		cname := c.Name
		if cname == "" {
			cname = fmt.Sprintf("[%d]", i)
		}
		rows = appendValue(rows, path, depth+1, cname, c, t, pageSize)
	}
	total := len(v.Children)
	if v.Len != nil && *v.Len > total {
		total = *v.Len
	}
	if shown < len(v.Children) {
		next := pageSize
		if rest := len(v.Children) - shown; rest < next {
			next = rest
		}
		rows = append(rows, varRow{kind: rowMore, path: path, parent: path, depth: depth + 1,
			text: fmt.Sprintf("… %d of %d shown; enter shows %d more", shown, total, next)})
	} else if total > len(v.Children) {
		rows = append(rows, varRow{kind: rowNote, parent: path, depth: depth + 1,
			text: fmt.Sprintf("… %d more not recorded (the recording keeps %d)", total-len(v.Children), len(v.Children))})
	}
	return rows
}

// describe renders "name: type = repr" (or "name: repr" when the repr
// already says the type).
func describe(name string, v wire.Value) string {
	size := ""
	if v.Len != nil && sized[v.Type] {
		size = fmt.Sprintf("[%d]", *v.Len)
	}
	return fmt.Sprintf("%s: %s%s = %s", name, v.Type, size, v.Repr)
}

// sized are the types whose length is shown beside the type (for other
// objects the recorded length counts attributes).
var sized = map[string]bool{
	"list": true, "tuple": true, "dict": true, "set": true, "frozenset": true, "deque": true,
	"OrderedDict": true, "defaultdict": true, "Counter": true, "bytearray": true, "bytes": true, "str": true,
}
