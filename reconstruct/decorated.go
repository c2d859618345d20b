package reconstruct

// A decorated definition whose decorators are evaluated: the frame stands
// at its def or class line (3.11+ report a line event there after the
// decorator expressions, before the function or class is made), with the
// decorators' values on the value stack above the block items. The resume
// applies the recorded values as the decorators and runs the definition as
// written. Helpers: Runtime.S (the recorded decorators), Runtime.arrive.
//
// Line events: the original reports, after this one, the class body's (or
// none for a def), then each decorator's call at its own line, then the
// def line again (the name's store). The resume's decorator expressions and
// its arrival share the first decorator's line, so evaluating them reports
// nothing new; the def line's event is the snapshot's own. With several
// decorators their calls would report one line instead of each of theirs:
// refused.

import (
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// decoratedAt is the decorated definition of fi's scope whose def or class
// line is line, if any.
func decoratedAt(fi *frameInfo, line int) *sitter.Node {
	for _, d := range astinfo.FindNodes(fi.scope.Body(), "decorated_definition") {
		def := d.ChildByFieldName("definition")
		if def == nil || astinfo.Line(def) != line || astinfo.Line(def) == astinfo.Line(d) {
			continue
		}
		if fi.file.StatementAt(fi.scope, astinfo.Line(d)) == d {
			return d
		}
	}
	return nil
}

// analyseDecorated takes the position at a decorated definition's def line.
func (b *builder) analyseDecorated(fi *frameInfo, d *sitter.Node) error {
	// the def line reports a second event after the decorators' calls
	// (3.11+): the finished definition on the stack, about to be stored
	if fi.fr.Primary != nil && !*fi.fr.Primary {
		if !strings.HasPrefix(fi.fr.Op, "STORE_") {
			return b.refuse(fi.fr, 0, "a decorated definition in progress (instruction %s)", fi.fr.Op)
		}
		fi.stmt, fi.mode = d, modeDecoratedStore
		return nil
	}
	decos := childrenOfType(d, "decorator")
	if len(decos) != 1 {
		return b.refuse(fi.fr, 0, "a definition with %d decorators at its def line", len(decos))
	}
	fi.stmt, fi.mode, fi.decorators = d, modeDecorated, len(decos)
	return nil
}

// emitDecorated: the recorded decorator values applied to the definition.
func (b *builder) emitDecorated(e *emitter, fi *frameInfo, ind int) error {
	want := fi.blockItems + fi.decorators
	if fi.fr.Stack == nil || len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	d := fi.stmt
	decos := childrenOfType(d, "decorator")
	first := astinfo.Line(decos[0])
	if fi.innermost {
		e.synth(ind, rtArrive(fi.fr.Line), first, astinfo.Col(d))
	}
	for j := range decos {
		e.synth(ind, fmt.Sprintf("@%s", rtS(fi.idx, fi.blockItems+j)), first, astinfo.Col(d))
	}
	e.node(ind, d.ChildByFieldName("definition"), nil)
	return nil
}

// emitDecoratedStore: the decorated definition is made; its name is bound
// to the recorded result.
func (b *builder) emitDecoratedStore(e *emitter, fi *frameInfo, ind int) error {
	want := fi.blockItems + 1
	if fi.fr.Stack == nil || len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	def := fi.stmt.ChildByFieldName("definition")
	name := def.ChildByFieldName("name")
	if name == nil {
		return b.refuse(fi.fr, 0, "a decorated definition without a name")
	}
	e.synth(ind, fi.file.Text(name)+" = "+rtS(fi.idx, fi.blockItems), astinfo.Line(def), astinfo.Col(def))
	return nil
}
