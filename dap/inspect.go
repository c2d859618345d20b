package dap

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/wire"
)

// pageSize is where a container's children are paged (VS Code asks for
// them in chunks when indexedVariables is larger).
const pageSize = 100

// handles maps the numbers the client holds to what they name. The
// counters never reset, and the maps are cleared whenever the program or
// the cursor moves, so a stale reference fails loudly.
type handles struct {
	next    int
	bp      int
	frames  map[int]frameRef
	vars    map[int]*varNode
	sources map[string]int
	shas    map[int]string
}

type frameRef struct {
	tok    session.Token
	frame  int // index into the thread's frames
	thread int // which thread of the snapshot (threadOf): 0 the stopped one
}

// varNode is an expandable value: its recorded children, and where to
// fetch more from the live program while it is still at that stop.
type varNode struct {
	tok      session.Token
	snap     string
	kids     []wire.Value
	total    int
	more     bool // nested deeper than the snapshot recorded
	live     *session.LiveRoot
	path     []int
	evalName string
	scope    bool   // a scope: children are named roots
	frame    int    // the frame of a scope (setVariable)
	module   string // a globals scope's module
	// the top frame at a line of the past, whose views hold no children
	// and no globals: what this node shows comes from the line made a
	// recorded snapshot when it is first expanded (session.PastFrame)
	past *pastRef
}

// pastRef is a node of the top frame at a line of the past to fill in
// from its recorded snapshot: the locals scope (its roots then get refs
// of their own), a local's children (name), or its module's globals.
type pastRef struct {
	s       *wire.Snapshot
	frame   int
	name    string // a local's children ("": the scope itself)
	globals bool   // the globals scope
}

func (h *handles) reset() {
	h.frames = map[int]frameRef{}
	h.vars = map[int]*varNode{}
	if h.sources == nil {
		h.sources = map[string]int{}
		h.shas = map[int]string{}
	}
}

func (h *handles) add() int { h.next++; return h.next }

// ------------------------------------------------------------------ threads, stack

// onThreads lists the thread that stopped and the snapshot's other
// threads, by name (threads.go: their ids).
func (c *conn) onThreads(req *request) (any, error) {
	_, s, _, err := c.dbg.Current()
	if err != nil || s == nil {
		return godap.ThreadsResponseBody{Threads: []godap.Thread{{Id: mainThreadID, Name: "MainThread"}}}, nil
	}
	name := s.Meta.Thread
	if name == "" {
		name = "MainThread"
	}
	stopped, others := c.threadIDs(s)
	out := []godap.Thread{{Id: stopped, Name: name}}
	for k, t := range s.Meta.ThreadStacks {
		out = append(out, godap.Thread{Id: others[k], Name: t.Name})
	}
	return godap.ThreadsResponseBody{Threads: out}, nil
}

func (c *conn) onStackTrace(req *request) (any, error) {
	var a godap.StackTraceArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	st, s, live, err := c.dbg.Current()
	if err != nil {
		return nil, err
	}
	which := c.threadOf(s, a.ThreadId)
	if which < 0 {
		return nil, errorf("no thread %d at this stop (the threads request lists them)", a.ThreadId)
	}
	all := framesOf(s, which)
	past := !live // (another thread's frames at the live stop are not the past)
	tok := c.dbg.Token()
	frames := []godap.StackFrame{} // [] when there are none: null breaks clients
	n := len(all)
	for k := n - 1; k >= 0; k-- {
		f := all[k]
		if f.Library && k != n-1 && c.justMyCode {
			continue // as debugpy: justMyCode shows the program's frames (asyncio's, a framework's: hidden)
		}
		id := c.h.add()
		c.h.frames[id] = frameRef{tok: tok, frame: k, thread: which}
		name := f.Function
		if f.Module {
			name = "<module>"
		}
		if f.Coroutine && s.Meta.Task != "" && which == 0 {
			name += "  (task " + s.Meta.Task + ")" // the asyncio task that runs it
		}
		if k == n-1 && past {
			name += "  [" + s.ID + "]"
		}
		sf := godap.StackFrame{Id: id, Name: name, Line: c.lineOut(f.Line), Column: c.colOut(1), Source: c.sourceFor(f)}
		if f.Library {
			sf.PresentationHint = "subtle"
		}
		if col, endLine, endCol, ok := frameColumns(f, k == n-1 || f.Kind != "call"); ok {
			sf.Column = c.colOut(col)
			if endLine > 0 {
				sf.EndLine, sf.EndColumn = c.lineOut(endLine), c.colOut(endCol)
			}
		} else if k == n-1 || !f.Library {
			if col := indentColumn(f); col > 0 {
				sf.Column = c.colOut(col)
			}
		}
		frames = append(frames, sf)
	}
	_ = st
	total := len(frames)
	start := min(max(a.StartFrame, 0), total)
	frames = frames[start:]
	if a.Levels > 0 && a.Levels < len(frames) {
		frames = frames[:a.Levels]
	}
	return godap.StackTraceResponseBody{StackFrames: frames, TotalFrames: total}, nil
}

