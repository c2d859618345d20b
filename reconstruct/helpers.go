package reconstruct

// The runtime helpers the generated code calls: one Go definition each,
// formatting the call of the method of the same name of class Runtime in
// pyshim/pyreplay_shim/resume.py (exposed as the builtin RT). The construct
// files name the helpers they use; nothing else formats an RT call.

import (
	"fmt"
	"strings"
)

// RT is the name under which the shim exposes resume helpers (a builtin).
const RT = "__pyreplay_rt__"

// rtL: local name of frame i as recorded (Runtime.L).
func rtL(i int, name string) string { return fmt.Sprintf("%s.L(%d, %q)", RT, i, name) }

// rtS: item j of frame i's recorded value stack (Runtime.S): loop
// iterators, with exits, handled exceptions, operands already evaluated.
func rtS(i, j int) string { return fmt.Sprintf("%s.S(%d, %d)", RT, i, j) }

// rtA: argument k of frame i's resume function (Runtime.A).
func rtA(i, k int) string { return fmt.Sprintf("%s.A(%d, %d)", RT, i, k) }

// rtF: a call of frame i's resume function (Runtime.F, filled by Runtime.function).
func rtF(i int, args []string) string {
	return fmt.Sprintf("%s.F[%d](%s)", RT, i, strings.Join(args, ", "))
}

// rtG: the rebuilt generator of generator frame i (Runtime.G).
func rtG(i int) string { return fmt.Sprintf("%s.G(%d)", RT, i) }

// rtOnceLoop: the header of the one-shot loop that finishes an interrupted
// iteration (Runtime.once; the loop variable is Runtime.x).
func rtOnceLoop() string { return fmt.Sprintf("for %s.x in %s.once():", RT, RT) }

// rtEnter, rtFall, rtRan: 3.8/3.9 only, whether the rest of loop k of
// frame i ended without a break (Runtime.enter/fall/ran).
func rtEnter(i, k int) string { return fmt.Sprintf("%s.enter(%d, %d)", RT, i, k) }
func rtFall(i, k int) string  { return fmt.Sprintf("%s.fall(%d, %d)", RT, i, k) }
func rtRan(i, k int) string   { return fmt.Sprintf("%s.ran(%d, %d)", RT, i, k) }

// rtArrive: the innermost frame reached its recorded position, line (0
// before any line), whose next line event is the snapshot's own (Runtime.arrive).
func rtArrive(line int) string { return fmt.Sprintf("%s.arrive(%d)", RT, line) }

// rtNoop: a statement that does nothing but report its line event (the
// attribute Runtime.x).
func rtNoop() string { return RT + ".x = None" }

// rtExitcm: a context manager calling the recorded __exit__ in stack item
// j of frame i, never __enter__ (Runtime.exitcm).
func rtExitcm(i, j int) string { return fmt.Sprintf("%s.exitcm(%d, %d)", RT, i, j) }

// rtExc: the exception captured with the snapshot (Runtime.exc).
func rtExc() string { return RT + ".exc()" }

// rtHandled: the exception a handler saved in stack item j of frame i (Runtime.handled).
func rtHandled(i, j int) string { return fmt.Sprintf("%s.handled(%d, %d)", RT, i, j) }

// rtInit: a class call whose __init__ (frame i) was in progress: the
// instance once call returns (Runtime.init).
func rtInit(i int, call string) string { return fmt.Sprintf("%s.init(%d, %s)", RT, i, call) }

// rtCallee: the callable of a call in progress, from the n stack items of
// frame i from base on (Runtime.callee). base is text: a placeholder of
// the call's rewrite (call.go) until its slots are numbered.
func rtCallee(i int, base string, n int) string {
	return fmt.Sprintf("%s.callee(%d, %s, %d)", RT, i, base, n)
}

// rtClassNs: a class body's namespace filled with what it held (Runtime.class_ns).
func rtClassNs(i int) string { return fmt.Sprintf("%s.class_ns(%d, locals())", RT, i) }

// rtClassfix: the decorator pointing class body frame i's __class__ cell at
// the class (Runtime.classfix).
func rtClassfix(i int) string { return fmt.Sprintf("%s.classfix(%d)", RT, i) }

// rtIopOpen: the opening of `operator.i<op>(loaded, ` (Runtime.iop); the
// right operand and ")" follow.
func rtIopOpen(op, loaded string) string { return fmt.Sprintf("%s.iop(%q, %s, ", RT, op, loaded) }

// rtImp: finish the top-level code of module frame i whose import was in
// progress (Runtime.imp).
func rtImp(i int) string { return fmt.Sprintf("%s.imp(%d)", RT, i) }
