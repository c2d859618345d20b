package reconstruct

// A `try` statement (try/except, try/finally, else). Resumed:
//   - from its body: `try:` with the rest of the body, then the handlers,
//     else and finally as written;
//   - from an except body: the handled exception is raised again inside a
//     one-handler try (`try: raise <exc>` / `except BaseException as name:`)
//     whose body is the rest of the except body, so that sys.exc_info(),
//     a bare raise and the exception's context are the original's; inside
//     a `try:` whose finally is the original's when there is one. The
//     exception is the one captured with the snapshot for the innermost
//     handler (Runtime.exc), else the previous exception the inner handler
//     saved on its value stack (Runtime.handled; handledExceptions);
//   - from the else or finally clause: its rest (inside a try with the
//     finally for else);
//   - an except clause being matched (3.11+, mode clause): the exception
//     on the value stack is raised in a try whose handlers are this one and
//     the next (Runtime.S).
// While an except body runs the value stack holds the previous exception
// (3.11+) or three items (before); a finally on 3.8 one. A position in a
// copy of a finally block that CPython duplicated is refused
// (refuseFinallyCopy), as is try/except*.

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// exceptClauseItems is what an except clause being matched adds to the
// value stack: the previous exception and the one being matched.
const exceptClauseItems = 2

// tryItems is the number of value-stack items a try statement keeps while
// clause st runs, on the recorded CPython version.
func (b *builder) tryItems(st astinfo.Step) int {
	if st.Clause == "handler" {
		if b.ver.AtLeast(11) {
			return 1
		}
		return 3
	}
	if st.Clause == "finally" && !b.ver.AtLeast(9) {
		return 1
	}
	return 0
}

// exceptResumable: an except clause being matched can be resumed (3.11+).
func (b *builder) exceptResumable() bool { return b.ver.AtLeast(11) }

func isExceptStar(n *sitter.Node) bool {
	return n.Type() == "try_statement" && hasChild(n, "except_group_clause")
}

// refuseFinallyCopy: a non-primary position (a second copy of the
// statement's code: CPython duplicates small blocks) is only safe outside
// finally, where copies differ in where they continue.
func (b *builder) refuseFinallyCopy(fi *frameInfo) error {
	for _, st := range fi.file.PathTo(fi.scope, fi.stmt) {
		if st.Clause == "finally" {
			return b.refuse(fi.fr, 0, "a position in a copy of a finally block")
		}
	}
	return nil
}

// excRef says where the exception an except body handles is recorded.
type excRef struct {
	known   bool // recorded at all
	current bool // the exception captured with the snapshot (Runtime.exc)
	frame   int  // else: stack item slot of frame (Runtime.handled)
	slot    int
}

// expr is the Python expression for the exception.
func (r excRef) expr() string {
	if r.current {
		return rtExc()
	}
	return rtHandled(r.frame, r.slot)
}

// handledExceptions works out, for every except body on the stack, where
// the exception it handles is recorded: innermost first, the exception
// captured with the snapshot, then each handler's saved previous exception.
func (b *builder) handledExceptions() error {
	b.excRefs = map[int]map[int]excRef{}
	var cur excRef
	if b.snap.Meta.HasExc {
		cur = excRef{known: true, current: true}
	}
	for k := len(b.frames) - 1; k >= 0; k-- {
		fi := b.frames[k]
		refs := map[int]excRef{}
		for s := len(fi.path) - 1; s >= 0; s-- {
			st := fi.path[s]
			if st.Owner == nil || st.Owner.Type() != "try_statement" || st.Clause != "handler" {
				continue
			}
			refs[s] = cur
			slot := fi.blockSlot[s]
			if !b.ver.AtLeast(11) {
				slot++ // (before 3.11 the saved exception's value follows its type)
			}
			cur = excRef{known: true, frame: fi.idx, slot: slot}
		}
		b.excRefs[fi.idx] = refs
	}
	return nil
}