// frameColumns gives the span of the call in progress in a caller frame
// (from the recorded instruction position, 3.11+).
func frameColumns(f wire.Frame, top bool) (col, endLine, endCol int, ok bool) {
	if top || len(f.Pos) < 4 || f.Pos[2] == nil || f.Pos[0] == nil || *f.Pos[0] != f.Line {
		return 0, 0, 0, false
	}
	col = *f.Pos[2] + 1
	if f.Pos[1] != nil && f.Pos[3] != nil {
		endLine, endCol = *f.Pos[1], *f.Pos[3]+1
	}
	return col, endLine, endCol, true
}

// indentColumn is the first column of the statement on the frame's line.
func indentColumn(f wire.Frame) int {
	b, err := os.ReadFile(f.File)
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	if f.Line < 1 || f.Line > len(lines) {
		return 0
	}
	l := lines[f.Line-1]
	return len(l) - len(strings.TrimLeft(l, " \t")) + 1
}

func (c *conn) sourceFor(f wire.Frame) *godap.Source {
	src := &godap.Source{Name: filepath.Base(f.File), Path: f.File}
	if f.Library {
		src.PresentationHint = "deemphasize"
	}
	if _, err := os.Stat(f.File); err != nil && f.SHA256 != "" {
		// the file is gone (a recording from elsewhere): serve the recorded text
		ref, ok := c.h.sources[f.SHA256]
		if !ok {
			ref = len(c.h.sources) + 1
			c.h.sources[f.SHA256] = ref
			c.h.shas[ref] = f.SHA256
		}
		src.Path = ""
		src.SourceReference = ref
		src.Origin = "recorded"
	}
	return src
}

func (c *conn) onSource(req *request) (any, error) {
	var a godap.SourceArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	ref := a.SourceReference
	if a.Source != nil && a.Source.SourceReference != 0 {
		ref = a.Source.SourceReference
	}
	if sha, ok := c.h.shas[ref]; ok {
		text, err := c.dbg.Source(sha)
		if err != nil {
			return nil, err
		}
		return godap.SourceResponseBody{Content: text, MimeType: "text/x-python"}, nil
	}
	if a.Source != nil && a.Source.Path != "" {
		b, err := os.ReadFile(a.Source.Path)
		if err != nil {
			return nil, err
		}
		return godap.SourceResponseBody{Content: string(b), MimeType: "text/x-python"}, nil
	}
	return nil, errorf("unknown sourceReference %d", ref)
}

// ------------------------------------------------------------------ scopes, variables

func (c *conn) frameFor(id int) (frameRef, *wire.Snapshot, bool, error) {
	fr, ok := c.h.frames[id]
	if !ok {
		return fr, nil, false, errorf("unknown or stale frameId %d (the program or the cursor has moved)", id)
	}
	_, s, live, err := c.dbg.Current()
	if err != nil {
		return fr, nil, false, err
	}
	if c.dbg.Token() != fr.tok {
		return fr, nil, false, errorf("stale frameId %d", id)
	}
	return fr, s, live, nil
}

