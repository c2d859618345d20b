package reconstruct

// A function frame: its chunk defines, inside a factory (_pyr_factory,
// which also gives the recorded cells their names), a resume function with
// the original parameters; its body restores the recorded locals
// (Runtime.L) and runs the rest of the function from the recorded
// position (blocks.go). The shim binds the function to the recorded cells
// (Runtime.function) and callers call it as RT.F[i] with the recorded
// arguments (Runtime.A; callee.go calleeExpr). A method's resume function
// sits in a class of the method's class name so that its qualname and
// private-name mangling are the original's.

import (
	"fmt"
	"sort"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// functionScope finds the function of frame fi in its recorded source.
func (b *builder) functionScope(fi *frameInfo) error {
	sc, err := fi.file.FindScope(fi.fr.Function, fi.fr.FirstLine)
	if err != nil {
		return b.refuse(fi.fr, 0, "function %s not found in the recorded source", fi.fr.Function)
	}
	fi.scope = sc
	return nil
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
	if fi.mode == modeEntry && !fi.innermost {
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
		e.synth(ind, n+" = "+rtL(fi.idx, n), defLine, col)
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
