package reconstruct

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// emitCall emits the statement holding the call in progress with the call
// replaced by subst and every operand the expression had already evaluated
// replaced by its recorded value-stack item.
func (b *builder) emitCall(e *emitter, fi *frameInfo, ind int, subst string) error {
	st := fi.stmt
	call := fi.call
	var repls []repl
	temps := 0
	// Operands already evaluated sit on the value stack outermost first; the
	// walk goes from the call outwards, so slots are handed out afterwards.
	type pending struct {
		level int
		pos   int
		ref   *string
	}
	var pend []pending
	level := 0
	var pct *percentFormat // a %-format compiled as an f-string, seen at its tuple
	var pctElt *sitter.Node
	slot := func() string {
		ph := fmt.Sprintf("\x00slot%d\x00", len(pend))
		pend = append(pend, pending{level: level, pos: len(pend), ref: nil})
		temps++
		return ph
	}
	child := call
	for p := call.Parent(); p != nil && !child.Equal(st); child, p = p, p.Parent() {
		level++
		switch p.Type() {
		case "parenthesized_expression", "expression_statement", "return_statement", "not_operator",
			"unary_operator", "attribute", "named_expression", "as_pattern", "with_item", "with_clause",
			"expression_list_single":
			if p.Type() == "attribute" && !child.Equal(p.ChildByFieldName("object")) {
				return b.refuse(fi.fr, 0, "a call inside an attribute name")
			}
			if p.Type() == "with_item" || p.Type() == "with_clause" {
				if p.Type() == "with_clause" && !child.Equal(p.NamedChild(0)) {
					return b.refuse(fi.fr, 0, "a call in a later item of a with statement")
				}
			}
			if p.Type() == "named_expression" && !child.Equal(p.ChildByFieldName("value")) {
				return b.refuse(fi.fr, 0, "an unsupported walrus expression")
			}
		case "assignment":
			if !child.Equal(p.ChildByFieldName("right")) {
				return b.refuse(fi.fr, 0, "a call inside an assignment target or annotation")
			}
		case "augmented_assignment":
			if !child.Equal(p.ChildByFieldName("right")) {
				return b.refuse(fi.fr, 0, "a call inside an augmented assignment target")
			}
			left := p.ChildByFieldName("left")
			op := p.ChildByFieldName("operator")
			if op == nil {
				return b.refuse(fi.fr, 0, "an augmented assignment without operator")
			}
			// x op= <call>: x was loaded before the call; finish with operator.i*
			var target string
			var loaded string
			switch left.Type() {
			case "identifier":
				loaded = slot()
				target = fi.file.Text(left)
			case "attribute":
				obj := slot()
				loaded = slot()
				target = obj + "." + fi.file.Text(left.ChildByFieldName("attribute"))
			case "subscript":
				if left.NamedChildCount() != 2 || left.NamedChild(1).Type() == "slice" {
					return b.refuse(fi.fr, 0, "an augmented assignment to a slice")
				}
				obj := slot()
				key := slot()
				loaded = slot()
				target = obj + "[" + key + "]"
			default:
				return b.refuse(fi.fr, 0, "an augmented assignment to %s", left.Type())
			}
			opText := fi.file.Text(op)
			right := p.ChildByFieldName("right")
			rstart, rend := right.StartByte(), right.EndByte()
			repls = append(repls, repl{p.StartByte(), rstart, fmt.Sprintf("%s = %s.iop(%q, %s, ", target, RT, opText, loaded)})
			repls = append(repls, repl{rend, rend, ")"})
		case "binary_operator", "comparison_operator", "boolean_operator":
			ops := namedChildren(p)
			if len(ops) != 2 {
				return b.refuse(fi.fr, 0, "a call inside a chained comparison")
			}
			if pct != nil {
				// "fmt" % (...) compiled as an f-string: the pieces made so far
				var slots []string
				for k := 0; k < pct.pieces; k++ {
					slots = append(slots, slot())
				}
				rs, ok := percentRepls(fi.file.Src, p, child, pctElt, *pct, slots)
				if !ok {
					return b.refuse(fi.fr, 0, "a call inside a %%-format whose later operands span lines")
				}
				repls = append(repls, rs...)
				pct = nil
				break
			}
			if child.Equal(ops[1]) {
				if p.Type() == "boolean_operator" {
					// `a and f()` / `a or f()`: a decided, the value is f()'s
					repls = append(repls, repl{p.StartByte(), ops[1].StartByte(), ""})
					repls = append(repls, repl{ops[1].EndByte(), p.EndByte(), ""})
				} else {
					repls = append(repls, repl{ops[0].StartByte(), ops[0].EndByte(), slot()})
				}
			}
		case "conditional_expression":
			ch := namedChildren(p) // value, condition, alternative
			if len(ch) != 3 {
				return b.refuse(fi.fr, 0, "an unsupported conditional expression")
			}
			if !child.Equal(ch[1]) {
				repls = append(repls, repl{p.StartByte(), child.StartByte(), ""})
				repls = append(repls, repl{child.EndByte(), p.EndByte(), ""})
			}
		case "argument_list":
			outer := p.Parent()
			if outer == nil || outer.Type() != "call" {
				return b.refuse(fi.fr, 0, "a call inside %s", outer.Type())
			}
			args := namedChildren(p)
			for _, a := range args {
				switch a.Type() {
				case "list_splat", "dictionary_splat", "generator_expression", "parenthesized_list_splat":
					return b.refuse(fi.fr, 0, "a call among *args/**kwargs arguments")
				}
			}
			fn := outer.ChildByFieldName("function")
			prefix := 2
			if !b.ver.AtLeast(11) {
				prefix = 1
				if fn.Type() == "attribute" && !hasKeyword(args) {
					prefix = 2
				}
			}
			first := len(pend)
			for k := 0; k < prefix; k++ {
				slot()
			}
			callee := fmt.Sprintf("%s.callee(%d, \x00num%d\x00, %d)", RT, fi.idx, first, prefix)
			if prefix == 2 && !b.ver.AtLeast(11) {
				// keep the method-call shape (two stack items) for later snapshots
				callee += ".__call__"
			}
			repls = append(repls, repl{fn.StartByte(), fn.EndByte(), callee})
			for _, a := range args {
				if a.StartByte() >= child.StartByte() {
					break
				}
				if a.Type() == "keyword_argument" {
					v := a.ChildByFieldName("value")
					repls = append(repls, repl{v.StartByte(), v.EndByte(), slot()})
				} else {
					repls = append(repls, repl{a.StartByte(), a.EndByte(), slot()})
				}
			}
			child = outer // skip the call node itself
			p = outer
		case "keyword_argument":
			if !child.Equal(p.ChildByFieldName("value")) {
				return b.refuse(fi.fr, 0, "an unsupported keyword argument")
			}
		case "list", "tuple", "set", "expression_list", "pattern_list":
			for _, a := range namedChildren(p) {
				if a.Type() == "list_splat" || a.Type() == "parenthesized_list_splat" {
					return b.refuse(fi.fr, 0, "a call inside a display with * unpacking")
				}
			}
			if op := p.Parent(); p.Type() == "tuple" && op != nil {
				k := 0
				for _, a := range namedChildren(p) {
					if a.StartByte() < child.StartByte() {
						k++
					}
				}
				if pf := b.percentAt(fi, op, p, k); pf.fstring {
					if !pf.exact {
						return b.refuse(fi.fr, 0, "a call inside a %%-format that Python 3.11+ may compile as an f-string")
					}
					pct, pctElt = &pf, child // the operator's level makes the slots
					break
				}
			}
			for _, a := range namedChildren(p) {
				if a.StartByte() >= child.StartByte() {
					break
				}
				repls = append(repls, repl{a.StartByte(), a.EndByte(), slot()})
			}
		case "subscript":
			if child.Equal(p.ChildByFieldName("value")) {
				break
			}
			if p.NamedChildCount() != 2 || child.Type() == "slice" {
				return b.refuse(fi.fr, 0, "a call inside a slice")
			}
			v := p.ChildByFieldName("value")
			repls = append(repls, repl{v.StartByte(), v.EndByte(), slot()})
		case "if_statement", "elif_clause", "while_statement":
			if !child.Equal(p.ChildByFieldName("condition")) {
				return b.refuse(fi.fr, 0, "a call in an unexpected part of %s", p.Type())
			}
		case "for_statement":
			if !child.Equal(p.ChildByFieldName("right")) {
				return b.refuse(fi.fr, 0, "a call in a for target")
			}
		case "with_statement":
		case "raise_statement":
			if p.NamedChildCount() > 1 {
				return b.refuse(fi.fr, 0, "a call in raise ... from ...")
			}
		case "call":
			if !child.Equal(p.ChildByFieldName("function")) {
				return b.refuse(fi.fr, 0, "a call inside a call")
			}
			if child.Type() != "attribute" && (b.ver.Minor == 11 || b.ver.Minor == 12) {
				slot() // the NULL pushed before the callable
			}
		default:
			return b.refuse(fi.fr, 0, "a call inside %s", describe(p.Type()))
		}
	}
	// outer levels were evaluated first: number their slots first
	order := make([]int, len(pend))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pend[order[a]].level > pend[order[b]].level })
	slotOf := make([]int, len(pend))
	for n, i := range order {
		slotOf[i] = fi.blockItems + n
	}
	for k := range repls {
		for i := range pend {
			ph := fmt.Sprintf("\x00slot%d\x00", i)
			if strings.Contains(repls[k].text, ph) {
				repls[k].text = strings.ReplaceAll(repls[k].text, ph, fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, slotOf[i]))
			}
		}
		for i := range pend {
			ph := fmt.Sprintf("\x00num%d\x00", i)
			repls[k].text = strings.ReplaceAll(repls[k].text, ph, strconv.Itoa(slotOf[i]))
		}
	}
	want := fi.blockItems + temps
	if fi.fr.Stack == nil {
		return b.refuse(fi.fr, 0, "the value stack of the calling frame could not be read")
	}
	if len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	repls = append(repls, repl{call.StartByte(), call.EndByte(), subst})
	sort.SliceStable(repls, func(i, j int) bool { return repls[i].start < repls[j].start })
	repls = mergeRepls(repls)
	switch {
	case st.Type() == "while_statement":
		// the condition with the call is evaluated once; later tests as written
		cond := st.ChildByFieldName("condition")
		line, col := astinfo.Line(st), astinfo.Col(st)
		var condRepls []repl
		for _, r := range repls {
			if r.start >= cond.StartByte() && r.end <= cond.EndByte() {
				condRepls = append(condRepls, r)
			}
		}
		e.spanInline(ind, "if ", cond, condRepls, ":", line, col)
		body := st.ChildByFieldName("body")
		e.synth(ind+4, fmt.Sprintf("for %s.x in %s.once():", RT, RT), line, col)
		for _, s := range astinfo.Statements(body) {
			e.node(ind+8, s, nil)
		}
		e.synth(ind+4, "else:", line, col)
		e.node(ind+8, st, nil)
		if alt := st.ChildByFieldName("alternative"); alt != nil {
			e.synth(ind, "else:", astinfo.Line(alt), astinfo.Col(alt))
			for _, s := range astinfo.Statements(alt.ChildByFieldName("body")) {
				e.node(ind+4, s, nil)
			}
		}
	case st.Type() == "if_statement" && fi.call.StartByte() > st.ChildByFieldName("consequence").StartByte():
		// the call is in an elif test: start the chain from that elif
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
	default:
		e.node(ind, st, repls)
	}
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