func (c *conn) onScopes(req *request) (any, error) {
	var a godap.ScopesArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	fr, s, live, err := c.frameFor(a.FrameId)
	if err != nil {
		return nil, err
	}
	f := framesOf(s, fr.thread)[fr.frame]
	live = live && fr.thread == 0
	if s.N < 0 && fr.thread == 0 && !f.Library && fr.frame != session.TopUserFrame(s) {
		// a caller at a line of the past: its values now, not at its own
		// last line (its callee may have changed them), and its globals,
		// from the line made a recorded snapshot (once); else its views
		if rs, rf, err := c.dbg.PastFrame(s, fr.frame); err == nil {
			s, f = rs, rs.Frames[rf]
		}
	}
	// the top frame at a line of the past: its locals' views, expanded and
	// its globals read from the line made a recorded snapshot on demand
	pastTop := s.N < 0 && fr.thread == 0 && !f.Library && fr.frame == session.TopUserFrame(s)
	scopes := []godap.Scope{}
	if f.Library {
		return godap.ScopesResponseBody{Scopes: []godap.Scope{}}, nil
	}
	if !f.Module {
		vals := session.SortedValues(f.Locals)
		ref := c.h.add()
		node := &varNode{tok: fr.tok, snap: s.ID, kids: vals, total: len(vals), scope: true, frame: fr.frame}
		if fr.thread > 0 {
			node.frame = -1 // another thread's: views, nothing to set
		}
		c.h.vars[ref] = node
		if live {
			node.live = &session.LiveRoot{Frame: fr.frame}
		}
		if pastTop {
			node.past = &pastRef{s: s, frame: fr.frame}
		}
		scopes = append(scopes, godap.Scope{Name: "Locals", PresentationHint: "locals", VariablesReference: ref, NamedVariables: len(vals)})
	}
	if pastTop {
		// its module's globals as the program had them there, when
		// expanded (the line's views hold none)
		ref := c.h.add()
		c.h.vars[ref] = &varNode{tok: fr.tok, snap: s.ID, scope: true, frame: fr.frame,
			past: &pastRef{s: s, frame: fr.frame, globals: true}}
		scopes = append(scopes, godap.Scope{Name: "Globals", VariablesReference: ref, Expensive: true})
		return godap.ScopesResponseBody{Scopes: scopes}, nil
	}
	if g, ok := s.Globals[f.ModuleName]; ok && fr.thread == 0 {
		vals := session.SortedValues(g)
		ref := c.h.add()
		node := &varNode{tok: fr.tok, snap: s.ID, kids: vals, total: len(vals), scope: true, frame: fr.frame}
		if !f.Module {
			node.module = f.ModuleName
		}
		if live {
			node.live = &session.LiveRoot{Frame: fr.frame, Module: f.ModuleName}
		}
		c.h.vars[ref] = node
		name := "Globals"
		if f.Module {
			name = "Globals (" + f.ModuleName + ")"
		}
		scopes = append(scopes, godap.Scope{Name: name, VariablesReference: ref, NamedVariables: len(vals)})
	}
	return godap.ScopesResponseBody{Scopes: scopes}, nil
}

// fillPast fills node in from its line of the past made a recorded
// snapshot (once per line: session.PastFrame): a local's children, or
// its module's globals.
func (c *conn) fillPast(node *varNode) error {
	p := node.past
	node.past = nil
	rs, rf, err := c.dbg.PastFrame(p.s, p.frame)
	if err != nil {
		return err
	}
	node.snap = rs.ID
	if p.globals {
		node.module = rs.Frames[rf].ModuleName
		node.kids = session.SortedValues(rs.Globals[node.module])
		node.total = len(node.kids)
		return nil
	}
	v, ok := rs.Frames[rf].Locals[p.name]
	if !ok {
		return errorf("%s is not a local of this frame in %s", p.name, rs.ID)
	}
	node.kids, node.total, node.more = v.Children, len(v.Children), v.More && len(v.Children) == 0
	if v.Len != nil {
		node.total = *v.Len
	}
	return nil
}

// expandable says whether a value of a line of the past's views may have
// children (its view there has none: type and repr only).
func expandable(v wire.Value) bool {
	switch v.Type {
	case "", "int", "float", "complex", "str", "bytes", "bool", "NoneType":
		return false
	}
	return true
}

// variable turns a value into a DAP variable, registering its children.
// pos is its position among its parent's children (for live fetches);
// -1 for a root named by name.
func (c *conn) variable(parent *varNode, v wire.Value, pos int, evalName string) godap.Variable {
	out := godap.Variable{Name: v.Name, Value: v.Repr, Type: v.Type, EvaluateName: evalName}
	total := len(v.Children)
	if v.Len != nil {
		total = *v.Len
	}
	var past *pastRef
	if parent.past != nil && parent.past.name == "" && !parent.past.globals && pos < 0 && expandable(v) {
		// a local at a line of the past: its children come when expanded
		p := *parent.past
		p.name = v.Name
		past = &p
	}
	if len(v.Children) > 0 || v.More || total > 0 || past != nil {
		node := &varNode{tok: parent.tok, snap: parent.snap, kids: v.Children, total: total, more: v.More && len(v.Children) == 0, evalName: evalName, frame: parent.frame, past: past}
		if parent.live != nil {
			root := *parent.live
			path := append([]int(nil), parent.path...)
			if pos < 0 {
				root.Name = v.Name
			} else {
				path = append(path, pos)
			}
			node.live, node.path = &root, path
		}
		ref := c.h.add()
		c.h.vars[ref] = node
		out.VariablesReference = ref
		if past != nil {
			return out // (its count is known once it is filled in)
		}
		if total > pageSize {
			out.IndexedVariables = total
		} else {
			out.NamedVariables = total
		}
	}
	return out
}

