package reconstruct

// Locals a resumed frame never set (issue 14: exact or refuse). A frame
// continues in the edited function with the locals it had at the
// snapshot, nothing else: a name the edited function may have set before
// the frame's position (above it, or anywhere in a loop around it, in an
// earlier iteration) and may read after it, before setting it again, is
// unbound in the resumed frame where the edited program has a value. Such
// a name is refused unless the recorded function could have set it by its
// position too (then the edited program has it unbound as well, or bound
// and saved in the snapshot): it is a new local, a renamed one, a new
// parameter, or one whose assignment the edit moved above the position.
//
// The analysis is tree-sitter's, by name, on the function's own scope
// (nested functions, lambdas, classes and comprehensions are other
// scopes; a walrus in a comprehension sets the function's name). Where
// it cannot tell, it assumes a name may be set before and read after:
// a branch not taken above the position still counts as set, a branch
// not taken below it as read.

import (
	"fmt"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/wire"
)

// checkNewLocals refuses a function frame whose edited function reads,
// at or after the new position newPos, a local that only the edit sets
// before it (oldPos is the position in the recorded function).
func checkNewLocals(of, nf *astinfo.File, oldFn, newFn, oldPos, newPos *sitter.Node, fr *wire.Frame, newLine int, file string) error {
	if fr.Module || fr.ClassBody || oldFn.Type() != "function_definition" || newFn.Type() != "function_definition" {
		// module and class-body names live in a namespace; the module's
		// added top-level definitions are run anew (EditedDefinitions)
		return nil
	}
	if normText(of.Text(oldFn)) == normText(nf.Text(newFn)) {
		return nil
	}
	oldSet := map[string]bool{}
	for _, b := range setBefore(of, oldFn, oldPos) {
		oldSet[b.name] = true
	}
	declared := declaredNames(nf, newFn)
	wasLocal := map[string]bool{}
	for _, names := range [][]string{fr.Varnames, fr.Cellvars} {
		for _, n := range names {
			wasLocal[n] = true
		}
	}
	done := map[string]bool{}
	for _, b := range setBefore(nf, newFn, newPos) {
		if done[b.name] || oldSet[b.name] || declared[b.name] {
			continue
		}
		done[b.name] = true
		if _, bound := fr.Locals[b.name]; bound {
			continue
		}
		if !(flow{nf, newFn, b.name}).liveAt(newPos) {
			continue
		}
		var what string
		switch {
		case isParameter(b.node):
			what = fmt.Sprintf("adds parameter %s (new line %d), used after the current line", b.name, astinfo.Line(b.node))
		case wasLocal[b.name]:
			what = fmt.Sprintf("sets local %s above the current line (new line %d) and uses it after it", b.name, astinfo.Line(b.node))
		default:
			what = fmt.Sprintf("adds local %s, set above the current line (new line %d) and used after it", b.name, astinfo.Line(b.node))
		}
		return &Refusal{What: fmt.Sprintf("the edit %s, in %s (old line %d, new line %d): a resumed frame never ran that assignment",
			what, frameName(fr), fr.Line, newLine), File: file, Line: fr.Line, Edited: true}
	}
	return nil
}

type binding struct {
	name string
	node *sitter.Node // the identifier set
}

// setBefore are the function's bindings that may have run when the frame
// is at pos, in text order: its parameters, those above pos, and those
// anywhere in a loop that holds pos (or is pos, at its header).
func setBefore(f *astinfo.File, fn, pos *sitter.Node) []binding {
	var loops []*sitter.Node
	for n := pos; n != nil && !n.Equal(fn); n = n.Parent() {
		if n.Type() == "for_statement" || n.Type() == "while_statement" {
			loops = append(loops, n)
		}
	}
	var out []binding
	for _, b := range bindings(f, fn) {
		ok := b.node.StartByte() < pos.StartByte()
		for _, l := range loops {
			ok = ok || within(b.node, l)
		}
		if ok {
			out = append(out, b)
		}
	}
	return out
}

func within(n, outer *sitter.Node) bool {
	return n.StartByte() >= outer.StartByte() && n.EndByte() <= outer.EndByte()
}

