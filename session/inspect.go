package session

// Inspecting a stop: the current stop, children of live values, and
// evaluation (in the live program at the live stop, from the snapshot in
// the past).

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// ------------------------------------------------------------------ inspecting

// Current is the stop at the cursor, its snapshot, and whether it is the
// live program's present.
func (d *Engine) Current() (Stop, *wire.Snapshot, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		return Stop{}, nil, false, err
	}
	st, s, err := d.curSnapLocked()
	return st, s, d.live != nil && d.cur == d.liveStop, err
}

// curSnapLocked is the stop at the cursor and its snapshot. A snapshot that
// is gone (a run recording with --max-snapshots prunes its oldest periodic
// snapshots while it is replayed) leaves the history, and the cursor moves
// on to the next stop that still exists: one clear error only when none is
// left.
func (d *Engine) curSnapLocked() (Stop, *wire.Snapshot, error) {
	for {
		st := d.hist[d.cur]
		s, err := d.snapLocked(st.Snap)
		if err == nil || !errors.Is(err, recording.ErrNoSnapshot) || len(d.hist) == 1 || d.cur == d.liveStop {
			if err != nil && errors.Is(err, recording.ErrNoSnapshot) {
				err = fmt.Errorf("%s was removed from the recording (pruned by --max-snapshots) and no other snapshot of this session is left", recording.SnapID(st.Snap))
			}
			return st, s, err
		}
		d.hist = append(d.hist[:d.cur:d.cur], d.hist[d.cur+1:]...)
		if d.liveStop > d.cur {
			d.liveStop--
		}
		if d.cur >= len(d.hist) {
			d.cur = len(d.hist) - 1
		}
	}
}

// Position is the cursor and the live program's generation; a Token taken
// at a stop is valid for live requests only while both are unchanged.
type Token struct{ Cur, Gen int }

// Token identifies the present stop.
func (d *Engine) Token() Token {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Token{d.cur, d.gen}
}

// IsLive says whether tok still names the live program's current stop.
func (d *Engine) IsLive(tok Token) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live != nil && d.liveStop >= 0 && tok.Cur == d.liveStop && tok.Gen == d.gen && d.cur == tok.Cur
}

// LiveRoot names a value in the live program for LiveChildren.
type LiveRoot struct {
	Frame  int    // index in the snapshot's frames (locals)
	Module string // globals of this module, if set
	Name   string
	Result int // an evaluation result, if > 0
}

// LiveChildren fetches children of a live value (beyond what the snapshot
// recorded): path is positions from the root, start/count a page.
func (d *Engine) LiveChildren(tok Token, root LiveRoot, path []int, start, count int) ([]wire.Value, int, error) {
	if !d.IsLive(tok) {
		return nil, 0, errors.New("not the live stop")
	}
	d.mu.Lock()
	l := d.live
	d.mu.Unlock()
	var r wire.ChildRoot
	switch {
	case root.Result > 0:
		r.Result = root.Result
	case root.Module != "":
		r.Module, r.Name = root.Module, root.Name
	default:
		r.Name = root.Name
	}
	var body wire.ChildrenReply
	err := l.CallInterruptible(wire.CmdChildren, wire.ChildrenArgs{Root: r, Frame: root.Frame, Path: path, Start: start, Count: count}, &body)
	return body.Children, body.Len, err
}

// EvalResult is the value of an evaluation; Ref > 0 names it in the live
// program (for LiveChildren).
type EvalResult struct {
	Value wire.Value
	Ref   int
	Live  bool
	// Refreshed: the live stop was snapshotted again after the evaluation
	// (a Debug Console one may change values): its views are new.
	Refreshed bool
}

// Evaluate evaluates expr in frame (an index into the snapshot's frames):
// in the live program at the live stop, from the snapshot in the past.
func (d *Engine) Evaluate(tok Token, frame int, expr, context string) (EvalResult, error) {
	d.mu.Lock()
	if err := d.needStopLocked(); err != nil {
		d.mu.Unlock()
		return EvalResult{}, err
	}
	live := d.live != nil && d.liveStop >= 0 && d.cur == d.liveStop && tok.Cur == d.cur && tok.Gen == d.gen
	l := d.live
	_, s, err := d.curSnapLocked()
	d.mu.Unlock()
	if err != nil {
		return EvalResult{}, err
	}
	if live {
		var body wire.EvaluateReply
		err := l.CallInterruptible(wire.CmdEvaluate, wire.EvaluateArgs{Frame: frame, Expr: expr, Context: context}, &body)
		// the Debug Console may change what the views show
		refreshed := context == "repl" && d.refreshLive(tok)
		if err != nil {
			return EvalResult{Refreshed: refreshed}, err
		}
		return EvalResult{Value: body.Value, Ref: body.Ref, Live: true, Refreshed: refreshed}, nil
	}
	v, err := EvalPast(s, frame, expr)
	if err == nil {
		return EvalResult{Value: v}, nil
	}
	// not a recorded name or part of one: evaluate on a copy of the past
	if frame < 0 || frame >= len(s.Frames) || s.Frames[frame].Library {
		return EvalResult{}, err
	}
	if s.N < 0 {
		// a line of the past (line history): its views only, unless the
		// console, a watch or a hover of a name, attribute or item (no
		// call) asks for more; then it is made a recorded snapshot (a
		// re-execution to it, once) to evaluate on
		if context != "repl" && context != "watch" && (context != "hover" || strings.Contains(expr, "(")) {
			return EvalResult{}, err
		}
		rs, rf, rerr := d.PastFrame(s, frame)
		if rerr != nil {
			return EvalResult{}, fmt.Errorf("%v (%v)", err, rerr)
		}
		frame, s = rf, rs
	}
	// evaluating on the recorded state loads it: only a signed snapshot
	// (checked once per snapshot: the check reads and hashes its state)
	if err := d.verifyOnce(s.N); err != nil {
		return EvalResult{}, err
	}
	pe, perr := d.pastEvaluator(s)
	if perr != nil {
		return EvalResult{}, err
	}
	v, perr = pe.eval(s, frame, expr)
	if perr != nil {
		return EvalResult{}, fmt.Errorf("%v (evaluated on %s as recorded)", perr, s.ID)
	}
	return EvalResult{Value: v}, nil
}