func (c *conn) onVariables(req *request) (any, error) {
	var a godap.VariablesArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	node, ok := c.h.vars[a.VariablesReference]
	if !ok {
		return nil, errorf("unknown or stale variablesReference %d (the program or the cursor has moved)", a.VariablesReference)
	}
	if node.past != nil && (node.past.name != "" || node.past.globals) {
		if err := c.fillPast(node); err != nil {
			return nil, err
		}
	}
	if a.Filter == "named" && node.total > pageSize {
		return godap.VariablesResponseBody{Variables: []godap.Variable{}}, nil
	}
	end := node.total
	if node.more && end == 0 {
		end = pageSize
	}
	start := min(max(a.Start, 0), end)
	if a.Count > 0 && a.Count < end-start {
		end = start + a.Count
	}
	isRoot := node.scope
	vars := []godap.Variable{}
	for i := start; i < end && i < len(node.kids); i++ {
		k := node.kids[i]
		pos := i
		if isRoot {
			pos = -1
		}
		vars = append(vars, c.variable(node, k, pos, childEval(node.evalName, k.Name, isRoot)))
	}
	if end > len(node.kids) {
		from := start
		if from < len(node.kids) {
			from = len(node.kids)
		}
		if node.live != nil && !isRoot && c.dbg.IsLive(node.tok) {
			kids, total, err := c.dbg.LiveChildren(node.tok, *node.live, node.path, from, end-from)
			if err != nil {
				return nil, err
			}
			if node.more && total < end {
				end = total
			}
			for j, k := range kids {
				vars = append(vars, c.variable(node, k, from+j, childEval(node.evalName, k.Name, false)))
			}
		} else if node.more {
			vars = append(vars, godap.Variable{Name: "…", Value: "(not recorded: deeper than " + node.snap + " keeps)"})
		} else {
			vars = append(vars, godap.Variable{Name: "…", Value: fmt.Sprintf("(%d more items not recorded in %s)", end-from, node.snap)})
		}
	}
	return godap.VariablesResponseBody{Variables: vars}, nil
}

func (c *conn) onSetVariable(req *request) (any, error) {
	var a godap.SetVariableArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	node, ok := c.h.vars[a.VariablesReference]
	if !ok {
		return nil, errorf("unknown or stale variablesReference %d (the program or the cursor has moved)", a.VariablesReference)
	}
	if node.frame < 0 {
		return nil, errorf("values of another thread's frames cannot be set (only the stopped thread's, at the live stop)")
	}
	target := childEval(node.evalName, a.Name, node.scope)
	if node.scope && node.module != "" {
		// a global, from a function's frame
		target = fmt.Sprintf("globals()[%q]", a.Name)
	}
	if target == "" {
		return nil, errorf("%s cannot be assigned to by name", a.Name)
	}
	v, err := c.dbg.SetVariable(node.tok, node.frame, target, a.Value)
	if err != nil {
		return nil, err
	}
	c.invalidated()
	return godap.SetVariableResponseBody{Value: v.Repr, Type: v.Type}, nil
}

// invalidated: the present stop's values changed (snapshotted again); the
// frames stay, the variables' handles go, and the client fetches them again.
// (Before the response: no handle made for it is dropped after it.)
func (c *conn) invalidated() {
	c.h.vars = map[int]*varNode{}
	c.event("invalidated", godap.InvalidatedEventBody{Areas: []godap.InvalidatedAreas{"variables"}, ThreadId: c.stoppedThread()})
}

