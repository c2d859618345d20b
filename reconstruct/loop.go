package reconstruct

// The rest of an interrupted loop iteration, shared by `for` (loop_for.go)
// and `while` (loop_while.go): the rest of the iteration runs inline, then
// the loop goes on (its header reports its line as the original's jump
// back to it does). When the rest can break or continue the loop, it runs
// in a one-shot loop they leave (Runtime.once): on 3.10+ with the loop in
// that one-shot loop's else; on 3.8/3.9, which report a line event at every
// line-table entry, the loop follows the one-shot loop and runs unless a
// break left it (Runtime.enter/fall/ran). A position in the loop's else
// clause is the else's statements, then what follows the loop.

import (
	"github.com/pyreplay/pyreplay/astinfo"
)

// wrapLoop emits the rest of loop path[k].Owner from a position in its
// body (or else clause); inner emits the rest of the body at an indent.
func (b *builder) wrapLoop(e *emitter, fi *frameInfo, k, ind int, inner func(int) error) error {
	st := fi.path[k]
	o := st.Owner
	line, col := astinfo.Line(o), astinfo.Col(o)
	if st.Clause == "else" {
		return inner(ind)
	}
	loop := func(ind int) {
		if o.Type() == "for_statement" {
			b.emitForAgain(e, fi, k, ind) // loop_for.go
		} else {
			b.emitWhileAgain(e, fi, o, ind) // loop_while.go
		}
	}
	if !astinfo.LeavesLoop(o) {
		if err := inner(ind); err != nil {
			return err
		}
		loop(ind)
		return nil
	}
	// a break or continue of the loop: the rest of the iteration runs in
	// a one-shot loop that they leave
	if b.ver.AtLeast(10) {
		// with the loop in its else. Its jump back reports the loop's
		// line as the original's does; the else's loop starts on that
		// same line, reached going forward: no second event
		e.synth(ind, rtOnceLoop(), line, col)
		if err := inner(ind + 4); err != nil {
			return err
		}
		e.synth(ind, "else:", line, col)
		loop(ind + 4)
		return nil
	}
	// 3.8 and 3.9 report a line event at the start of every line-table
	// entry, and an else's loop starts one of its own: the loop comes
	// after the one-shot loop instead, run unless a break left it, in
	// the entry of the line the original's jump back reports (the
	// loop's, or the body's first for `while True`). Line 0 is "the line
	// before goes on" for them: those lines add no entry.
	back := line
	if o.Type() == "while_statement" {
		back = whileBackLine(fi.file, o) // loop_while.go
	}
	e.synth(ind, rtEnter(fi.idx, k), back, col)
	e.synth(ind, rtOnceLoop(), 0, 0)
	if err := inner(ind + 4); err != nil {
		return err
	}
	e.synth(ind+4, rtFall(fi.idx, k), back, col)
	e.synth(ind+4, "break", 0, 0)
	e.synth(ind, "else:", 0, 0)
	e.synth(ind+4, rtFall(fi.idx, k), 0, 0)
	e.synth(ind, "if "+rtRan(fi.idx, k)+":", 0, 0)
	loop(ind + 4)
	return nil
}
