package reconstruct

// A call in progress in a caller frame (mode call; a generator's yield in
// progress is the same rule, frame_generator.go). The statement holding
// the call is emitted with the call replaced by the next frame's resume
// function (callee.go substFor) and every operand its expression had
// already evaluated replaced by its recorded value-stack item (RT.S):
// the walk from the call up to its statement (callRewrite.step, one rule
// per enclosing expression) hands out those operands, outermost first
// after the block items. An augmented assignment `x op= f()` finishes
// with the in-place operator on the loaded x (Runtime.iop); the callable
// of the call itself is the recorded one (Runtime.callee); a %-format
// 3.11+ compiles as an f-string holds the pieces already formatted
// (percent.go). The statement is then emitted as written, except a while
// condition (loop_while.go emitWhileCall) and an elif test (if.go
// emitElifCall). Calls the interpreter makes itself (__enter__, operator
// methods, properties) are refused with what made them.
// Helpers: Runtime.S, Runtime.callee, Runtime.iop.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

var callOps = map[string]bool{
	"CALL": true, "CALL_KW": true, "CALL_FUNCTION": true, "CALL_METHOD": true, "CALL_FUNCTION_KW": true,
	"CALL_FUNCTION_EX": true, "PRECALL": true,
}

// analyseCallFrame: the frame is calling the next one. A class statement
// (frame_classbody.go), a for loop fetching from a generator
// (loop_for.go), an import (imports.go), else a call of the source.
func (b *builder) analyseCallFrame(fi *frameInfo) error {
	switch {
	case fi.fr.Callee == "build_class":
		return b.analyseClassStatement(fi)
	case b.forDrivesGenerator(fi):
		return b.analyseForDrivingGenerator(fi)
	case b.importers[fi.idx]:
		return b.analyseImport(fi)
	}
	return b.analyseCall(fi)
}

// analyseCall finds the call in progress: by its recorded span (3.11+) or
// on its line (callee.go callOnLine).
func (b *builder) analyseCall(fi *frameInfo) error {
	fr, f := fi.fr, fi.file
	if !callOps[fr.Op] {
		return b.refuse(fr, 0, "%s in progress", implicitCall(fr.Op))
	}
	var call *sitter.Node
	if b.ver.AtLeast(11) && len(fr.Pos) == 4 && fr.Pos[0] != nil && fr.Pos[2] != nil && fr.Pos[1] != nil && fr.Pos[3] != nil {
		call = f.CallAtSpan(fi.scope, *fr.Pos[0], *fr.Pos[1], *fr.Pos[2], *fr.Pos[3])
		if call == nil {
			if what := comprehensionAt(fi); what != "" {
				return b.refuse(fr, 0, "a call inside %s in progress", what)
			}
			return b.refuse(fr, 0, "%s in progress", spanDescription(f, fi.scope, *fr.Pos[0], *fr.Pos[2]))
		}
	} else {
		if err := b.withExitCall(fi); err != nil {
			return err
		}
		var err error
		call, err = b.callOnLine(fi, fi.idx)
		if err != nil {
			return err
		}
	}
	fi.call = call
	st := astinfo.EnclosingStatement(call)
	if st == nil {
		return b.refuse(fr, 0, "a call outside any statement")
	}
	fi.stmt = st
	fi.mode = modeCall
	return nil
}

// slotRef is an operand already evaluated, the n-th handed out by the
// walk; its stack slot is known once the walk is done (callRewrite.resolve).
// Until then the rewrite's text holds a placeholder for it.
type slotRef int

// expr is the placeholder for the operand's value, RT.S(frame, slot).
func (s slotRef) expr() string { return fmt.Sprintf("\x00slot%d\x00", int(s)) }

// number is the placeholder for the operand's slot number.
func (s slotRef) number() string { return fmt.Sprintf("\x00num%d\x00", int(s)) }

// callRewrite is the rewrite of the statement holding a call in progress.
type callRewrite struct {
	b     *builder
	fi    *frameInfo
	repls []repl
	level int   // how far the walk is from the call
	slots []int // per slotRef: the level that handed it out
	// a %-format compiled as an f-string, seen at its tuple (made at the operator)
	pct    *percentFormat
	pctElt *sitter.Node
}

func (r *callRewrite) slot() slotRef {
	r.slots = append(r.slots, r.level)
	return slotRef(len(r.slots) - 1)
}

func (r *callRewrite) add(start, end uint32, text string) {
	r.repls = append(r.repls, repl{start, end, text})
}

