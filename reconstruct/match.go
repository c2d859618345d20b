package reconstruct

// A `match` statement. A position inside a case body keeps nothing on the
// value stack: the rest of the body, then what follows the match. On
// 3.11+ a case clause being tested (its line event, mode clause) has the
// subject on the value stack: the match is emitted again over the recorded
// subject, from that case on: `match RT.S(i, j):` with the case clauses as
// written (earlier cases did not match). Before 3.11 a case line is refused
// (plan.go analyseLine). Helpers: Runtime.S.

import (
	"github.com/pyreplay/pyreplay/astinfo"
)

// caseClauseItems is what a case clause being tested adds to the value
// stack: the subject.
const caseClauseItems = 1

// caseResumable: a case clause being tested can be resumed (3.11+).
func (b *builder) caseResumable() bool { return b.ver.AtLeast(11) }

// wrapMatch: a position in a case body finishes that body (what follows the
// match is emitted by the level above).
func (b *builder) wrapMatch(inner func(int) error, ind int) error { return inner(ind) }

// emitCaseClause emits the match from case clause fi.stmt on, over the
// recorded subject.
func (b *builder) emitCaseClause(e *emitter, fi *frameInfo, ind int) {
	st := fi.stmt
	owner := clauseOwner(st)
	// the subject is evaluated already: the line event is the case's
	if fi.innermost {
		e.arrive(ind, fi.fr.Line)
	}
	e.synth(ind, "match "+rtS(fi.idx, fi.blockItems-1)+":", astinfo.Line(st), astinfo.Col(st))
	e.span(ind+4, st.StartByte(), owner.EndByte(), nil)
}