// bindings are the identifiers fn's own code sets (parameters included),
// in text order.
func bindings(f *astinfo.File, fn *sitter.Node) []binding {
	var out []binding
	var walk func(n *sitter.Node, comp bool)
	walk = func(n *sitter.Node, comp bool) {
		if n.Type() == "identifier" {
			// a comprehension's own targets are its scope's
			if _, store := role(n); store && (!comp || n.Parent().Type() == "named_expression") {
				out = append(out, binding{f.Text(n), n})
			}
			return
		}
		if !n.Equal(fn) {
			switch n.Type() {
			case "function_definition", "class_definition":
				walk(n.ChildByFieldName("name"), comp)
				return
			case "lambda":
				return
			case "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression":
				comp = true
			}
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i), comp)
		}
	}
	walk(fn.ChildByFieldName("parameters"), false)
	walk(fn.ChildByFieldName("body"), false)
	return out
}

// declaredNames are the names fn declares global or nonlocal (not locals).
func declaredNames(f *astinfo.File, fn *sitter.Node) map[string]bool {
	out := map[string]bool{}
	for _, t := range []string{"global_statement", "nonlocal_statement"} {
		for _, s := range astinfo.FindNodes(fn.ChildByFieldName("body"), t) {
			if enclosingScope(s).Equal(fn) {
				for i := 0; i < int(s.NamedChildCount()); i++ {
					out[f.Text(s.NamedChild(i))] = true
				}
			}
		}
	}
	return out
}

func enclosingScope(n *sitter.Node) *sitter.Node {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if t := p.Type(); t == "function_definition" || t == "class_definition" || t == "module" {
			return p
		}
	}
	return nil
}

func isParameter(id *sitter.Node) bool {
	for p := id.Parent(); p != nil; p = p.Parent() {
		switch p.Type() {
		case "parameters":
			return true
		case "block":
			return false
		}
	}
	return false
}

// role says whether an identifier is read and whether it is set where it
// stands (both for x in x += 1; neither for an attribute's or keyword's
// name, an import's module path, or a global declaration).
func role(id *sitter.Node) (load, store bool) {
	p := id.Parent()
	if p == nil {
		return true, false
	}
	field := func(name string) bool {
		c := p.ChildByFieldName(name)
		return c != nil && c.Equal(id)
	}
	switch p.Type() {
	case "attribute":
		return !field("attribute"), false
	case "keyword_argument":
		return !field("name"), false
	case "function_definition", "class_definition":
		return !field("name"), field("name")
	case "parameters", "lambda_parameters", "typed_parameter", "list_splat_pattern", "dictionary_splat_pattern":
		if p.Type() == "list_splat_pattern" && !isParameter(id) {
			return false, targetOf(p) != nil
		}
		return false, true
	case "default_parameter", "typed_default_parameter":
		return !field("name"), field("name")
	case "named_expression":
		return !field("name"), field("name")
	case "augmented_assignment":
		return true, field("left")
	case "global_statement", "nonlocal_statement":
		return false, false
	case "aliased_import":
		return false, field("alias")
	case "dotted_name":
		// import a.b sets a; from m import n sets n; a case pattern's
		// single name captures
		g := p.Parent()
		switch {
		case g == nil:
		case g.Type() == "import_statement" || g.Type() == "import_from_statement":
			m := g.ChildByFieldName("module_name")
			return false, p.NamedChild(0).Equal(id) && (m == nil || !m.Equal(p))
		case g.Type() == "aliased_import" || g.Type() == "relative_import":
			return false, false
		case (g.Type() == "case_pattern" || g.Type() == "keyword_pattern") && p.NamedChildCount() == 1:
			return false, true
		}
		return p.NamedChild(0).Equal(id), false
	case "keyword_pattern":
		return false, false
	case "splat_pattern":
		return false, true
	case "as_pattern":
		// case P as x (with and except put their name in an
		// as_pattern_target)
		if g := p.Parent(); g != nil && g.Type() == "case_pattern" && p.NamedChild(int(p.NamedChildCount())-1).Equal(id) {
			return false, true
		}
	}
	if targetOf(id) != nil {
		return false, true
	}
	return true, false
}