func (r *callRewrite) refuse(format string, a ...any) error {
	return r.b.refuse(r.fi.fr, 0, format, a...)
}

// emitCall emits the statement holding the call in progress with the call
// replaced by subst and every operand the expression had already evaluated
// replaced by its recorded value-stack item.
func (b *builder) emitCall(e *emitter, fi *frameInfo, ind int, subst string) error {
	st := fi.stmt
	call := fi.call
	r := &callRewrite{b: b, fi: fi}
	// Operands already evaluated sit on the value stack outermost first; the
	// walk goes from the call outwards, so slots are numbered afterwards.
	child := call
	for p := call.Parent(); p != nil && !child.Equal(st); {
		r.level++
		next, err := r.step(child, p)
		if err != nil {
			return err
		}
		child, p = next, next.Parent()
	}
	r.resolve()
	want := fi.blockItems + len(r.slots)
	if fi.fr.Stack == nil {
		return b.refuse(fi.fr, 0, "the value stack of the calling frame could not be read")
	}
	if len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	repls := append(r.repls, repl{call.StartByte(), call.EndByte(), subst})
	sort.SliceStable(repls, func(i, j int) bool { return repls[i].start < repls[j].start })
	repls = mergeRepls(repls)
	switch {
	case st.Type() == "while_statement":
		b.emitWhileCall(e, st, ind, repls) // loop_while.go
	case callInElif(fi, st):
		return b.emitElifCall(e, fi, st, ind, repls) // if.go
	default:
		e.node(ind, st, repls)
	}
	return nil
}

// resolve numbers the operands' slots (outer levels were evaluated first:
// their slots come first, after the block items) and puts them in the text.
func (r *callRewrite) resolve() {
	order := make([]int, len(r.slots))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return r.slots[order[a]] > r.slots[order[b]] })
	slotOf := make([]int, len(r.slots))
	for n, i := range order {
		slotOf[i] = r.fi.blockItems + n
	}
	var pairs []string
	for i := range r.slots {
		pairs = append(pairs, slotRef(i).expr(), rtS(r.fi.idx, slotOf[i]), slotRef(i).number(), strconv.Itoa(slotOf[i]))
	}
	if len(pairs) == 0 {
		return
	}
	rep := strings.NewReplacer(pairs...)
	for k := range r.repls {
		r.repls[k].text = rep.Replace(r.repls[k].text)
	}
}

// step applies the rule of expression (or statement header) p around the
// walk's child and returns the node the walk goes on from (p, or a node
// above it that the rule covered).
func (r *callRewrite) step(child, p *sitter.Node) (*sitter.Node, error) {
	var err error
	switch p.Type() {
	case "parenthesized_expression", "expression_statement", "return_statement", "not_operator",
		"unary_operator", "attribute", "named_expression", "as_pattern", "with_item", "with_clause",
		"expression_list_single":
		err = r.passThrough(child, p)
	case "assignment":
		if !child.Equal(p.ChildByFieldName("right")) {
			err = r.refuse("a call inside an assignment target or annotation")
		}
	case "augmented_assignment":
		err = r.augmentedAssignment(child, p)
	case "binary_operator", "comparison_operator", "boolean_operator":
		err = r.operator(child, p)
	case "conditional_expression":
		err = r.conditional(child, p)
	case "argument_list":
		return r.arguments(child, p)
	case "keyword_argument":
		if !child.Equal(p.ChildByFieldName("value")) {
			err = r.refuse("an unsupported keyword argument")
		}
	case "list", "tuple", "set", "expression_list", "pattern_list":
		err = r.display(child, p)
	case "subscript":
		err = r.subscript(child, p)
	case "if_statement", "elif_clause", "while_statement":
		if !child.Equal(p.ChildByFieldName("condition")) {
			err = r.refuse("a call in an unexpected part of %s", p.Type())
		}
	case "for_statement":
		if !child.Equal(p.ChildByFieldName("right")) {
			err = r.refuse("a call in a for target")
		}
	case "with_statement":
	case "raise_statement":
		if p.NamedChildCount() > 1 {
			err = r.refuse("a call in raise ... from ...")
		}
	case "call":
		if !child.Equal(p.ChildByFieldName("function")) {
			err = r.refuse("a call inside a call")
		}
		if child.Type() != "attribute" && (r.b.ver.Minor == 11 || r.b.ver.Minor == 12) {
			r.slot() // the NULL pushed before the callable
		}
	default:
		err = r.refuse("a call inside %s", describe(p.Type()))
	}
	return p, err
}

