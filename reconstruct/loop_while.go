package reconstruct

// A `while` loop. It keeps nothing on the value stack. Resumed:
//   - a position in the body: the rest of the iteration (loop.go), then
//     the while statement as written, which tests its condition again.
//     3.8 and 3.9 compile `while True:` (any constant true condition) to
//     no code of its own and never report its line: it is re-emitted as a
//     `while True:` on line 0 with the body, the jump back reporting the
//     body's first line (whileBackLine);
//   - a call in progress in the condition (call.go): the condition with the
//     call replaced is tested once as an `if`; when true, the body runs in
//     a one-shot loop (so break and continue keep their meaning) whose
//     else is the while statement as written; the loop's else clause is
//     the if's else.
// Helpers: Runtime.once (and Runtime.enter/fall/ran, loop.go).

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// emitWhileAgain: while loop o goes on after the rest of its iteration.
func (b *builder) emitWhileAgain(e *emitter, fi *frameInfo, o *sitter.Node, ind int) {
	if !b.ver.AtLeast(10) && constantTrue(fi.file, o.ChildByFieldName("condition")) {
		// 3.8 and 3.9 compile `while True:` to no code of its own and
		// never report its line: the jump back reports the body's
		// first line. Line 0 (for them "the line before goes on")
		// keeps the header from reporting it here either. Its else
		// never runs: only a break leaves such a loop.
		e.synth(ind, "while True:", 0, 0)
		for _, s := range astinfo.Statements(o.ChildByFieldName("body")) {
			e.node(ind+4, s, nil)
		}
		return
	}
	e.node(ind, o, nil)
}

// whileBackLine is the line 3.8/3.9 report when while loop o jumps back:
// its own, or its body's first for a constant true condition.
func whileBackLine(f *astinfo.File, o *sitter.Node) int {
	back := astinfo.Line(o)
	if constantTrue(f, o.ChildByFieldName("condition")) {
		if sts := astinfo.Statements(o.ChildByFieldName("body")); len(sts) > 0 {
			back = astinfo.Line(sts[0])
		}
	}
	return back
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

// emitWhileCall emits while statement st whose condition holds the call in
// progress; repls rewrite the statement (the call and its operands).
func (b *builder) emitWhileCall(e *emitter, st *sitter.Node, ind int, repls []repl) {
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
	e.synth(ind+4, rtOnceLoop(), line, col)
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
}