func childEval(parent, name string, root bool) string {
	if root || parent == "" {
		if root {
			return name
		}
		return ""
	}
	switch {
	case strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]"):
		return parent + name
	case strings.HasPrefix(name, "{"):
		return ""
	case isIdent(name):
		return parent + "." + name
	default:
		return parent + "[" + name + "]"
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// ------------------------------------------------------------------ evaluate, exceptions

func (c *conn) onEvaluate(req *request) (any, error) {
	var a godap.EvaluateArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	if strings.TrimSpace(a.Expression) == "" {
		return nil, errorf("nothing to evaluate")
	}
	var frame int
	tok := c.dbg.Token()
	if a.FrameId != 0 {
		fr, s, _, err := c.frameFor(a.FrameId)
		if err != nil {
			return nil, err
		}
		if fr.thread > 0 {
			// another thread's frame: its recorded views
			v, err := session.EvalPast(&wire.Snapshot{Frames: framesOf(s, fr.thread)}, fr.frame, a.Expression)
			if err != nil {
				return nil, err
			}
			v.Name = a.Expression
			out := c.variable(&varNode{tok: fr.tok}, v, -1, a.Expression)
			return godap.EvaluateResponseBody{Result: out.Value, Type: out.Type, VariablesReference: out.VariablesReference}, nil
		}
		frame, tok = fr.frame, fr.tok
	} else {
		_, s, _, err := c.dbg.Current()
		if err != nil {
			return nil, err
		}
		frame = max(session.TopUserFrame(s), 0)
	}
	ctx := a.Context
	if ctx == "clipboard" {
		ctx = "watch"
	}
	if args, ok := strings.CutPrefix(strings.TrimSpace(a.Expression), ":history "); ok && ctx == "repl" {
		f := strings.Fields(args)
		if len(f) == 2 {
			// ":history NAME K": go to the line that gave NAME its K-th value
			k, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, errorf(":history %s K: K is the number of a value :history %s lists", f[0], f[0])
			}
			ch, err := c.dbg.GoToChange(frame, f[0], k)
			if err != nil {
				return nil, err
			}
			return godap.EvaluateResponseBody{Result: fmt.Sprintf("at line %d, which gave %s the value %s", ch.Line, f[0], ch.Repr)}, nil
		}
		return c.valueHistory(frame, strings.TrimSpace(args))
	}
	res, err := c.dbg.Evaluate(tok, frame, a.Expression, ctx)
	if res.Refreshed {
		c.invalidated()
	}
	if err != nil {
		return nil, err
	}
	_, s, _, _ := c.dbg.Current()
	snapID := ""
	if s != nil {
		snapID = s.ID
	}
	node := &varNode{tok: tok, snap: snapID}
	if res.Live && res.Ref > 0 {
		node.live = &session.LiveRoot{Result: res.Ref}
	}
	res.Value.Name = a.Expression
	if ctx == "repl" && res.Value.Type == "NoneType" {
		// as debugpy (and Python's own prompt): a statement's or a call's None shows nothing
		return godap.EvaluateResponseBody{}, nil
	}
	v := c.variable(node, res.Value, -1, a.Expression)
	if node.live != nil && v.VariablesReference != 0 {
		// the result itself is the root: children are positions under it
		n := c.h.vars[v.VariablesReference]
		n.live, n.path = &session.LiveRoot{Result: res.Ref}, nil
	}
	return godap.EvaluateResponseBody{Result: v.Value, Type: v.Type, VariablesReference: v.VariablesReference,
		NamedVariables: v.NamedVariables, IndexedVariables: v.IndexedVariables}, nil
}

// valueHistory answers the Debug Console's ":history NAME": the values
// NAME took in the frame, and the line that gave each (line history).
func (c *conn) valueHistory(frame int, name string) (any, error) {
	changes, err := c.dbg.ValueHistory(frame, name)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s took %d value(s):", name, len(changes))
	for k, ch := range changes {
		if ch.Line == 0 {
			fmt.Fprintf(&b, "\n  [%d] %s  (before the history begins)", k+1, ch.Repr)
		} else {
			fmt.Fprintf(&b, "\n  [%d] %s  (from line %d)", k+1, ch.Repr, ch.Line)
		}
	}
	fmt.Fprintf(&b, "\n(:history %s K goes to the line that gave value K)", name)
	return godap.EvaluateResponseBody{Result: b.String()}, nil
}

func (c *conn) onExceptionInfo(req *request) (any, error) {
	st, s, _, err := c.dbg.Current()
	if err != nil {
		return nil, err
	}
	if e := st.Exception; e != nil {
		mode := godap.ExceptionBreakMode("unhandled")
		if e.Mode == "always" {
			mode = "always"
		}
		return godap.ExceptionInfoResponseBody{ExceptionId: e.Type, Description: e.Message, BreakMode: mode,
			Details: &godap.ExceptionDetails{Message: e.Message, TypeName: e.Type, FullTypeName: e.Type, StackTrace: e.Traceback}}, nil
	}
	if s.Reason == "exception" {
		return godap.ExceptionInfoResponseBody{ExceptionId: s.Label, Description: s.Label + " (recorded in " + s.ID + ")", BreakMode: "unhandled",
			Details: &godap.ExceptionDetails{TypeName: s.Label}}, nil
	}
	return nil, errorf("%s is not an exception stop", s.ID)
}
