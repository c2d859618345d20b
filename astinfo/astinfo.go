// Package astinfo analyses Python source with tree-sitter: where statements
// start, the scope (function or module) with a given qualified name, the
// block path from a scope's body down to a statement, and the names a scope
// declares global or nonlocal. It knows nothing about snapshots.
package astinfo

import (
	"context"
	"fmt"
	"sort"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"
)

// File is a parsed Python source file.
type File struct {
	Src  []byte
	Tree *sitter.Tree
	Root *sitter.Node
}

// SyntaxError is a parse error at a 1-based line and column.
type SyntaxError struct {
	Line, Col int
	Near      string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error at line %d, column %d near %q", e.Line, e.Col+1, e.Near)
}

// Parse parses src. A file with syntax errors is returned together with a *SyntaxError.
func Parse(src []byte) (*File, error) {
	p := sitter.NewParser()
	p.SetLanguage(python.GetLanguage())
	tree, err := p.ParseCtx(context.Background(), nil, src)
	if err != nil {
		return nil, err
	}
	f := &File{Src: src, Tree: tree, Root: tree.RootNode()}
	if f.Root.HasError() {
		if n := firstError(f.Root); n != nil {
			near := f.Text(n)
			if len(near) > 40 {
				near = near[:40]
			}
			return f, &SyntaxError{Line: int(n.StartPoint().Row) + 1, Col: int(n.StartPoint().Column), Near: near}
		}
	}
	return f, nil
}

func firstError(n *sitter.Node) *sitter.Node {
	if n.IsError() || n.IsMissing() {
		return n
	}
	for i := 0; i < int(n.ChildCount()); i++ {
		c := n.Child(i)
		if c.HasError() || c.IsMissing() {
			if e := firstError(c); e != nil {
				return e
			}
		}
	}
	return nil
}

// Text is the source text of n.
func (f *File) Text(n *sitter.Node) string { return string(f.Src[n.StartByte():n.EndByte()]) }

// Line is the 1-based start line of n.
func Line(n *sitter.Node) int { return int(n.StartPoint().Row) + 1 }

// EndLine is the 1-based end line of n.
func EndLine(n *sitter.Node) int { return int(n.EndPoint().Row) + 1 }

// Col is the 0-based start column (bytes) of n.
func Col(n *sitter.Node) int { return int(n.StartPoint().Column) }

// IsStatement reports whether n is a statement (a child of a block or module).
func IsStatement(n *sitter.Node) bool {
	if n == nil {
		return false
	}
	t := n.Type()
	if t == "comment" || t == "" || t == "case_clause" || !n.IsNamed() {
		return false
	}
	p := n.Parent()
	return p != nil && (p.Type() == "block" || p.Type() == "module")
}

// Statements returns the statements of a block or module node, in order.
func Statements(block *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	if block == nil {
		return out
	}
	for i := 0; i < int(block.NamedChildCount()); i++ {
		c := block.NamedChild(i)
		if c.Type() != "comment" && c.Type() != "case_clause" {
			out = append(out, c)
		}
	}
	return out
}

// Nearest returns up to two code lines around line, for error messages.
func Nearest(lines []int, line int) []int {
	i := sort.SearchInts(lines, line)
	var out []int
	if i > 0 {
		out = append(out, lines[i-1])
	}
	if i < len(lines) {
		out = append(out, lines[i])
	}
	return out
}

// Scope is a function (or lambda) or the module, with its qualified name.
type Scope struct {
	Node      *sitter.Node // function_definition, or module
	Qualname  string
	Def       *sitter.Node // the decorated_definition wrapping Node, if any
	ClassName string       // name of the directly enclosing class, for methods
	Parent    *Scope
}

// IsModule reports whether s is the module scope.
func (s *Scope) IsModule() bool { return s.Node.Type() == "module" }

// Body is the block of statements the scope runs.
func (s *Scope) Body() *sitter.Node {
	if s.IsModule() {
		return s.Node
	}
	return s.Node.ChildByFieldName("body")
}

