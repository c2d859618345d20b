package reconstruct

// One chunk per frame: a module frame's code runs in its module's
// namespace; a function frame's chunk defines the resume function (its
// original parameters, the recorded locals restored) whose body is the
// rest of the function from the recorded position (blocks.go).

import (
	"fmt"
	"sort"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

func (b *builder) chunk(fi *frameInfo, next *frameInfo) (*Chunk, error) {
	fr := fi.fr
	e := newEmitter(fi.file)
	c := &Chunk{Frame: fi.idx, File: fr.File, Module: fr.ModuleName, Qualname: fr.Function, Name: fr.Name, Library: fr.Library}
	indent := 0
	if fr.Module {
		c.Kind = "module"
	} else {
		c.Kind = "function"
		var err error
		indent, err = b.functionHeader(e, fi, c)
		if err != nil {
			return nil, err
		}
	}
	// the statement at the position, then the rest of each enclosing block
	subst, err := b.substFor(fi, next)
	if err != nil {
		return nil, err
	}
	if fi.mode == "entry" {
		if fi.innermost {
			e.arrive(indent, 0)
		}
		for _, st := range bodyStatements(fi.file, fi.scope) {
			e.node(indent, st, nil)
		}
	} else if err := b.emitLevel(e, fi, 0, indent, subst); err != nil {
		return nil, err
	}
	c.Source, c.Map = e.source()
	return c, nil
}

// functionHeader emits the scaffolding around a resume function and
// returns the indentation of its body.
func (b *builder) functionHeader(e *emitter, fi *frameInfo, c *Chunk) (int, error) {
	fr := fi.fr
	sc := fi.scope
	defLine := astinfo.Line(sc.Node)
	firstLine := sc.FirstLine()
	col := astinfo.Col(sc.Node)
	nargs := fr.NArgs
	if nargs > len(fr.Varnames) {
		return 0, b.refuse(fr, 0, "inconsistent parameter information")
	}
	params := fr.Varnames[:nargs]
	cellSet := map[string]bool{}
	for _, n := range fr.Cellvars {
		cellSet[n] = true
	}
	for _, n := range fr.Freevars {
		cellSet[n] = true
	}
	var cells []string
	for _, n := range append(append([]string{}, fr.Cellvars...), fr.Freevars...) {
		if n == "__class__" {
			continue
		}
		cells = append(cells, n)
	}
	c.Cells = append(append([]string{}, fr.Cellvars...), fr.Freevars...)
	e.synth(0, "def _pyr_factory():", firstLine, 0)
	ind := 4
	if len(cells) > 0 {
		e.synth(ind, strings.Join(cells, " = ")+" = None", firstLine, 0)
	}
	c.CodePath = []string{"_pyr_factory"}
	compiled := "_pyr_factory.<locals>."
	// names the scaffolding binds (the function, the class wrapper) must stay
	// globals inside the body unless they were closure variables already
	scaffold := fr.Name
	if sc.ClassName != "" {
		scaffold = sc.ClassName
	}
	inCells := false
	for _, n := range cells {
		if n == scaffold {
			inCells = true
		}
	}
	if !inCells {
		e.synth(ind, "global "+scaffold, firstLine, 0)
	}
	if sc.ClassName != "" {
		e.synth(ind, "class "+sc.ClassName+":", firstLine, 0)
		ind += 4
		c.CodePath = append(c.CodePath, sc.ClassName)
		compiled += sc.ClassName + "."
	}
	var plist []string
	for k, p := range params {
		if cellSet[p] {
			plist = append(plist, fmt.Sprintf("_pyr_p%d", k))
			c.Args = append(c.Args, ArgSource{Name: p, Cell: true})
		} else {
			plist = append(plist, p)
			c.Args = append(c.Args, ArgSource{Name: p})
		}
		if _, ok := fr.Locals[p]; !ok {
			return 0, b.refuse(fr, 0, "parameter %s is unbound", p)
		}
	}
	c.Params = params
	name := fr.Name
	e.synth(ind, "def "+name+"("+strings.Join(plist, ", ")+"):", defLine, col)
	c.CodePath = append(c.CodePath, name)
	c.Compiled = compiled + name
	ind += 4
	var nonlocals []string
	paramSet := map[string]bool{}
	for _, p := range params {
		paramSet[p] = true
	}
	for _, n := range cells {
		if !paramSet[n] || cellSet[n] {
			nonlocals = append(nonlocals, n)
		}
	}
	if len(nonlocals) > 0 {
		e.synth(ind, "nonlocal "+strings.Join(nonlocals, ", "), defLine, col)
	}
	if g := fi.file.GlobalNames(sc); len(g) > 0 {
		e.synth(ind, "global "+strings.Join(dedupe(g), ", "), defLine, col)
	}
	// the scaffolding below runs when the function starts: on the stack that
	// is during the rebuild (whose line events are held back), but a
	// generator created and not started yet runs it at its first next(),
	// where CPython reports the body's first line: it takes that line
	if fi.mode == "entry" && !fi.innermost {
		if sts := bodyStatements(fi.file, sc); len(sts) > 0 {
			defLine, col = astinfo.Line(sts[0]), astinfo.Col(sts[0])
		}
	}
	var locals []string
	for _, v := range fr.Varnames[nargs:] {
		if !cellSet[v] {
			locals = append(locals, v)
		}
	}
	if len(locals) > 0 {
		e.synth(ind, "if False: "+strings.Join(locals, " = ")+" = None", defLine, col)
	}
	if fr.Generator {
		// keep it a generator even when no yield is left in the tail
		e.synth(ind, "if False: yield", defLine, col)
	}
	names := make([]string, 0, len(fr.Locals))
	for n := range fr.Locals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if paramSet[n] || cellSet[n] {
			continue
		}
		e.synth(ind, fmt.Sprintf("%s = %s.L(%d, %q)", n, RT, fi.idx, n), defLine, col)
	}
	return ind, nil
}

// bodyStatements lists the statements of a function's body that run: not
// its docstring, which in the resume function's body would be a constant
// statement that 3.10+ compile to a NOP reporting a line event of its own.
func bodyStatements(f *astinfo.File, sc *astinfo.Scope) []*sitter.Node {
	sts := astinfo.Statements(sc.Body())
	if len(sts) > 1 && isDocstring(f, sts[0]) {
		return sts[1:]
	}
	return sts
}

// isDocstring: a statement that is a plain string literal (no f-string,
// no bytes), which as a body's first statement is its docstring.
func isDocstring(f *astinfo.File, st *sitter.Node) bool {
	if st.Type() != "expression_statement" || st.NamedChildCount() != 1 {
		return false
	}
	v := st.NamedChild(0)
	if v.Type() == "concatenated_string" && v.NamedChildCount() > 0 {
		v = v.NamedChild(0)
	}
	if v.Type() != "string" {
		return false
	}
	prefix := strings.ToLower(strings.SplitN(f.Text(v), "\"", 2)[0])
	prefix = strings.ToLower(strings.SplitN(prefix, "'", 2)[0])
	return !strings.ContainsAny(prefix, "fb")
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
