package reconstruct

// The code that finishes a frame from its recorded position: the statement
// at the position (emitPosition), then the rest of each enclosing block from
// the inside out (emitLevel, emitWrap: for, while, with, try, if, match),
// and a class body in progress inside its class statement (emitClassBody).

import (
	"fmt"
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
	st := fi.path[k]
	o := st.Owner
	line, col := astinfo.Line(o), astinfo.Col(o)
	inner := func(ind2 int) error { return b.emitLevel(e, fi, k, ind2, subst) }
	switch o.Type() {
	case "if_statement", "match_statement":
		return inner(ind)
	case "for_statement", "while_statement":
		if st.Clause == "else" {
			return inner(ind)
		}
		// the rest of the interrupted iteration, then the loop goes on: its
		// header reports its line as the original's jump back to it does
		loop := func(ind int) {
			switch {
			case o.Type() == "for_statement":
				right := o.ChildByFieldName("right")
				e.node(ind, o, []repl{{right.StartByte(), right.EndByte(), fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockSlot[k])}})
			case !b.ver.AtLeast(10) && constantTrue(fi.file, o.ChildByFieldName("condition")):
				// 3.8 and 3.9 compile `while True:` to no code of its own and
				// never report its line: the jump back reports the body's
				// first line. Line 0 (for them "the line before goes on")
				// keeps the header from reporting it here either. Its else
				// never runs: only a break leaves such a loop.
				e.synth(ind, "while True:", 0, 0)
				for _, s := range astinfo.Statements(o.ChildByFieldName("body")) {
					e.node(ind+4, s, nil)
				}
			default:
				e.node(ind, o, nil)
			}
		}
		if !astinfo.LeavesLoop(o) {
			if err := inner(ind); err != nil {
				return err
			}
			loop(ind)
			return nil
		}
		// a break or continue of the loop: the rest of the iteration runs in
		// a one-shot loop that they leave
		if b.ver.AtLeast(10) {
			// with the loop in its else. Its jump back reports the loop's
			// line as the original's does; the else's loop starts on that
			// same line, reached going forward: no second event
			e.synth(ind, fmt.Sprintf("for %s.x in %s.once():", RT, RT), line, col)
			if err := inner(ind + 4); err != nil {
				return err
			}
			e.synth(ind, "else:", line, col)
			loop(ind + 4)
			return nil
		}
		// 3.8 and 3.9 report a line event at the start of every line-table
		// entry, and an else's loop starts one of its own: the loop comes
		// after the one-shot loop instead, run unless a break left it, in
		// the entry of the line the original's jump back reports (the
		// loop's, or the body's first for `while True`). Line 0 is "the line
		// before goes on" for them: those lines add no entry.
		back := line
		if o.Type() == "while_statement" && constantTrue(fi.file, o.ChildByFieldName("condition")) {
			if sts := astinfo.Statements(o.ChildByFieldName("body")); len(sts) > 0 {
				back = astinfo.Line(sts[0])
			}
		}
		key := fmt.Sprintf("%d, %d", fi.idx, k)
		e.synth(ind, fmt.Sprintf("%s.enter(%s)", RT, key), back, col)
		e.synth(ind, fmt.Sprintf("for %s.x in %s.once():", RT, RT), 0, 0)
		if err := inner(ind + 4); err != nil {
			return err
		}
		e.synth(ind+4, fmt.Sprintf("%s.fall(%s)", RT, key), back, col)
		e.synth(ind+4, "break", 0, 0)
		e.synth(ind, "else:", 0, 0)
		e.synth(ind+4, fmt.Sprintf("%s.fall(%s)", RT, key), 0, 0)
		e.synth(ind, fmt.Sprintf("if %s.ran(%s):", RT, key), 0, 0)
		loop(ind + 4)
		return nil
	case "with_statement":
		items := withItems(o)
		var cms []string
		for j := range items {
			cms = append(cms, fmt.Sprintf("%s.exitcm(%d, %d)", RT, fi.idx, fi.blockSlot[k]+j))
		}
		e.synth(ind, "with "+strings.Join(cms, ", ")+":", line, col)
		return inner(ind + 4)
	case "try_statement":
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
	}
	return b.refuse(fi.fr, line, "a position inside %s", strings.ReplaceAll(o.Type(), "_", " "))
}
func childOfType(n *sitter.Node, typ string) *sitter.Node {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			return c
		}
	}
	return nil
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