// excExpr is the Python expression for the exception a handler handles.
func (b *builder) excExpr(fi *frameInfo, step int) (string, error) {
	ref := b.excRefs[fi.idx][step]
	if !ref.known {
		return "", b.refuse(fi.fr, astinfo.Line(fi.path[step].Node), "an except body whose exception was not recorded")
	}
	return ref.expr(), nil
}

// wrapTry emits the rest of try statement path[k].Owner from a position in
// clause path[k]; inner emits the rest of that clause at an indent.
func (b *builder) wrapTry(e *emitter, fi *frameInfo, k, ind int, inner func(int) error) error {
	st := fi.path[k]
	o := st.Owner
	line, col := astinfo.Line(o), astinfo.Col(o)
	fin := childOfType(o, "finally_clause")
	switch st.Clause {
	case "body":
		e.synth(ind, "try:", line, col)
		if err := inner(ind + 4); err != nil {
			return err
		}
		// the handlers, else and finally, as written
		var firstClause *sitter.Node
		for i := 0; i < int(o.NamedChildCount()); i++ {
			c := o.NamedChild(i)
			if c.Type() == "except_clause" || c.Type() == "else_clause" || c.Type() == "finally_clause" {
				firstClause = c
				break
			}
		}
		if firstClause != nil {
			e.span(ind, firstClause.StartByte(), o.EndByte(), nil)
		}
		return nil
	case "handler", "else", "finally":
		body := ind
		if fin != nil && st.Clause != "finally" {
			e.synth(ind, "try:", line, col)
			body = ind + 4
		}
		if st.Clause == "handler" {
			ex, err := b.excExpr(fi, k)
			if err != nil {
				return err
			}
			h := st.Node
			hl, hc := astinfo.Line(h), astinfo.Col(h)
			e.synth(body, "try:", hl, hc)
			e.synth(body+4, "raise "+ex, hl, hc)
			as := ""
			if n := exceptName(fi.file, h); n != "" {
				as = " as " + n
			}
			e.synth(body, "except BaseException"+as+":", hl, hc)
			if err := inner(body + 4); err != nil {
				return err
			}
		} else if err := inner(body); err != nil {
			return err
		}
		if fin != nil && st.Clause != "finally" {
			e.node(ind, fin, nil)
		}
		return nil
	}
	return b.refuse(fi.fr, line, "a position inside %s", strings.ReplaceAll(o.Type(), "_", " "))
}

// exceptName is the name bound by `except E as name`, if any.
func exceptName(f *astinfo.File, h *sitter.Node) string {
	for i := 0; i < int(h.NamedChildCount()); i++ {
		c := h.NamedChild(i)
		if c.Type() == "as_pattern" {
			if a := c.ChildByFieldName("alias"); a != nil {
				return strings.TrimSpace(f.Text(a))
			}
		}
	}
	return ""
}

// emitExceptClause emits the exception being matched against except
// clause fi.stmt and the ones after it.
func (b *builder) emitExceptClause(e *emitter, fi *frameInfo, ind int) {
	st := fi.stmt
	owner := clauseOwner(st)
	line, col := astinfo.Line(owner), astinfo.Col(owner)
	fin := childOfType(owner, "finally_clause")
	body := ind
	if fin != nil {
		e.synth(ind, "try:", line, col)
		body += 4
	}
	e.synth(body, "try:", line, col)
	raiseLine := astinfo.Line(st)
	if fi.innermost {
		// after the `try:` lines, which 3.11+ report at the try line;
		// the raise takes arrive's line: the handler's jump reports
		// the except line, once
		e.arrive(body+4, fi.fr.Line)
		raiseLine = e.arriveLine()
	}
	e.synth(body+4, "raise "+rtS(fi.idx, fi.blockItems-1), raiseLine, astinfo.Col(st))
	last := st
	for _, c := range namedChildren(owner) {
		if c.Type() == "except_clause" {
			last = c
		}
	}
	e.span(body, st.StartByte(), last.EndByte(), nil)
	if fin != nil {
		e.node(ind, fin, nil)
	}
}