// PastFrame is frame `frame` of s, a line of the past (line history), as
// the program had it there, with its globals: s made a recorded snapshot
// (a re-execution to that line event, once: recordedStop) and the same
// frame in it, counted from the top among the program's frames. A caller's
// views in s are its values at its own last line, not the ones its
// callee may have changed since.
func (d *Engine) PastFrame(s *wire.Snapshot, frame int) (*wire.Snapshot, int, error) {
	m, err := d.recordedStop(s.N)
	if err != nil {
		return nil, -1, err
	}
	rs, err := d.store.Get(m)
	if err != nil {
		return nil, -1, err
	}
	pos := slices.Index(UserFrames(s), frame)
	rf := UserFrames(rs)
	if pos < 0 || pos >= len(rf) {
		return nil, -1, fmt.Errorf("the recorded snapshot of this line of the past has no frame %d", frame)
	}
	return rs, rf[pos], nil
}

// refreshLive snapshots the live stop tok names again (its values may have
// changed); the history keeps one stop, now with the new snapshot. It
// says whether it did: the front end then fetches the values again.
func (d *Engine) refreshLive(tok Token) bool {
	if !d.IsLive(tok) {
		return false
	}
	d.mu.Lock()
	l, idx := d.live, d.liveStop
	d.mu.Unlock()
	var r wire.RefreshReply
	if err := l.Call(wire.CmdRefresh, nil, &r); err != nil || r.Snap <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.live != l || d.liveStop != idx {
		return false
	}
	d.hist[idx].Snap = r.Snap
	return true
}

// SetVariable assigns value (a Python expression) to target (an
// expression naming a variable, item or attribute) in frame of the live
// stop tok names, and returns its new value; the stop is snapshotted
// again (refreshLive). The past cannot be changed.
func (d *Engine) SetVariable(tok Token, frame int, target, value string) (wire.Value, error) {
	if !d.IsLive(tok) {
		return wire.Value{}, errors.New("values can be set at the live stop only: this stop is in the past, as recorded")
	}
	d.mu.Lock()
	l := d.live
	d.mu.Unlock()
	var body wire.EvaluateReply
	err := l.CallInterruptible(wire.CmdEvaluate, wire.EvaluateArgs{Frame: frame, Expr: target + " = (" + value + ")", Context: "repl"}, &body)
	if err != nil {
		return wire.Value{}, err
	}
	if err := l.CallInterruptible(wire.CmdEvaluate, wire.EvaluateArgs{Frame: frame, Expr: target, Context: "watch"}, &body); err != nil {
		return wire.Value{}, err
	}
	d.refreshLive(tok)
	return body.Value, nil
}

// verifyOnce checks snapshot n's signature (internal/trust) the first time
// its state is to be loaded in this session.
func (d *Engine) verifyOnce(n int64) error {
	d.mu.Lock()
	done := d.verified[n]
	d.mu.Unlock()
	if done {
		return nil
	}
	key, err := trust.UserKey()
	if err != nil {
		return err
	}
	if err := d.store.Verify(n, key); err != nil {
		return err
	}
	d.mu.Lock()
	if d.verified == nil {
		d.verified = map[int64]bool{}
	}
	d.verified[n] = true
	d.mu.Unlock()
	return nil
}

// pastEvaluator is the helper process for snapshots recorded by the
// interpreter of s's run (the state unpickles only there).
func (d *Engine) pastEvaluator(s *wire.Snapshot) (*pastEval, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	python, err := launch.SnapshotPython(d.python, s)
	if err != nil {
		return nil, err
	}
	if d.past == nil {
		d.past = map[string]*pastEval{}
	}
	pe := d.past[python]
	if pe == nil {
		pe = &pastEval{python: python, db: d.store.Path}
		d.past[python] = pe
	}
	return pe, nil
}
