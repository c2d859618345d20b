package reconstruct

// A `for` loop. While its body runs, the value stack holds the loop's
// iterator (one item), which the shim saves with the state: a dict's
// keys/values/items iterator or a set's as its container and the count
// already consumed, rebuilt at that point (pyshim state.py rebuild_iter;
// one whose dict changed size raises as the original would, broken_iter);
// a generator as the rebuilt generator (frame_generator.go). Resumed:
//   - a position in the body: the rest of the iteration (loop.go), then
//     the same for statement looping over the recorded iterator, RT.S(i, j);
//   - fetching the next item (mode loopnext: a non-primary line event at
//     FOR_ITER, or the frame is calling a generator that drives the loop):
//     the for statement over the recorded iterator;
//   - any other position inside the for header is refused (plan.go analyseLine).
// Helpers: Runtime.S (and Runtime.once/enter/fall/ran, loop.go).

import (
	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// forItems is the number of value-stack items a for loop keeps while
// clause st runs: the iterator, in its body.
func forItems(st astinfo.Step) int {
	if st.Clause == "body" {
		return 1
	}
	return 0
}

// analyseForDrivingGenerator: the frame is fetching the next item of a for
// loop from the next frame, a generator.
func (b *builder) analyseForDrivingGenerator(fi *frameInfo) error {
	st := fi.file.StatementAt(fi.scope, fi.fr.Line)
	if st == nil || st.Type() != "for_statement" {
		return b.refuse(fi.fr, 0, "a generator driven by something other than a for statement")
	}
	fi.stmt = st
	fi.mode = modeLoopNext
	return nil
}

// forDrivesGenerator: frame fi's call in progress is its for loop's
// FOR_ITER into a generator frame.
func (b *builder) forDrivesGenerator(fi *frameInfo) bool {
	i := fi.idx
	return fi.fr.Op == "FOR_ITER" && i+1 < len(b.snap.Frames) && b.snap.Frames[i+1].Generator
}

// forOverRecorded is the for statement o looping over the recorded
// iterator in stack item slot.
func (b *builder) forOverRecorded(e *emitter, fi *frameInfo, o *sitter.Node, slot, ind int) {
	right := o.ChildByFieldName("right")
	e.node(ind, o, []repl{{right.StartByte(), right.EndByte(), rtS(fi.idx, slot)}})
}

// emitForAgain: the loop path[k] goes on after the rest of its iteration.
func (b *builder) emitForAgain(e *emitter, fi *frameInfo, k, ind int) {
	b.forOverRecorded(e, fi, fi.path[k].Owner, fi.blockSlot[k], ind)
}

// emitLoopNext: mode loopnext, the for statement fetching its next item.
func (b *builder) emitLoopNext(e *emitter, fi *frameInfo, ind int) error {
	if fi.fr.Stack == nil || len(fi.fr.Stack) != fi.blockItems {
		return b.stackMismatch(fi, fi.blockItems)
	}
	b.forOverRecorded(e, fi, fi.stmt, fi.blockSlot[len(fi.path)], ind)
	return nil
}
