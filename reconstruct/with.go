package reconstruct

// A `with` statement. While its body runs, the value stack holds one item
// per with item: the bound __exit__ of each context manager (the shim
// records what the frame held, pyshim capture.py). Resumed from a position
// in the body, the body's rest runs inside
//     with RT.exitcm(i, j), ...:
// whose context managers call the recorded __exit__ when the body ends
// (normally or by an exception) and never call __enter__ again
// (Runtime.exitcm, _ExitCM in resume.py). A position inside the with
// header (a non-primary line event) is refused (plan.go analyseLine); a
// call in progress in the header is resumed only in its first item, the
// others not entered yet (call.go). An async with is refused.
// Helpers: Runtime.exitcm.

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// withItemCount is the number of value-stack items a with statement keeps
// while its body runs: one per item.
func withItemCount(st astinfo.Step) int {
	return len(withItems(st.Owner))
}

func withItems(w *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(w.NamedChildCount()); i++ {
		c := w.NamedChild(i)
		if c.Type() == "with_clause" {
			for j := 0; j < int(c.NamedChildCount()); j++ {
				if c.NamedChild(j).Type() == "with_item" {
					out = append(out, c.NamedChild(j))
				}
			}
		}
	}
	return out
}

// wrapWith emits the rest of with statement path[k].Owner from a position
// in its body; inner emits the rest of the body at an indent.
func (b *builder) wrapWith(e *emitter, fi *frameInfo, k, ind int, inner func(int) error) error {
	o := fi.path[k].Owner
	var cms []string
	for j := range withItems(o) {
		cms = append(cms, rtExitcm(fi.idx, fi.blockSlot[k]+j))
	}
	e.synth(ind, "with "+strings.Join(cms, ", ")+":", astinfo.Line(o), astinfo.Col(o))
	return inner(ind + 4)
}

// withExitCall: before 3.11 the recorder has only the line of a call in
// progress, and the call a with statement makes itself to __exit__ when
// its body ends normally (LOAD_CONST None, DUP_TOP, DUP_TOP, CALL_FUNCTION
// 3, an ordinary call instruction) is at the line of the body's last
// statement (3.9) or of the with header (3.10): taken for a call of the
// source there (the header's context-manager call on 3.10), its return
// value would be entered again. A frame calling __exit__ (or __aexit__)
// from a line inside a with statement, with no call of that name on the
// line, is that call: refused like the exceptional exit's.
func (b *builder) withExitCall(fi *frameInfo) error {
	i := fi.idx
	if b.ver.AtLeast(11) || i+1 >= len(b.snap.Frames) || i >= GenBase {
		return nil
	}
	name := b.snap.Frames[i+1].Name
	if name != "__exit__" && name != "__aexit__" {
		return nil
	}
	line := fi.fr.Line
	for _, c := range fi.file.CallsOnLine(fi.scope, line) {
		if fi.file.CalleeName(c) == name {
			return nil
		}
	}
	for _, w := range astinfo.FindNodes(fi.scope.Body(), "with_statement") {
		if astinfo.Line(w) <= line && line <= astinfo.EndLine(w) {
			return b.refuse(fi.fr, 0, "%s in progress", implicitCall("WITH_EXCEPT_START"))
		}
	}
	return nil
}