// passThrough: expressions that leave nothing on the stack before the
// call, with the parts a call cannot be resumed in. A with statement's
// call is resumed only in its first item (the others are not entered yet).
func (r *callRewrite) passThrough(child, p *sitter.Node) error {
	if p.Type() == "attribute" && !child.Equal(p.ChildByFieldName("object")) {
		return r.refuse("a call inside an attribute name")
	}
	if p.Type() == "with_clause" && !child.Equal(p.NamedChild(0)) {
		return r.refuse("a call in a later item of a with statement")
	}
	if p.Type() == "named_expression" && !child.Equal(p.ChildByFieldName("value")) {
		return r.refuse("an unsupported walrus expression")
	}
	return nil
}

// augmentedAssignment: x op= <call>: x was loaded before the call; finish
// with operator.i* (Runtime.iop).
func (r *callRewrite) augmentedAssignment(child, p *sitter.Node) error {
	if !child.Equal(p.ChildByFieldName("right")) {
		return r.refuse("a call inside an augmented assignment target")
	}
	f := r.fi.file
	left := p.ChildByFieldName("left")
	op := p.ChildByFieldName("operator")
	if op == nil {
		return r.refuse("an augmented assignment without operator")
	}
	var target string
	var loaded slotRef
	switch left.Type() {
	case "identifier":
		loaded = r.slot()
		target = f.Text(left)
	case "attribute":
		obj := r.slot()
		loaded = r.slot()
		target = obj.expr() + "." + f.Text(left.ChildByFieldName("attribute"))
	case "subscript":
		if left.NamedChildCount() != 2 || left.NamedChild(1).Type() == "slice" {
			return r.refuse("an augmented assignment to a slice")
		}
		obj := r.slot()
		key := r.slot()
		loaded = r.slot()
		target = obj.expr() + "[" + key.expr() + "]"
	default:
		return r.refuse("an augmented assignment to %s", left.Type())
	}
	right := p.ChildByFieldName("right")
	r.add(p.StartByte(), right.StartByte(), target+" = "+rtIopOpen(f.Text(op), loaded.expr()))
	r.add(right.EndByte(), right.EndByte(), ")")
	return nil
}

// operator: a binary operator, comparison or boolean operator whose right
// operand holds the call (its left was evaluated), or the %-format seen
// at its tuple.
func (r *callRewrite) operator(child, p *sitter.Node) error {
	ops := namedChildren(p)
	if len(ops) != 2 {
		return r.refuse("a call inside a chained comparison")
	}
	if r.pct != nil {
		// "fmt" % (...) compiled as an f-string: the pieces made so far
		var slots []string
		for k := 0; k < r.pct.pieces; k++ {
			slots = append(slots, r.slot().expr())
		}
		rs, ok := percentRepls(r.fi.file.Src, p, child, r.pctElt, *r.pct, slots)
		if !ok {
			return r.refuse("a call inside a %%-format whose later operands span lines")
		}
		r.repls = append(r.repls, rs...)
		r.pct = nil
		return nil
	}
	if child.Equal(ops[1]) {
		if p.Type() == "boolean_operator" {
			// `a and f()` / `a or f()`: a decided, the value is f()'s
			r.add(p.StartByte(), ops[1].StartByte(), "")
			r.add(ops[1].EndByte(), p.EndByte(), "")
		} else {
			r.add(ops[0].StartByte(), ops[0].EndByte(), r.slot().expr())
		}
	}
	return nil
}

// conditional: `a if c else b`: a call in a or b means c was decided.
func (r *callRewrite) conditional(child, p *sitter.Node) error {
	ch := namedChildren(p) // value, condition, alternative
	if len(ch) != 3 {
		return r.refuse("an unsupported conditional expression")
	}
	if !child.Equal(ch[1]) {
		r.add(p.StartByte(), child.StartByte(), "")
		r.add(child.EndByte(), p.EndByte(), "")
	}
	return nil
}

