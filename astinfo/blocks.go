package astinfo

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
)

// Step is one level of the block path from a scope's body down to a
// statement: the compound statement (Owner) whose clause holds the suite.
type Step struct {
	Owner  *sitter.Node // for_statement, while_statement, if_statement, try_statement, with_statement, match_statement, class_definition...
	Clause string       // body | else | elif | handler | finally | case | consequence
	Node   *sitter.Node // the clause node (else_clause, elif_clause, except_clause, finally_clause, case_clause) or the owner
	Index  int          // which handler / elif / case
	Suite  *sitter.Node // the block holding the statements
}

// IsScopeBoundary reports whether n starts a new scope.
func IsScopeBoundary(n *sitter.Node) bool {
	switch n.Type() {
	case "function_definition", "class_definition", "lambda", "list_comprehension",
		"set_comprehension", "dictionary_comprehension", "generator_expression":
		return true
	}
	return false
}

// PathTo returns the block path from the scope body to the suite holding
// stmt, outermost first. The first step has no Owner.
func (f *File) PathTo(scope *Scope, stmt *sitter.Node) []Step {
	var rev []Step
	n := stmt
	for {
		suite := n.Parent()
		if suite == nil {
			break
		}
		if suite.Equal(scope.Body()) || (scope.IsModule() && suite.Type() == "module") {
			rev = append(rev, Step{Suite: suite})
			break
		}
		clauseNode := suite.Parent()
		if clauseNode == nil {
			break
		}
		st := Step{Suite: suite, Node: clauseNode}
		owner := clauseNode
		switch clauseNode.Type() {
		case "else_clause":
			owner = clauseNode.Parent()
			st.Clause = "else"
		case "elif_clause":
			owner = clauseNode.Parent()
			st.Clause = "elif"
			st.Index = childIndex(owner, clauseNode, "elif_clause")
		case "except_clause", "except_group_clause":
			owner = clauseNode.Parent()
			st.Clause = "handler"
			st.Index = childIndex(owner, clauseNode, clauseNode.Type())
		case "finally_clause":
			owner = clauseNode.Parent()
			st.Clause = "finally"
		case "case_clause":
			owner = clauseNode.Parent().Parent() // block -> match_statement
			st.Clause = "case"
		case "if_statement":
			st.Clause = "consequence"
		default:
			st.Clause = "body"
		}
		st.Owner = owner
		rev = append(rev, st)
		n = owner
	}
	out := make([]Step, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}

func childIndex(parent, child *sitter.Node, typ string) int {
	k := 0
	for i := 0; i < int(parent.NamedChildCount()); i++ {
		c := parent.NamedChild(i)
		if c.Equal(child) {
			return k
		}
		if c.Type() == typ {
			k++
		}
	}
	return -1
}

// ScopeStatements calls fn for every statement in the scope (not in nested scopes).
func (f *File) ScopeStatements(scope *Scope, fn func(n *sitter.Node) bool) {
	var walk func(n *sitter.Node) bool
	walk = func(n *sitter.Node) bool {
		for i := 0; i < int(n.NamedChildCount()); i++ {
			c := n.NamedChild(i)
			if IsStatement(c) {
				if !fn(c) {
					return false
				}
			}
			if c.Type() == "function_definition" || c.Type() == "class_definition" || c.Type() == "decorated_definition" || c.Type() == "lambda" {
				continue
			}
			if !walk(c) {
				return false
			}
		}
		return true
	}
	walk(scope.Body())
}

// StatementAt returns the first statement of the scope starting on line.
func (f *File) StatementAt(scope *Scope, line int) *sitter.Node {
	var found *sitter.Node
	f.ScopeStatements(scope, func(n *sitter.Node) bool {
		if Line(n) == line {
			found = n
			return false
		}
		return true
	})
	return found
}

// ClauseAt returns an elif/except/case clause of the scope starting on line.
func (f *File) ClauseAt(scope *Scope, line int) *sitter.Node {
	var found *sitter.Node
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if found != nil {
			return
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			c := n.NamedChild(i)
			switch c.Type() {
			case "elif_clause", "except_clause", "case_clause", "except_group_clause", "else_clause", "finally_clause":
				if Line(c) == line {
					found = c
					return
				}
			case "function_definition", "class_definition", "lambda":
				continue
			}
			walk(c)
		}
	}
	walk(scope.Body())
	return found
}

