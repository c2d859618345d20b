package reconstruct

// The call in progress in a caller frame: which call it is (callOnLine,
// before 3.11), what is running it (implicitCall, spanDescription) and the
// expression that replaces it with the next frame's resume function
// (substFor, calleeExpr).

import (
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// calleeExpr is the expression that runs the next frame's resume function
// in place of the call in progress.
func (b *builder) calleeExpr(caller, callee *frameInfo) (string, error) {
	fr := callee.fr
	var args []string
	for k := range fr.Varnames[:min(fr.NArgs, len(fr.Varnames))] {
		args = append(args, rtA(callee.idx, k))
	}
	call := rtF(callee.idx, args)
	name := caller.file.CalleeName(caller.call)
	if fr.Generator {
		switch name {
		case "next", "send", "__next__":
			return "next(" + rtG(callee.idx) + ")", nil // frame_generator.go
		}
		return "", b.refuse(caller.fr, 0, "a generator (%s) advanced by %s", fr.Function, orUnknown(name))
	}
	explicit := caller.fr.Callee == "function" || caller.fr.Callee == "method" || caller.fr.Callee == "class" ||
		caller.fr.Callee == "instance"
	if strings.HasPrefix(fr.Name, "__") && strings.HasSuffix(fr.Name, "__") && fr.Name != name && !explicit {
		return "", b.refuse(caller.fr, 0, "%s called by the interpreter (not by the call %s)", fr.Function, orUnknown(name))
	}
	switch caller.fr.Callee {
	case "function", "method", "instance":
	case "class":
		if fr.Name == "__init__" {
			return rtInit(callee.idx, call), nil
		}
		return "", b.refuse(caller.fr, 0, "the class call in progress (%s) reached %s", orUnknown(name), fr.Function)
	case "other":
		return "", b.refuse(caller.fr, 0, "the call in progress (%s) reaches %s through C code (for example a key= or map() callback)", orUnknown(name), fr.Function)
	default:
		if fr.FromC || !b.ver.AtLeast(11) {
			return "", b.refuse(caller.fr, 0, "the call in progress (%s) could not be matched with %s", orUnknown(name), fr.Function)
		}
	}
	return call, nil
}
func orUnknown(s string) string {
	if s == "" {
		return "an expression"
	}
	return s
}

// implicitCall describes a call the interpreter makes on its own.
func implicitCall(op string) string {
	switch op {
	case "BEFORE_WITH", "SETUP_WITH", "BEFORE_ASYNC_WITH":
		return "a with statement's __enter__"
	case "WITH_EXCEPT_START", "WITH_CLEANUP_START":
		return "a with statement's __exit__"
	case "FOR_ITER", "GET_ITER":
		return "an iterator's __iter__/__next__ (or a generator)"
	case "BINARY_OP", "COMPARE_OP", "BINARY_SUBSCR", "STORE_SUBSCR", "CONTAINS_OP", "UNARY_NEGATIVE", "UNARY_NOT":
		return "an operator method"
	case "LOAD_ATTR", "STORE_ATTR", "LOAD_METHOD", "DELETE_ATTR":
		return "a property or attribute hook"
	case "IMPORT_NAME", "IMPORT_FROM":
		return "an import"
	case "SEND", "YIELD_VALUE", "GET_AWAITABLE":
		return "a generator or coroutine step"
	}
	if strings.HasPrefix(op, "BINARY_") || strings.HasPrefix(op, "INPLACE_") {
		return "an operator method"
	}
	return "a call made by the interpreter (instruction " + op + ")"
}

// spanDescription names what starts at (line, col) when it is not a call.
func spanDescription(f *astinfo.File, scope *astinfo.Scope, line, col int) string {
	var found string
	f.ScopeStatements(scope, func(n *sitter.Node) bool {
		if astinfo.Line(n) == line && astinfo.Col(n) == col {
			switch n.Type() {
			case "class_definition":
				found = "a class body (" + f.Text(n.ChildByFieldName("name")) + ")"
			case "decorated_definition":
				found = "a decorator call"
			}
			return false
		}
		return true
	})
	for _, d := range astinfo.FindNodes(scope.Body(), "decorator") {
		if astinfo.Line(d) == line {
			found = "a decorator call"
		}
	}
	if found == "" {
		found = fmt.Sprintf("an implicit call (columns %d+)", col)
	}
	return found
}

// callOnLine finds the call in progress when the interpreter (<= 3.10)
// records only the line: by the callee's name, then by the order of calls.
func (b *builder) callOnLine(fi *frameInfo, i int) (*sitter.Node, error) {
	fr := fi.fr
	f := fi.file
	calls := f.CallsOnLine(fi.scope, fr.Line)
	if len(calls) == 1 {
		return calls[0], nil
	}
	want := ""
	if i+1 < len(b.snap.Frames) && i < GenBase {
		next := b.snap.Frames[i+1]
		want = next.Name
		if fr.Callee == "class" {
			want = next.Function
			if k := strings.LastIndex(want, ".__init__"); k >= 0 {
				want = want[:k]
			}
			if k := strings.LastIndex(want, "."); k >= 0 {
				want = want[k+1:]
			}
		}
	} else if b.snap.Reason == "request" {
		want = "snapshot"
	}
	var named []*sitter.Node
	for _, c := range calls {
		if f.CalleeName(c) == want {
			named = append(named, c)
		}
	}
	if len(named) == 1 {
		return named[0], nil
	}
	if fr.CallOrdinal != nil && len(named) != 1 && len(calls) > 0 {
		// the recorder counted the calls of the line that completed before
		// this one: in source post-order when nothing on the line evaluates
		// out of order. With several calls of that name the name must agree;
		// with none (the function reached through a parameter or an alias,
		// `fn(it)` running square) the count alone decides
		post := postOrderCalls(calls)
		if *fr.CallOrdinal < len(post) && (len(named) == 0 || f.CalleeName(post[*fr.CallOrdinal]) == want) {
			return post[*fr.CallOrdinal], nil
		}
	}
	return nil, b.refuse(fr, 0, "%d calls start on this line and Python %d.%d records only the line", len(calls), b.ver.Major, b.ver.Minor)
}

// postOrderCalls orders calls as the interpreter completes them, when the
// statement has no construct that evaluates out of source order.
func postOrderCalls(calls []*sitter.Node) []*sitter.Node {
	set := map[[2]uint32]bool{}
	for _, c := range calls {
		set[[2]uint32{c.StartByte(), c.EndByte()}] = true
	}
	st := astinfo.EnclosingStatement(calls[0])
	for _, t := range []string{"conditional_expression", "boolean_operator", "lambda", "list_comprehension", "generator_expression"} {
		if len(astinfo.FindNodes(st, t)) > 0 {
			return nil
		}
	}
	var out []*sitter.Node
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		for k := 0; k < int(n.NamedChildCount()); k++ {
			walk(n.NamedChild(k))
		}
		if n.Type() == "call" && set[[2]uint32{n.StartByte(), n.EndByte()}] {
			out = append(out, n)
		}
	}
	walk(st)
	return out
}

// substFor is the expression that replaces the call (or yield) in progress.
func (b *builder) substFor(fi *frameInfo, next *frameInfo) (string, error) {
	if fi.mode != modeCall {
		return "", nil
	}
	if fi.call.Type() == "yield" {
		return "(yield)", nil
	}
	if next == nil {
		if b.snap.Reason != "request" {
			return "", b.refuse(fi.fr, 0, "a call in progress into code that was not recorded")
		}
		return "True", nil
	}
	return b.calleeExpr(fi, next)
}