// targetOf is the statement or clause whose target n is (or is part of:
// a, (b, *c) = ...): an assignment, for loop, comprehension, with item or
// except clause; nil when n is not in a target.
func targetOf(n *sitter.Node) *sitter.Node {
	for c, p := n, n.Parent(); p != nil; c, p = p, p.Parent() {
		switch p.Type() {
		case "pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern", "tuple", "list", "parenthesized_expression":
			continue
		case "assignment", "for_statement", "for_in_clause":
			// (x: int alone sets nothing)
			if l := p.ChildByFieldName("left"); l != nil && l.Equal(c) && (p.Type() != "assignment" || p.ChildByFieldName("right") != nil) {
				return p
			}
		case "as_pattern_target":
			return p
		}
		return nil
	}
	return nil
}

// flow answers, for one name of one function, whether the code from a
// position on may read it before it sets it for sure.
type flow struct {
	f    *astinfo.File
	fn   *sitter.Node
	name string
}

// liveAt: from pos (the statement or clause being executed) to the
// function's end, the rest of each block around it, the next iterations
// of the loops around it and a try statement's later clauses.
func (w flow) liveAt(pos *sitter.Node) bool {
	if live, set := w.stmt(pos); live || set {
		return live
	}
	for n := pos; ; {
		p := n.Parent()
		if p == nil || p.Equal(w.fn) {
			return false
		}
		switch p.Type() {
		case "block":
			if n.Type() != "case_clause" {
				var rest []*sitter.Node
				for _, s := range astinfo.Statements(p) {
					if s.StartByte() > n.StartByte() {
						rest = append(rest, s)
					}
				}
				if live, set := w.seq(rest); live || set {
					return live
				}
			}
		case "for_statement", "while_statement":
			if b := p.ChildByFieldName("body"); b != nil && b.Equal(n) {
				if live, _ := w.stmt(p); live {
					return true
				}
			}
		case "try_statement":
			for i := 0; i < int(p.NamedChildCount()); i++ {
				c := p.NamedChild(i)
				if c.StartByte() <= n.StartByte() {
					continue
				}
				live, set := w.stmt(c)
				if live || set && c.Type() == "finally_clause" {
					return live
				}
			}
		}
		n = p
	}
}

// seq scans statements in order: may one read the name before the
// sequence sets it for sure (live), does the sequence set it for sure (set).
func (w flow) seq(stmts []*sitter.Node) (live, set bool) {
	for _, s := range stmts {
		if live, set := w.stmt(s); live || set {
			return live, set
		}
		switch s.Type() {
		case "return_statement", "raise_statement", "break_statement", "continue_statement":
			// the rest is not reached (where control goes on, the
			// caller scans anyway)
			return false, false
		}
	}
	return false, false
}

func (w flow) block(n *sitter.Node) (live, set bool) {
	if n == nil {
		return false, false
	}
	if n.Type() != "block" {
		n = blockOf(n)
	}
	return w.seq(astinfo.Statements(n))
}

// blockOf is a clause's block.
func blockOf(n *sitter.Node) *sitter.Node {
	for i := int(n.NamedChildCount()) - 1; i >= 0; i-- {
		if c := n.NamedChild(i); c.Type() == "block" {
			return c
		}
	}
	return nil
}