// EnclosingStatement returns the nearest statement containing n.
func EnclosingStatement(n *sitter.Node) *sitter.Node {
	for p := n; p != nil; p = p.Parent() {
		if IsStatement(p) {
			return p
		}
	}
	return nil
}

// FindNodes returns the nodes of type typ inside root, not entering nested scopes.
func FindNodes(root *sitter.Node, typ string) []*sitter.Node {
	var out []*sitter.Node
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if n.Type() == typ {
			out = append(out, n)
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			c := n.NamedChild(i)
			if IsScopeBoundary(c) {
				continue
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

// CallAtSpan finds the call inside scope whose span is exactly
// (line, col)-(endLine, endCol), 1-based lines and 0-based byte columns.
func (f *File) CallAtSpan(scope *Scope, line, endLine, col, endCol int) *sitter.Node {
	for _, c := range FindNodes(scope.Body(), "call") {
		if Line(c) == line && Col(c) == col && EndLine(c) == endLine && int(c.EndPoint().Column) == endCol {
			return c
		}
	}
	return nil
}

// CallsOnLine returns the calls of the scope that start on line.
func (f *File) CallsOnLine(scope *Scope, line int) []*sitter.Node {
	var out []*sitter.Node
	for _, c := range FindNodes(scope.Body(), "call") {
		if Line(c) == line {
			out = append(out, c)
		}
	}
	return out
}

// GlobalNames lists the names a function declares global.
func (f *File) GlobalNames(scope *Scope) []string {
	var out []string
	f.ScopeStatements(scope, func(n *sitter.Node) bool {
		if n.Type() == "global_statement" {
			for i := 0; i < int(n.NamedChildCount()); i++ {
				out = append(out, f.Text(n.NamedChild(i)))
			}
		}
		return true
	})
	return out
}

// CalleeName is the last identifier of a call's function expression.
func (f *File) CalleeName(call *sitter.Node) string {
	fn := call.ChildByFieldName("function")
	if fn == nil {
		return ""
	}
	switch fn.Type() {
	case "identifier":
		return f.Text(fn)
	case "attribute":
		if a := fn.ChildByFieldName("attribute"); a != nil {
			return f.Text(a)
		}
	}
	return ""
}

// StringRows returns the 1-based lines whose start lies inside a multi-line string.
func (f *File) StringRows() map[int]bool {
	rows := map[int]bool{}
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if n.Type() == "string" {
			for r := Line(n) + 1; r <= EndLine(n); r++ {
				rows[r] = true
			}
			return
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i))
		}
	}
	walk(f.Root)
	return rows
}

// HasTabIndent reports whether any line is indented with a tab.
func (f *File) HasTabIndent() bool {
	for _, l := range strings.Split(string(f.Src), "\n") {
		t := strings.TrimLeft(l, " ")
		if strings.HasPrefix(t, "\t") {
			return true
		}
	}
	return false
}

// IdentifiersIn returns the identifiers used anywhere in n.
func (f *File) IdentifiersIn(n *sitter.Node) map[string]bool {
	out := map[string]bool{}
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if n.Type() == "identifier" {
			out[f.Text(n)] = true
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i))
		}
	}
	walk(n)
	return out
}

// LeavesLoop reports whether the body of loop (a for or while statement)
// holds a break or continue of that loop: one not inside a nested loop,
// function, class or comprehension.
func LeavesLoop(loop *sitter.Node) bool {
	var walk func(n *sitter.Node) bool
	walk = func(n *sitter.Node) bool {
		switch n.Type() {
		case "break_statement", "continue_statement":
			return true
		case "for_statement", "while_statement":
			// its else clause still belongs to the outer loop
			if alt := n.ChildByFieldName("alternative"); alt != nil {
				return walk(alt)
			}
			return false
		}
		if IsScopeBoundary(n) {
			return false
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			if walk(n.NamedChild(i)) {
				return true
			}
		}
		return false
	}
	return walk(loop.ChildByFieldName("body"))
}