// FirstLine is the line CPython reports as co_firstlineno (decorators included).
func (s *Scope) FirstLine() int {
	if s.Def != nil {
		return Line(s.Def)
	}
	return Line(s.Node)
}

// Scopes lists every function scope of the file, plus the module.
func (f *File) Scopes() []*Scope {
	mod := &Scope{Node: f.Root, Qualname: "<module>"}
	out := []*Scope{mod}
	var walk func(n *sitter.Node, prefix string, parent *Scope, class string)
	walk = func(n *sitter.Node, prefix string, parent *Scope, class string) {
		for i := 0; i < int(n.NamedChildCount()); i++ {
			c := n.NamedChild(i)
			def := (*sitter.Node)(nil)
			target := c
			if c.Type() == "decorated_definition" {
				def = c
				target = c.ChildByFieldName("definition")
				if target == nil {
					continue
				}
			}
			switch target.Type() {
			case "function_definition":
				name := f.Text(target.ChildByFieldName("name"))
				s := &Scope{Node: target, Qualname: prefix + name, Def: def, ClassName: class, Parent: parent}
				out = append(out, s)
				walk(target.ChildByFieldName("body"), prefix+name+".<locals>.", s, "")
			case "class_definition":
				name := f.Text(target.ChildByFieldName("name"))
				walk(target.ChildByFieldName("body"), prefix+name+".", parent, name)
			default:
				if c.Type() != "lambda" {
					walk(c, prefix, parent, class)
				}
			}
		}
	}
	walk(f.Root, "", mod, "")
	return out
}

// FindScope finds the scope recorded as (qualname, firstline). On Python
// versions without co_qualname, qualname may be a bare name; firstline decides.
func (f *File) FindScope(qualname string, firstline int) (*Scope, error) {
	if qualname == "<module>" {
		return f.Scopes()[0], nil
	}
	var byLine []*Scope
	for _, s := range f.Scopes()[1:] {
		if s.FirstLine() == firstline || Line(s.Node) == firstline {
			if s.Qualname == qualname {
				return s, nil
			}
			byLine = append(byLine, s)
		}
	}
	for _, s := range byLine {
		if strings.HasSuffix(s.Qualname, "."+qualname) || s.Qualname == qualname || lastName(s.Qualname) == qualname {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no function %s defined at line %d", qualname, firstline)
}

func lastName(q string) string {
	if i := strings.LastIndex(q, "."); i >= 0 {
		return q[i+1:]
	}
	return q
}

// FunctionByName finds functions whose qualname is q or ends with "."+q.
func (f *File) FunctionByName(q string) []*Scope {
	var out []*Scope
	for _, s := range f.Scopes()[1:] {
		if s.Qualname == q || strings.HasSuffix(s.Qualname, "."+q) {
			out = append(out, s)
		}
	}
	return out
}

// FindClass finds the class whose body is recorded as code (name, firstline):
// a class_definition named like the last part of qualname starting on
// firstline (or whose decorators start there).
func (f *File) FindClass(qualname string, firstline int) (*Scope, error) {
	name := lastName(qualname)
	var found *Scope
	var walk func(n *sitter.Node, prefix string)
	walk = func(n *sitter.Node, prefix string) {
		for i := 0; i < int(n.NamedChildCount()) && found == nil; i++ {
			c := n.NamedChild(i)
			target, def := c, (*sitter.Node)(nil)
			if c.Type() == "decorated_definition" {
				def, target = c, c.ChildByFieldName("definition")
				if target == nil {
					continue
				}
			}
			if target.Type() == "class_definition" {
				cn := f.Text(target.ChildByFieldName("name"))
				if cn == name && (Line(target) == firstline || (def != nil && Line(def) == firstline)) {
					found = &Scope{Node: target, Qualname: prefix + cn, Def: def, ClassName: cn}
					return
				}
			}
			walk(c, prefix)
		}
	}
	walk(f.Root, "")
	if found == nil {
		return nil, fmt.Errorf("no class %s defined at line %d", qualname, firstline)
	}
	return found, nil
}
