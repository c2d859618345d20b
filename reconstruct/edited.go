package reconstruct

// Resuming into edited source (pyreplay resume --allow-edited, issue 14).
// A frame of a file that changed since the recording continues in the new
// text when the path to its position survived the edit: the position is
// the chain of statements and clauses from the function's body down to
// the statement being executed, each one found again in the new function
// by its text (a compound statement's and a clause's by its header, a try
// statement's with its handlers) and its rank among equal siblings. The
// frame then gets the new file's lines, and the plan is built from the new
// text as from a recorded one. Top-level definitions are compared too
// (EditedDefinitions): the shim gives the running program their new code.

import (
	"fmt"
	"path/filepath"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/wire"
)

// EditedFile is a program file that changed since the recording.
type EditedFile struct {
	Path   string // as the frames name it
	Module string // its module's name ("" when unknown)
	OldSHA string
	NewSHA string
	Old    []byte
	New    []byte
}

// MappedFrame says where a frame of an edited file continues.
type MappedFrame struct {
	Function string `json:"function"`
	OldLine  int    `json:"old_line"`
	NewLine  int    `json:"new_line"`
}

// MapEditedFrames moves every frame (and suspended generator) of snap whose
// file is in edits (by old sha256) onto the new text: lines, first line,
// positions and sha256. It refuses, naming the function, the old and new
// line and what changed, when the edit touched the statement a frame
// executes or a block around it, or sets above it a local the frame reads
// after it but never set (checkNewLocals).
func MapEditedFrames(snap *wire.Snapshot, edits map[string]*EditedFile) (map[string][]MappedFrame, error) {
	parsed := map[string][2]*astinfo.File{}
	files := func(e *EditedFile) ([2]*astinfo.File, error) {
		if p, ok := parsed[e.OldSHA]; ok {
			return p, nil
		}
		o, err := astinfo.Parse(e.Old)
		if err != nil {
			return parsed[e.OldSHA], fmt.Errorf("the recorded %s does not parse: %v", filepath.Base(e.Path), err)
		}
		n, err := astinfo.Parse(e.New)
		if err != nil {
			return parsed[e.OldSHA], &Refusal{What: fmt.Sprintf("the edited %s has a syntax error (%v)", filepath.Base(e.Path), err), File: e.Path, Line: err.(*astinfo.SyntaxError).Line, Edited: true}
		}
		parsed[e.OldSHA] = [2]*astinfo.File{o, n}
		return parsed[e.OldSHA], nil
	}
	out := map[string][]MappedFrame{}
	frames := []*wire.Frame{}
	for i := range snap.Frames {
		frames = append(frames, &snap.Frames[i])
	}
	for i := range snap.Meta.Generators {
		frames = append(frames, &snap.Meta.Generators[i])
	}
	for _, fr := range frames {
		e := edits[fr.SHA256]
		if e == nil {
			continue
		}
		p, err := files(e)
		if err != nil {
			return nil, err
		}
		m := &editMapper{old: p[0], new: p[1], file: e.Path}
		delta, cols, first, err := m.mapFrame(fr)
		if err != nil {
			return nil, err
		}
		out[e.Path] = append(out[e.Path], MappedFrame{Function: frameName(fr), OldLine: fr.Line, NewLine: fr.Line + delta})
		fr.Line += delta
		fr.FirstLine = first
		for k, p := range fr.Pos {
			if p == nil {
				continue
			}
			v := *p
			if k < 2 {
				v += delta
			} else {
				v += cols
			}
			fr.Pos[k] = &v
		}
		fr.SHA256 = e.NewSHA
	}
	return out, nil
}

func frameName(fr *wire.Frame) string {
	if fr.Module {
		return "<module>"
	}
	return fr.Function
}

type editMapper struct {
	old, new *astinfo.File
	file     string
}

// unit is a statement or a clause (elif, else, except, finally, case).
type unit struct {
	node   *sitter.Node
	key    string // what must survive the edit: the header, or the whole text
	header bool   // the position is on the unit's header (a compound's)
}

