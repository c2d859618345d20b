package reconstruct

// A class body in progress. The class body frame is never a chunk of its
// own: its caller, stopped in mode classbody at the class statement
// (CPython's __build_class__ call), re-runs the class statement with the
// recorded decorators and bases (value-stack items), the recorded
// namespace put back first (Runtime.class_ns), then the rest of the body
// from the class frame's position (blocks.go emitLevel). Runtime.classfix,
// applied innermost, points the recorded __class__ cell (super() in
// methods defined before the snapshot) at the new class. A class body
// that has not run a statement yet (its class line) is mode entry.
// A class statement in a block path (a class body enclosing the position
// of a function frame) is refused (plan.go analyseFrame).

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// classBodyScope finds the class of class body frame fi in its recorded source.
func (b *builder) classBodyScope(fi *frameInfo) error {
	sc, err := fi.file.FindClass(fi.fr.Function, fi.fr.FirstLine)
	if err != nil {
		return b.refuse(fi.fr, 0, "class %s not found in the recorded source", fi.fr.Function)
	}
	fi.scope = sc
	return nil
}

// classBodyNotStarted: a class body frame at its class line, before its
// first statement.
func classBodyNotStarted(fi *frameInfo) bool {
	return fi.fr.Line == astinfo.Line(fi.scope.Node) || fi.fr.Line == fi.scope.FirstLine()
}

// analyseClassStatement: frame fi is running a class statement whose body
// is the next frame (a call of __build_class__).
func (b *builder) analyseClassStatement(fi *frameInfo) error {
	fr, f := fi.fr, fi.file
	line, col := fr.Line, -1
	if len(fr.Pos) == 4 && fr.Pos[0] != nil && fr.Pos[2] != nil {
		line, col = *fr.Pos[0], *fr.Pos[2]
	}
	st := f.StatementAt(fi.scope, line)
	var decorated *sitter.Node
	if st != nil && st.Type() == "decorated_definition" {
		decorated, st = st, st.ChildByFieldName("definition")
	}
	if st == nil {
		// the class line of `@decorator\nclass C:` starts no statement of
		// the scope: the decorated definition starts at the decorator
		for _, d := range astinfo.FindNodes(fi.scope.Body(), "decorated_definition") {
			if def := d.ChildByFieldName("definition"); def != nil && astinfo.Line(def) == line {
				decorated, st = d, def
			}
		}
	}
	if st == nil || st.Type() != "class_definition" || (col >= 0 && astinfo.Col(st) != col) {
		return b.refuse(fr, 0, "a class body in progress whose class statement was not found")
	}
	if sup := st.ChildByFieldName("superclasses"); sup != nil {
		for _, a := range namedChildren(sup) {
			if a.Type() != "identifier" && a.Type() != "attribute" && a.Type() != "subscript" && a.Type() != "call" {
				return b.refuse(fr, 0, "a class statement with %s in its header", a.Type())
			}
		}
		if len(namedChildren(sup)) != fr.NBases {
			return b.refuse(fr, 0, "a class statement whose bases could not be matched")
		}
	} else if fr.NBases != 0 {
		return b.refuse(fr, 0, "a class statement whose bases could not be matched")
	}
	fi.stmt, fi.class = st, st
	if decorated != nil {
		// its decorators were evaluated before the body started: their
		// values sit on the value stack below the bases
		fi.stmt = decorated
		fi.decorators = len(childrenOfType(decorated, "decorator"))
	}
	fi.mode = modeClassBody
	return nil
}

// emitClassBody emits the class statement whose body is in progress: the
// recorded bases, the recorded namespace, then the rest of the body.
// Helpers: Runtime.S, Runtime.classfix, Runtime.class_ns.
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
		e.synth(ind, "@"+rtS(fi.idx, fi.blockItems+j), astinfo.Line(d), astinfo.Col(d))
	}
	var bases []string
	for j := 0; j < fi.fr.NBases; j++ {
		bases = append(bases, rtS(fi.idx, fi.blockItems+fi.decorators+j))
	}
	name := fi.file.Text(st.ChildByFieldName("name"))
	e.synth(ind, "@"+rtClassfix(cls.idx), line, col)
	header := "class " + name
	if len(bases) > 0 {
		header += "(" + strings.Join(bases, ", ") + ")"
	}
	e.synth(ind, header+":", line, col)
	bodyInd := ind + 4
	nsLine := line
	if cls.mode == modeEntry && cls.innermost {
		// a class body reports its class line, then (decorated) its first
		// decorator's line, then its statements'; the snapshot was taken at
		// one of the first two: class_ns reports it (the snapshot's own
		// event), a no-op the decorator's line if that is still to come
		e.arrive(bodyInd, cls.fr.Line)
		nsLine = cls.fr.Line
	}
	e.synth(bodyInd, rtClassNs(cls.idx), nsLine, col)
	if decos := childrenOfType(fi.stmt, "decorator"); cls.mode == modeEntry && cls.innermost && len(decos) > 0 && nsLine == line {
		e.synth(bodyInd, rtNoop(), astinfo.Line(decos[0]), col)
	}
	if cls.mode == modeEntry {
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