// arguments: the call holding the child among its arguments: its callable
// (one or two stack items, Runtime.callee) and the arguments before the
// child are recorded. The walk goes on from that call.
func (r *callRewrite) arguments(child, p *sitter.Node) (*sitter.Node, error) {
	outer := p.Parent()
	if outer == nil || outer.Type() != "call" {
		return nil, r.refuse("a call inside %s", outer.Type())
	}
	args := namedChildren(p)
	for _, a := range args {
		switch a.Type() {
		case "list_splat", "dictionary_splat", "generator_expression", "parenthesized_list_splat":
			return nil, r.refuse("a call among *args/**kwargs arguments")
		}
	}
	fn := outer.ChildByFieldName("function")
	prefix := 2
	if !r.b.ver.AtLeast(11) {
		prefix = 1
		if fn.Type() == "attribute" && !hasKeyword(args) {
			prefix = 2
		}
	}
	first := r.slot()
	for k := 1; k < prefix; k++ {
		r.slot()
	}
	callee := rtCallee(r.fi.idx, first.number(), prefix)
	if prefix == 2 && !r.b.ver.AtLeast(11) {
		// keep the method-call shape (two stack items) for later snapshots
		callee += ".__call__"
	}
	r.add(fn.StartByte(), fn.EndByte(), callee)
	for _, a := range args {
		if a.StartByte() >= child.StartByte() {
			break
		}
		if a.Type() == "keyword_argument" {
			v := a.ChildByFieldName("value")
			r.add(v.StartByte(), v.EndByte(), r.slot().expr())
		} else {
			r.add(a.StartByte(), a.EndByte(), r.slot().expr())
		}
	}
	return outer, nil // skip the call node itself
}

// display: a list, tuple, set or expression list: the elements before the
// child are recorded; a tuple that is the right operand of a %-format
// 3.11+ compiles as an f-string is left to the operator (percent.go).
func (r *callRewrite) display(child, p *sitter.Node) error {
	for _, a := range namedChildren(p) {
		if a.Type() == "list_splat" || a.Type() == "parenthesized_list_splat" {
			return r.refuse("a call inside a display with * unpacking")
		}
	}
	if op := p.Parent(); p.Type() == "tuple" && op != nil {
		k := 0
		for _, a := range namedChildren(p) {
			if a.StartByte() < child.StartByte() {
				k++
			}
		}
		if pf := r.b.percentAt(r.fi, op, p, k); pf.fstring {
			if !pf.exact {
				return r.refuse("a call inside a %%-format that Python 3.11+ may compile as an f-string")
			}
			r.pct, r.pctElt = &pf, child // the operator's level makes the slots
			return nil
		}
	}
	for _, a := range namedChildren(p) {
		if a.StartByte() >= child.StartByte() {
			break
		}
		r.add(a.StartByte(), a.EndByte(), r.slot().expr())
	}
	return nil
}

// subscript: `v[<call>]`: v is recorded; a call in a slice is refused.
func (r *callRewrite) subscript(child, p *sitter.Node) error {
	if child.Equal(p.ChildByFieldName("value")) {
		return nil
	}
	if p.NamedChildCount() != 2 || child.Type() == "slice" {
		return r.refuse("a call inside a slice")
	}
	v := p.ChildByFieldName("value")
	r.add(v.StartByte(), v.EndByte(), r.slot().expr())
	return nil
}

// spanInline emits prefix + node text (with replacements) + suffix as one line.
func (e *emitter) spanInline(ind int, prefix string, n *sitter.Node, repls []repl, suffix string, line, col int) {
	start := len(e.lines)
	e.span(ind+len(prefix), n.StartByte(), n.EndByte(), repls)
	first := &e.lines[start]
	first.text = first.text[:ind] + prefix + first.text[ind+len(prefix):]
	first.segs = append([]Segment{{GenCol: 0, Line: line, Delta: ind - col}}, first.segs...)
	last := &e.lines[len(e.lines)-1]
	last.text += suffix
}

// mergeRepls drops a replacement that lies inside the one before it (the
// outer replacement already rewrote that text).
func mergeRepls(rs []repl) []repl {
	var out []repl
	for _, r := range rs {
		if n := len(out); n > 0 && r.start < out[n-1].end && r.end <= out[n-1].end {
			continue
		}
		out = append(out, r)
	}
	return out
}

func hasKeyword(args []*sitter.Node) bool {
	for _, a := range args {
		if a.Type() == "keyword_argument" {
			return true
		}
	}
	return false
}

func namedChildren(n *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		if c.Type() != "comment" {
			out = append(out, c)
		}
	}
	return out
}

func describe(t string) string {
	switch t {
	case "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression":
		return "a comprehension"
	case "lambda":
		return "a lambda"
	case "dictionary", "pair":
		return "a dict display"
	case "interpolation", "string", "format_expression":
		return "an f-string"
	case "decorator":
		return "a decorator"
	case "default_parameter", "typed_default_parameter", "parameters":
		return "a default argument"
	case "argument_list":
		return "a class header"
	case "await":
		return "await"
	case "yield":
		return "yield"
	case "assert_statement":
		return "assert"
	}
	return t
}