// mapFrame finds fr's position in the new file: the line and column shift
// of the statement it executes, and the new first line of its code.
func (m *editMapper) mapFrame(fr *wire.Frame) (delta, cols, first int, err error) {
	name := frameName(fr)
	oldScope, err := m.scope(m.old, fr, 0)
	if err != nil {
		return 0, 0, 0, &Refusal{What: fmt.Sprintf("cannot find %s in the recorded source (%v)", name, err), File: m.file, Line: fr.Line, Edited: true}
	}
	newScope, err := m.scope(m.new, fr, m.rank(m.old, oldScope, fr))
	if err != nil || newScope == nil {
		return 0, 0, 0, &Refusal{What: fmt.Sprintf("%s, running at the snapshot, is no longer in the edited %s", name, filepath.Base(m.file)), File: m.file, Line: fr.Line, Edited: true}
	}
	line := fr.Line
	if len(fr.Pos) == 4 && fr.Pos[0] != nil && *fr.Pos[0] > 0 {
		line = *fr.Pos[0]
	}
	path := m.locate(m.old, oldScope.Body(), line)
	if len(path) == 0 {
		return 0, 0, 0, &Refusal{What: fmt.Sprintf("no statement of %s holds the snapshot's position", name), File: m.file, Line: fr.Line, Edited: true}
	}
	container := m.units(m.new, newScope.Body())
	oldContainer := m.units(m.old, oldScope.Body())
	var found *sitter.Node
	for depth, u := range path {
		rank := rankOf(oldContainer, u)
		match := nthWithKey(container, u, rank)
		if match == nil {
			what := "the statement being executed"
			if depth < len(path)-1 {
				what = fmt.Sprintf("the %s around it (recorded line %d)", describeUnit(u.node), astinfo.Line(u.node))
			} else if u.header {
				what = "the header of the " + describeUnit(u.node) + " being executed"
			}
			return 0, 0, 0, &Refusal{What: fmt.Sprintf("the edit changes %s in %s (old line %d, new line %d)",
				what, name, fr.Line, guessLine(container, oldContainer, u)), File: m.file, Line: fr.Line, Edited: true}
		}
		found = match.node
		if depth < len(path)-1 {
			oldContainer = m.inner(m.old, u.node)
			container = m.inner(m.new, match.node)
		}
	}
	last := path[len(path)-1].node
	delta = astinfo.Line(found) - astinfo.Line(last)
	if err := checkNewLocals(m.old, m.new, oldScope.Node, newScope.Node, last, found, fr, fr.Line+delta, m.file); err != nil {
		return 0, 0, 0, err
	}
	return delta, astinfo.Col(found) - astinfo.Col(last), newScope.FirstLine(), nil
}

// scope finds the frame's function (class body, module) in f; in the new
// file, the rank-th of those with its qualified name.
func (m *editMapper) scope(f *astinfo.File, fr *wire.Frame, rank int) (*astinfo.Scope, error) {
	if fr.Module {
		return f.Scopes()[0], nil
	}
	if f == m.old {
		if fr.ClassBody {
			return f.FindClass(fr.Function, fr.FirstLine)
		}
		return f.FindScope(fr.Function, fr.FirstLine)
	}
	var same []*astinfo.Scope
	if fr.ClassBody {
		same = classesNamed(f, fr.Function)
	} else {
		for _, s := range f.Scopes()[1:] {
			if s.Qualname == fr.Function || (!strings.Contains(fr.Function, ".") && lastPart(s.Qualname) == fr.Function) {
				same = append(same, s)
			}
		}
	}
	if rank < len(same) {
		return same[rank], nil
	}
	return nil, fmt.Errorf("not found")
}

// rank is the scope's rank among the old file's scopes of the same name
// (a function defined twice).
func (m *editMapper) rank(f *astinfo.File, sc *astinfo.Scope, fr *wire.Frame) int {
	if fr.Module {
		return 0
	}
	var same []*astinfo.Scope
	if fr.ClassBody {
		same = classesNamed(f, fr.Function)
	} else {
		for _, s := range f.Scopes()[1:] {
			if s.Qualname == sc.Qualname {
				same = append(same, s)
			}
		}
	}
	for i, s := range same {
		if s.Node.Equal(sc.Node) {
			return i
		}
	}
	return 0
}

func classesNamed(f *astinfo.File, qualname string) []*astinfo.Scope {
	var out []*astinfo.Scope
	for _, n := range astinfo.FindNodes(f.Root, "class_definition") {
		if f.Text(n.ChildByFieldName("name")) == lastPart(qualname) {
			out = append(out, &astinfo.Scope{Node: n, Qualname: qualname})
		}
	}
	return out
}

func lastPart(q string) string {
	if i := strings.LastIndex(q, "."); i >= 0 {
		return q[i+1:]
	}
	return q
}

// locate is the chain of units from the block down to the one executing line.
func (m *editMapper) locate(f *astinfo.File, block *sitter.Node, line int) []unit {
	for _, u := range m.units(f, block) {
		n := u.node
		if line < astinfo.Line(n) || line > astinfo.EndLine(n) {
			continue
		}
		inner := m.inner(f, n)
		if len(inner) == 0 || line < bodyLine(n) {
			if len(inner) > 0 {
				u.key, u.header = headerKey(f, n), true
			}
			return []unit{u}
		}
		for _, c := range inner {
			if line >= astinfo.Line(c.node) && line <= astinfo.EndLine(c.node) {
				return append([]unit{u}, m.locateIn(f, c, line)...)
			}
		}
		u.key, u.header = headerKey(f, n), true
		return []unit{u}
	}
	return nil
}