// stmt scans one statement or clause.
func (w flow) stmt(s *sitter.Node) (live, set bool) {
	switch s.Type() {
	case "if_statement":
		if w.reads(s.ChildByFieldName("condition")) {
			return true, false
		}
		live, all := w.block(s.ChildByFieldName("consequence"))
		hasElse := false
		for i := 0; i < int(s.NamedChildCount()) && !live; i++ {
			c := s.NamedChild(i)
			switch c.Type() {
			case "elif_clause", "else_clause":
				l, st := w.stmt(c)
				live, all, hasElse = l, all && st, c.Type() == "else_clause"
			}
		}
		return live, !live && all && hasElse
	case "elif_clause":
		if w.reads(s.ChildByFieldName("condition")) {
			return true, false
		}
		return w.block(s.ChildByFieldName("consequence"))
	case "else_clause", "finally_clause":
		return w.block(s)
	case "for_statement", "while_statement":
		if w.reads(s.ChildByFieldName("right")) || w.reads(s.ChildByFieldName("condition")) {
			return true, false
		}
		// the body runs after the target is set (when it is the name)
		if !w.sets(s.ChildByFieldName("left")) {
			if live, _ := w.block(s.ChildByFieldName("body")); live {
				return true, false
			}
		}
		live, _ := w.block(s.ChildByFieldName("alternative"))
		return live, false // the loop may not run: nothing set for sure
	case "try_statement":
		live, set := w.block(s.ChildByFieldName("body"))
		set = false // an exception may skip it
		for i := 0; i < int(s.NamedChildCount()) && !live; i++ {
			c := s.NamedChild(i)
			switch c.Type() {
			case "except_clause", "except_group_clause", "else_clause", "finally_clause":
				l, st := w.stmt(c)
				live, set = l, set || st && c.Type() == "finally_clause"
			}
		}
		return live, set
	case "except_clause", "except_group_clause":
		for i := 0; i < int(s.NamedChildCount()); i++ {
			if c := s.NamedChild(i); c.Type() != "block" {
				if w.reads(c) {
					return true, false
				}
				if w.sets(c) {
					return false, false // the handler's own name
				}
			}
		}
		return w.block(s)
	case "with_statement":
		for i := 0; i < int(s.NamedChildCount()); i++ {
			if c := s.NamedChild(i); c.Type() == "with_clause" {
				if w.reads(c) {
					return true, false
				}
				if w.sets(c) {
					return false, true
				}
			}
		}
		return w.block(s.ChildByFieldName("body"))
	case "match_statement", "case_clause":
		// a read anywhere in it counts, a case's capture before it too
		return w.reads(s), false
	case "expression_statement", "import_statement", "import_from_statement",
		"function_definition", "class_definition", "decorated_definition":
		if w.reads(s) {
			return true, false
		}
		if s.Type() == "expression_statement" && (s.NamedChildCount() != 1 || s.NamedChild(0).Type() != "assignment") {
			return false, false // a walrus may not run
		}
		return false, w.sets(s)
	}
	return w.reads(s), false
}

// reads: the name is read somewhere in n (in nested scopes too, unless
// they set a name of their own).
func (w flow) reads(n *sitter.Node) bool {
	if n == nil {
		return false
	}
	if n.Type() == "identifier" {
		load, _ := role(n)
		return load && w.f.Text(n) == w.name
	}
	switch n.Type() {
	case "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression":
		// with the name as its own target, only its first iterable is ours
		var first *sitter.Node
		own := false
		for i := 0; i < int(n.NamedChildCount()); i++ {
			if c := n.NamedChild(i); c.Type() == "for_in_clause" {
				if first == nil {
					first = c.ChildByFieldName("right")
				}
				own = own || w.sets(c.ChildByFieldName("left"))
			}
		}
		if own {
			return w.reads(first)
		}
	case "function_definition", "lambda", "class_definition":
		if !n.Equal(w.fn) && w.ownName(n) {
			// its defaults, decorators and bases are still ours
			for i := 0; i < int(n.NamedChildCount()); i++ {
				c := n.NamedChild(i)
				if b := n.ChildByFieldName("body"); (b == nil || !c.Equal(b)) && w.reads(c) {
					return true
				}
			}
			return false
		}
	}
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if w.reads(n.NamedChild(i)) {
			return true
		}
	}
	return false
}

// ownName: the nested scope n sets the name itself (a local of its own).
func (w flow) ownName(n *sitter.Node) bool {
	found := false
	name := n.ChildByFieldName("name") // nil for a lambda
	var walk func(c *sitter.Node)
	walk = func(c *sitter.Node) {
		if found {
			return
		}
		if c.Type() == "identifier" {
			if _, store := role(c); store && w.f.Text(c) == w.name && (name == nil || !c.Equal(name)) {
				found = true
			}
			return
		}
		for i := 0; i < int(c.NamedChildCount()); i++ {
			walk(c.NamedChild(i))
		}
	}
	for i := 0; i < int(n.NamedChildCount()); i++ {
		walk(n.NamedChild(i))
	}
	return found
}

// sets: the name is set in n (outside nested scopes).
func (w flow) sets(n *sitter.Node) bool {
	if n == nil {
		return false
	}
	if n.Type() == "identifier" {
		_, store := role(n)
		return store && w.f.Text(n) == w.name
	}
	switch n.Type() {
	case "lambda", "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression":
		return false
	case "function_definition", "class_definition":
		return w.sets(n.ChildByFieldName("name"))
	}
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if w.sets(n.NamedChild(i)) {
			return true
		}
	}
	return false
}
