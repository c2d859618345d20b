package reconstruct

// An `if` statement. A position inside one of its bodies keeps nothing on
// the value stack: the rest of that body, then what follows the if. An
// elif about to be tested (its line event, mode clause) starts the chain
// again from that elif, as an `if` (the earlier tests were false); so
// does a call in progress in an elif's test (call.go). No runtime helper.

import (
	sitter "github.com/smacker/go-tree-sitter"
)

// elifResumable: an elif being tested can always be resumed.
func elifResumable() bool { return true }

// wrapIf: a position in a body finishes that body (what follows the if is
// emitted by the level above).
func (b *builder) wrapIf(inner func(int) error, ind int) error { return inner(ind) }

// emitElifClause emits the chain from elif clause fi.stmt on.
func (b *builder) emitElifClause(e *emitter, fi *frameInfo, ind int) {
	st := fi.stmt
	// `elif c:` is about to be tested: the earlier tests were false
	if fi.innermost {
		e.arrive(ind, fi.fr.Line)
	}
	e.span(ind, st.StartByte(), clauseOwner(st).EndByte(), []repl{{st.StartByte(), st.StartByte() + 4, "if"}})
}

// emitElifCall emits if statement st from the elif whose test holds the
// call in progress; repls rewrite the statement (the call and its operands).
func (b *builder) emitElifCall(e *emitter, fi *frameInfo, st *sitter.Node, ind int, repls []repl) error {
	var elif *sitter.Node
	for p := fi.call.Parent(); p != nil; p = p.Parent() {
		if p.Type() == "elif_clause" {
			elif = p
			break
		}
	}
	if elif == nil {
		return b.refuse(fi.fr, 0, "a call inside an if statement's body")
	}
	all := append([]repl{{elif.StartByte(), elif.StartByte() + 4, "if"}}, repls...)
	e.span(ind, elif.StartByte(), st.EndByte(), all)
	return nil
}

// callInElif: the call in progress of statement st (an if) is in an elif test.
func callInElif(fi *frameInfo, st *sitter.Node) bool {
	return st.Type() == "if_statement" && fi.call.StartByte() > st.ChildByFieldName("consequence").StartByte()
}
