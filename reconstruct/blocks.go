package reconstruct

// The code that finishes a frame from its recorded position: the statement
// at the position (emitPosition, by mode), then the rest of each enclosing
// block from the inside out (emitLevel, emitWrap, by block). Each mode's
// and each block's rule is in the file of its construct: loop.go,
// loop_for.go, loop_while.go, with.go, try.go, if.go, match.go,
// imports.go, call.go, frame_classbody.go.

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// emitLevel emits, at nesting level k of the block path, the code that
// finishes that block from the position, followed by the statements after it.
func (b *builder) emitLevel(e *emitter, fi *frameInfo, k, ind int, subst string) error {
	path := fi.path
	suite := path[k].Suite
	var anchor *sitter.Node // the statement in this suite that contains the position
	if k == len(path)-1 {
		anchor = fi.stmt
		if err := b.emitPosition(e, fi, ind, subst); err != nil {
			return err
		}
	} else {
		anchor = path[k+1].Owner
		if err := b.emitWrap(e, fi, k+1, ind, subst); err != nil {
			return err
		}
	}
	// the statements after the anchor in this suite
	anchor = clauseOwner(anchor)
	after := false
	for _, st := range astinfo.Statements(suite) {
		if after {
			e.node(ind, st, nil)
		}
		if st.Equal(anchor) {
			after = true
		}
	}
	return nil
}

// emitWrap emits the rest of the compound statement path[k].Owner, whose
// clause path[k] holds the position.
func (b *builder) emitWrap(e *emitter, fi *frameInfo, k, ind int, subst string) error {
	o := fi.path[k].Owner
	inner := func(ind2 int) error { return b.emitLevel(e, fi, k, ind2, subst) }
	switch o.Type() {
	case "if_statement":
		return b.wrapIf(inner, ind) // if.go
	case "match_statement":
		return b.wrapMatch(inner, ind) // match.go
	case "for_statement", "while_statement":
		return b.wrapLoop(e, fi, k, ind, inner) // loop.go
	case "with_statement":
		return b.wrapWith(e, fi, k, ind, inner) // with.go
	case "try_statement":
		return b.wrapTry(e, fi, k, ind, inner) // try.go
	}
	return b.refuse(fi.fr, astinfo.Line(o), "a position inside %s", strings.ReplaceAll(o.Type(), "_", " "))
}

// emitPosition emits the statement at the recorded position.
func (b *builder) emitPosition(e *emitter, fi *frameInfo, ind int, subst string) error {
	if fi.innermost && fi.mode != modeClause && fi.mode != modeDecorated {
		e.arrive(ind, fi.fr.Line)
	}
	switch fi.mode {
	case modeBefore:
		return b.emitBefore(e, fi, ind)
	case modeLoopNext:
		return b.emitLoopNext(e, fi, ind) // loop_for.go
	case modeClause:
		return b.emitClause(e, fi, ind)
	case modeCall:
		return b.emitCall(e, fi, ind, subst) // call.go
	case modeImport:
		return b.emitImport(e, fi, ind) // imports.go
	case modeClassBody:
		return b.emitClassBody(e, fi, ind) // frame_classbody.go
	case modeDecorated:
		return b.emitDecorated(e, fi, ind) // decorated.go
	case modeDecoratedStore:
		return b.emitDecoratedStore(e, fi, ind) // decorated.go
	}
	return nil
}

// emitBefore: the statement about to run, as written. The value stack must
// hold exactly the block items.
func (b *builder) emitBefore(e *emitter, fi *frameInfo, ind int) error {
	if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
		return b.stackMismatch(fi, fi.blockItems)
	}
	if fi.fr.Stack == nil && fi.blockItems > 0 {
		return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
	}
	e.node(ind, fi.stmt, nil)
	return nil
}

// emitClause: a clause being tested (if.go, try.go, match.go).
func (b *builder) emitClause(e *emitter, fi *frameInfo, ind int) error {
	st := fi.stmt
	if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
		return b.stackMismatch(fi, fi.blockItems)
	}
	if fi.fr.Stack == nil && st.Type() != "elif_clause" {
		return b.refuse(fi.fr, 0, "the value stack could not be read")
	}
	switch st.Type() {
	case "elif_clause":
		b.emitElifClause(e, fi, ind)
	case "except_clause":
		b.emitExceptClause(e, fi, ind)
	case "case_clause":
		b.emitCaseClause(e, fi, ind)
	}
	return nil
}

func (b *builder) stackMismatch(fi *frameInfo, want int) error {
	got := -1
	if fi.fr.Stack != nil {
		got = len(fi.fr.Stack)
	}
	if got < 0 {
		return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
	}
	if what := comprehensionAt(fi); what != "" {
		// 3.12+ runs comprehensions inline, in the frame of their function
		return b.refuse(fi.fr, 0, "%s in progress (its iteration state is on the value stack: %d items, %d expected)", what, got, want)
	}
	return b.refuse(fi.fr, 0, "an expression in progress (%d value-stack items, %d expected)", got, want)
}

// comprehensionAt names the comprehension or generator expression of
// fi's statement whose span holds the instruction in progress (3.11+
// record its position), "" when none does.
func comprehensionAt(fi *frameInfo) string {
	pos := fi.fr.Pos
	root := fi.stmt
	if root == nil && fi.scope != nil {
		root = fi.scope.Body() // (a call's frame: its statement is found after)
	}
	if root == nil || len(pos) < 4 || pos[0] == nil || pos[2] == nil {
		return ""
	}
	line, col := *pos[0], *pos[2]
	kinds := map[string]string{"list_comprehension": "a list comprehension", "set_comprehension": "a set comprehension",
		"dictionary_comprehension": "a dict comprehension", "generator_expression": "a generator expression"}
	what := ""
	// (the innermost holding the position: the last found going down)
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		endLine, endCol := int(n.EndPoint().Row)+1, int(n.EndPoint().Column)
		starts := astinfo.Line(n) < line || (astinfo.Line(n) == line && astinfo.Col(n) <= col)
		ends := endLine > line || (endLine == line && endCol > col)
		if !starts || !ends {
			return
		}
		if name, ok := kinds[n.Type()]; ok {
			what = name
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i))
		}
	}
	walk(root)
	return what
}

// clauseOwner is the statement a clause belongs to (the statement itself otherwise).
func clauseOwner(n *sitter.Node) *sitter.Node {
	switch n.Type() {
	case "elif_clause", "except_clause":
		return n.Parent()
	case "case_clause":
		return n.Parent().Parent()
	}
	return n
}

func childOfType(n *sitter.Node, typ string) *sitter.Node {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			return c
		}
	}
	return nil
}

func childrenOfType(n *sitter.Node, typ string) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			out = append(out, c)
		}
	}
	return out
}