// emitPosition emits the statement at the recorded position.
func (b *builder) emitPosition(e *emitter, fi *frameInfo, ind int, subst string) error {
	st := fi.stmt
	if fi.innermost && fi.mode != "clause" {
		e.arrive(ind, fi.fr.Line)
	}
	switch fi.mode {
	case "before":
		if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && fi.blockItems > 0 {
			return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
		}
		e.node(ind, st, nil)
	case "loopnext":
		if fi.fr.Stack == nil || len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		right := st.ChildByFieldName("right")
		e.node(ind, st, []repl{{right.StartByte(), right.EndByte(), fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockSlot[len(fi.path)])}})
	case "clause":
		if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && st.Type() != "elif_clause" {
			return b.refuse(fi.fr, 0, "the value stack could not be read")
		}
		owner := clauseOwner(st)
		line, col := astinfo.Line(owner), astinfo.Col(owner)
		switch st.Type() {
		case "elif_clause":
			// `elif c:` is about to be tested: the earlier tests were false
			if fi.innermost {
				e.arrive(ind, fi.fr.Line)
			}
			e.span(ind, st.StartByte(), owner.EndByte(), []repl{{st.StartByte(), st.StartByte() + 4, "if"}})
		case "except_clause":
			// the exception is being matched against this handler and the next
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
			e.synth(body+4, fmt.Sprintf("raise %s.S(%d, %d)", RT, fi.idx, fi.blockItems-1), raiseLine, astinfo.Col(st))
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
		case "case_clause":
			// the subject is evaluated already: the line event is the case's
			if fi.innermost {
				e.arrive(ind, fi.fr.Line)
			}
			e.synth(ind, fmt.Sprintf("match %s.S(%d, %d):", RT, fi.idx, fi.blockItems-1), astinfo.Line(st), astinfo.Col(st))
			e.span(ind+4, st.StartByte(), owner.EndByte(), nil)
		}
	case "call":
		return b.emitCall(e, fi, ind, subst)
	case "import":
		// the imported module's code finishes, then the statement runs
		// again: the module is in sys.modules now, so it only binds names
		// (and imports what the statement names after that module)
		if fi.fr.Stack != nil && (len(fi.fr.Stack) < fi.blockItems || len(fi.fr.Stack) > fi.blockItems+2) {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && fi.blockItems > 0 {
			return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
		}
		if fi.next == nil || !fi.next.fr.Module {
			return b.refuse(fi.fr, 0, "an import in progress whose module was not recorded")
		}
		e.synth(ind, fmt.Sprintf("%s.imp(%d)", RT, fi.next.idx), astinfo.Line(st), astinfo.Col(st))
		e.node(ind, st, nil)
	case "classbody":
		return b.emitClassBody(e, fi, ind)
	}
	return nil
}

// constantTrue: a condition the compiler folds to true (a literal that is
// true), as 3.8's and 3.9's `while` does.
func constantTrue(f *astinfo.File, cond *sitter.Node) bool {
	for cond != nil && cond.Type() == "parenthesized_expression" && cond.NamedChildCount() == 1 {
		cond = cond.NamedChild(0)
	}
	if cond == nil {
		return false
	}
	switch cond.Type() {
	case "true":
		return true
	case "integer":
		return strings.Trim(strings.ToLower(f.Text(cond)), "0_xob") != ""
	}
	return false
}

func (b *builder) stackMismatch(fi *frameInfo, want int) error {
	got := -1
	if fi.fr.Stack != nil {
		got = len(fi.fr.Stack)
	}
	if got < 0 {
		return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
	}
	return b.refuse(fi.fr, 0, "an expression in progress (%d value-stack items, %d expected)", got, want)
}

// emitClassBody emits the class statement whose body is in progress: the
// recorded bases, the recorded namespace, then the rest of the body.
func (b *builder) emitClassBody(e *emitter, fi *frameInfo, ind int) error {
	cls := fi.next
	if cls == nil || !cls.fr.ClassBody {
		return b.refuse(fi.fr, 0, "a class statement in progress without its class body")
	}
	want := fi.blockItems + fi.decorators + fi.fr.NBases
	if fi.fr.Stack == nil || len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	st := fi.class
	line, col := astinfo.Line(st), astinfo.Col(st)
	// the recorded decorators, applied after the class is made as they
	// would have been (innermost first; classfix, innermost of all, only
	// sets the __class__ cell)
	for j, d := range childrenOfType(fi.stmt, "decorator") {
		e.synth(ind, fmt.Sprintf("@%s.S(%d, %d)", RT, fi.idx, fi.blockItems+j), astinfo.Line(d), astinfo.Col(d))
	}
	var bases []string
	for j := 0; j < fi.fr.NBases; j++ {
		bases = append(bases, fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockItems+fi.decorators+j))
	}
	name := fi.file.Text(st.ChildByFieldName("name"))
	e.synth(ind, fmt.Sprintf("@%s.classfix(%d)", RT, cls.idx), line, col)
	header := "class " + name
	if len(bases) > 0 {
		header += "(" + strings.Join(bases, ", ") + ")"
	}
	e.synth(ind, header+":", line, col)
	bodyInd := ind + 4
	nsLine := line
	if cls.mode == "entry" && cls.innermost {
		// a class body reports its class line, then (decorated) its first
		// decorator's line, then its statements'; the snapshot was taken at
		// one of the first two: class_ns reports it (the snapshot's own
		// event), a no-op the decorator's line if that is still to come
		e.arrive(bodyInd, cls.fr.Line)
		nsLine = cls.fr.Line
	}
	e.synth(bodyInd, fmt.Sprintf("%s.class_ns(%d, locals())", RT, cls.idx), nsLine, col)
	if decos := childrenOfType(fi.stmt, "decorator"); cls.mode == "entry" && cls.innermost && len(decos) > 0 && nsLine == line {
		e.synth(bodyInd, RT+".x = None", astinfo.Line(decos[0]), col)
	}
	if cls.mode == "entry" {
		for _, s := range astinfo.Statements(cls.scope.Body()) {
			e.node(bodyInd, s, nil)
		}
		return nil
	}
	subst, err := b.substFor(cls, cls.next)
	if err != nil {
		return err
	}
	return b.emitLevel(e, cls, 0, bodyInd, subst)
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
func childrenOfType(n *sitter.Node, typ string) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			out = append(out, c)
		}
	}
	return out
}