// locateIn continues locate inside unit c (a statement or clause of the
// enclosing unit's suites).
func (m *editMapper) locateIn(f *astinfo.File, c unit, line int) []unit {
	inner := m.inner(f, c.node)
	if len(inner) == 0 || line < bodyLine(c.node) {
		if len(inner) > 0 {
			c.key, c.header = headerKey(f, c.node), true
		}
		return []unit{c}
	}
	for _, d := range inner {
		if line >= astinfo.Line(d.node) && line <= astinfo.EndLine(d.node) {
			return append([]unit{c}, m.locateIn(f, d, line)...)
		}
	}
	c.key, c.header = headerKey(f, c.node), true
	return []unit{c}
}

// units are the statements of a block (or module), each keyed by its
// whole text, or by its header when it is compound.
func (m *editMapper) units(f *astinfo.File, block *sitter.Node) []unit {
	var out []unit
	for _, s := range astinfo.Statements(block) {
		out = append(out, m.unitOf(f, s))
	}
	return out
}

func (m *editMapper) unitOf(f *astinfo.File, n *sitter.Node) unit {
	if len(m.inner(f, n)) > 0 {
		return unit{node: n, key: headerKey(f, n)}
	}
	return unit{node: n, key: normText(f.Text(n))}
}

// inner are the units directly inside a compound statement or clause: the
// statements of its blocks and its clauses, in order. Function and class
// definitions are not entered (another scope).
func (m *editMapper) inner(f *astinfo.File, n *sitter.Node) []unit {
	switch n.Type() {
	case "function_definition", "class_definition", "decorated_definition":
		return nil
	}
	var out []unit
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		switch c.Type() {
		case "block":
			for _, s := range astinfo.Statements(c) {
				out = append(out, m.unitOf(f, s))
			}
			for j := 0; j < int(c.NamedChildCount()); j++ {
				if cc := c.NamedChild(j); cc.Type() == "case_clause" {
					out = append(out, unit{node: cc, key: headerKey(f, cc)})
				}
			}
		case "elif_clause", "else_clause", "except_clause", "except_group_clause", "finally_clause", "case_clause":
			out = append(out, unit{node: c, key: headerKey(f, c)})
		}
	}
	return out
}

// bodyLine is the first line of n's first block (its body).
func bodyLine(n *sitter.Node) int {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == "block" {
			return astinfo.Line(c)
		}
	}
	return astinfo.EndLine(n) + 1
}

// headerKey is a compound statement's or clause's header (up to its first
// block); a try statement's also holds its handlers' headers and whether it
// has else and finally: a frame inside it depends on them.
func headerKey(f *astinfo.File, n *sitter.Node) string {
	end := n.EndByte()
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == "block" {
			end = c.StartByte()
			break
		}
	}
	key := n.Type() + ":" + normText(string(f.Src[n.StartByte():end]))
	if n.Type() == "try_statement" {
		for i := 0; i < int(n.NamedChildCount()); i++ {
			c := n.NamedChild(i)
			if c.Type() != "block" {
				key += "|" + headerKey(f, c)
			}
		}
	}
	return key
}

// normText is text with each line's indentation and trailing spaces gone.
func normText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

func rankOf(us []unit, u unit) int {
	r := 0
	for _, o := range us {
		if o.node.Equal(u.node) {
			return r
		}
		if o.key == u.key {
			r++
		}
	}
	return r
}

func nthWithKey(us []unit, u unit, rank int) *unit {
	for i := range us {
		if us[i].key == u.key {
			if rank == 0 {
				return &us[i]
			}
			rank--
		}
	}
	return nil
}

// guessLine is the new line of the unit at the old one's place (the same
// kind of statement at the same rank among its kind), for a refusal.
func guessLine(newUs, oldUs []unit, u unit) int {
	rank := 0
	for _, o := range oldUs {
		if o.node.Equal(u.node) {
			break
		}
		if o.node.Type() == u.node.Type() {
			rank++
		}
	}
	for _, n := range newUs {
		if n.node.Type() == u.node.Type() {
			if rank == 0 {
				return astinfo.Line(n.node)
			}
			rank--
		}
	}
	if len(newUs) > 0 {
		return astinfo.Line(newUs[len(newUs)-1].node)
	}
	return astinfo.Line(u.node)
}

func describeUnit(n *sitter.Node) string {
	switch n.Type() {
	case "for_statement":
		return "for loop"
	case "while_statement":
		return "while loop"
	case "try_statement":
		return "try statement (its handlers)"
	case "with_statement":
		return "with statement"
	case "if_statement":
		return "if statement"
	case "match_statement":
		return "match statement"
	case "except_clause", "except_group_clause":
		return "except clause"
	case "elif_clause":
		return "elif clause"
	case "else_clause":
		return "else clause"
	case "finally_clause":
		return "finally clause"
	case "case_clause":
		return "case clause"
	}
	return strings.ReplaceAll(n.Type(), "_", " ")
}
