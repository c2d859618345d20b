package session

// Time travel by line (LaunchOptions/OpenOptions LineHistory): Step Back
// from a stop goes to the previous line executed in its frame (from the
// frame's first line, to its caller's line), Reverse Continue and Continue
// to the breakpoints' hits between the stops. The line events between a
// stop and an earlier snapshot of its run that resumes exactly (the
// anchor) come from re-executing the program from the anchor with its
// output going nowhere, up to the stop (launch.HistorySpec; the shim's
// linehistory.py): an exact resume re-executes exactly what ran. Each line
// reached this way becomes a stop of the history with a snapshot of its
// own made from the events (negative numbers): the frames' lines and
// locals as views; an evaluation beyond them makes the line a recorded
// snapshot first (recordedStop).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// Anchors of a live session with line history: periodic snapshots
// (anchorPolicy), the newest AnchorsDense kept and, older than those, one
// per AnchorsThin of the run, AnchorsDense of them (10 s): going back from
// a stop re-executes from the latest one before it.
const (
	AnchorsDense = 40
	AnchorsThin  = 250 * time.Millisecond
)

// anchorPolicy is how often a live session with line history snapshots
// the program under Python 3.minor: every `every` of its run, less often
// when its snapshots would pause it for more than `budget` of its run. A
// re-execution traces the stop's code: on 3.12+ (sys.monitoring) it runs
// at about the program's own speed; on 3.8-3.11 sys.settrace costs a
// Python call event per call (up to ~10x on call-heavy code), so anchors
// there are closer and may cost more of the run. Both stay within the
// recording targets of time travel (2x on 3.12+, 4x before).
func anchorPolicy(minor int) (every time.Duration, budget float64) {
	if minor >= 12 {
		return 50 * time.Millisecond, 0.10
	}
	return 25 * time.Millisecond, 0.25
}

// errUnreached: a re-execution did not reach the stop it was for.
var errUnreached = errors.New("cannot go back by line")

// lineEvent is one line event of a re-execution (linehistory.py's format).
type lineEvent struct {
	N    int            `json:"n"` // its number from the anchor's own event
	S    int64          `json:"s"` // the frame's serial
	P    int64          `json:"p"` // its caller's (0: none)
	K    int            `json:"k"` // its code, in the re-execution's table
	F    string         `json:"-"` // the code's function and file
	File string         `json:"-"`
	L    int            `json:"l"`
	M    string         `json:"m"` // a module frame's module
	V    map[string]int `json:"v"` // each local's view, in the window's table
	C    int            `json:"c"` // 1: the stop's stack and output (linehistory.py)
	X    int            `json:"x"` // 1: a caller outside the scope, at its call of a traced frame
	B    []string       `json:"b"` // at a breakpoint line with conditions: those true here
}

// lineWindow is the line events from an anchor snapshot up to a stop's
// snapshot; the last event is the stop's own.
type lineWindow struct {
	anchor, stop int64
	events       []lineEvent
	views        []wire.Value    // the events' values (lineEvent.V)
	bpLines      map[string]bool // "file:line:condition" of the breakpoints its scope traced
}

// bpKey names a breakpoint for lineWindow.bpLines.
func bpKey(file string, b LineBreakpoint) string {
	return fmt.Sprintf("%s:%d:%s", file, b.Line, b.Condition)
}

// covers says whether the breakpoints set now all lie in code the window
// traced (else Reverse Continue re-executes with them in its scope).
func (w *lineWindow) covers(bps map[string][]LineBreakpoint) bool {
	for f, list := range bps {
		for _, b := range list {
			if b.LogMessage == nil && !w.bpLines[bpKey(f, b)] {
				return false
			}
		}
	}
	return true
}

// same is the event of w that is event i of old: the same code's event
// with as many of that code's events before it (both windows trace that
// code from the same anchor); -1 when w has none.
func (w *lineWindow) same(old *lineWindow, i int) int {
	e := old.events[i]
	k := 0
	for j := 0; j < i; j++ {
		if o := old.events[j]; o.X == 0 && o.F == e.F && o.File == e.File {
			k++
		}
	}
	for j, n := range w.events {
		if n.X == 0 && n.F == e.F && n.File == e.File {
			if k == 0 {
				return j
			}
			k--
		}
	}
	return -1
}

// locals is event e's locals.
func (w *lineWindow) locals(e *lineEvent) map[string]wire.Value {
	out := make(map[string]wire.Value, len(e.V))
	for k, i := range e.V {
		if i >= 0 && i < len(w.views) {
			out[k] = w.views[i]
		}
	}
	return out
}

// parse reads a re-execution's lines (linehistory.py's format) into w and
// says how it ended ("" when its last line is missing).
func (w *lineWindow) parse(lines [][]byte) (string, error) {
	type code struct{ F, File string }
	var codes []code
	for _, line := range lines {
		if e, ok := endOf(line); ok {
			return e, nil
		}
		switch {
		case bytes.HasPrefix(line, []byte(`{"code"`)):
			var c struct {
				Code int    `json:"code"`
				F    string `json:"f"`
				File string `json:"file"`
			}
			if err := json.Unmarshal(line, &c); err != nil {
				return "", err
			}
			for len(codes) <= c.Code {
				codes = append(codes, code{})
			}
			codes[c.Code] = code{c.F, c.File}
		case bytes.HasPrefix(line, []byte(`{"view"`)):
			var v struct {
				wire.Value
				View int `json:"view"`
			}
			if err := json.Unmarshal(line, &v); err != nil {
				return "", err
			}
			for len(w.views) <= v.View {
				w.views = append(w.views, wire.Value{})
			}
			w.views[v.View] = v.Value
		default:
			var ev lineEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				return "", err
			}
			if ev.K >= 0 && ev.K < len(codes) {
				ev.F, ev.File = codes[ev.K].F, codes[ev.K].File
			}
			w.events = append(w.events, ev)
		}
	}
	return "", nil
}

// virtualStop is a stop of the history made from a window's event.
type virtualStop struct {
	w *lineWindow
	i int
}

// LineHistory says whether Step Back goes by line (LaunchOptions and
// OpenOptions LineHistory).
func (d *Engine) LineHistory() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lines
}

// StepBackLine is Step Back by line only: ok is false when the cursor's
// stop has no earlier line (the TUI then moves to the previous stop).
func (d *Engine) StepBackLine() (ok bool, err error) { return d.stepBackLine() }

// stepBackLine moves to the previous line of the current frame, when line
// history is on and the cursor's stop has one; ok is false when it has not
// (the caller then moves between stops). Called without d.mu held.
func (d *Engine) stepBackLine() (ok bool, err error) {
	w, i, err := d.windowAtCursor()
	if err != nil || w == nil {
		return false, err
	}
	j := w.previousInFrame(i)
	if j < 0 {
		return false, nil // before the window: the stop before it (the anchor) is next
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moveTo(d.insertVirtualLocked(w, j), "step", "")
	return true, nil
}

// reverseContinueLine moves to the latest line event before the cursor's
// that has a line breakpoint set now (in any frame: also in functions that
// have returned) whose condition held there (evaluated by the
// re-execution, in the frame then), when line history is on and the
// cursor's stop has one. Hit counts count from the program's start, which
// the window does not reach: they are not applied in the past.
func (d *Engine) reverseContinueLine() (ok bool, err error) {
	w, i, err := d.windowAtCursor()
	if err != nil || w == nil {
		return false, err
	}
	if w, i, err = d.covering(w, i); err != nil || w == nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for j := i - 1; j >= 0; j-- {
		if d.hitLocked(w.events[j]) {
			d.moveTo(d.insertVirtualLocked(w, j), "breakpoint", "")
			return true, nil
		}
	}
	return false, nil
}

// continueLine is reverseContinueLine's forward twin: from a line of the
// past, the next line event of its window at a breakpoint set now (the
// window's last event is its stop, a stop of the history: Continue's own
// rule takes it from there); ok is false when there is none.
func (d *Engine) continueLine() (ok bool, err error) {
	d.mu.Lock()
	if !d.lines || d.cur < 0 || d.cur >= len(d.hist) {
		d.mu.Unlock()
		return false, nil
	}
	v, past := d.virtual[d.hist[d.cur].Snap]
	d.mu.Unlock()
	if !past {
		return false, nil
	}
	w, i, err := d.covering(v.w, v.i)
	if err != nil || w == nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for j := i + 1; j < len(w.events)-1; j++ {
		if d.hitLocked(w.events[j]) {
			d.moveTo(d.insertVirtualLocked(w, j), "breakpoint", "")
			return true, nil
		}
	}
	return false, nil
}

// hitLocked says whether line event e is a hit of a line breakpoint set
// now: its line, and its condition held there (evaluated by the
// re-execution in the frame then).
func (d *Engine) hitLocked(e lineEvent) bool {
	if e.X == 1 {
		return false // (a caller's state at a call, not a line event)
	}
	for _, b := range d.lineBPs[absPath(e.File, "")] {
		if b.Line == e.L && b.LogMessage == nil && (b.Condition == "" || slices.Contains(e.B, b.Condition)) {
			return true
		}
	}
	return false
}

// covering is w and its event i when w traced the code of every
// breakpoint set now; otherwise the same stretch re-executed with them in
// its scope and event i's place in it: the cursor's virtual stop moves to
// it, and stops after w's use the new window.
func (d *Engine) covering(w *lineWindow, i int) (*lineWindow, int, error) {
	d.mu.Lock()
	covered := w.covers(d.lineBPs)
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if covered {
		return w, i, nil
	}
	nw, err := d.reexecute(store, python, w.stop)
	if err != nil || nw == nil {
		return nil, -1, err
	}
	j := nw.same(w, i)
	if j < 0 {
		return nil, -1, fmt.Errorf("cannot reach the breakpoints by line from here: re-executing from %s again took another path (its input, files or environment differ from the recorded run's); step back between stops instead (\"timeTravel\": false)", recording.SnapID(w.anchor))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.windows[w.stop] = nw
	if d.cur >= 0 && d.cur < len(d.hist) {
		if v, ok := d.virtual[d.hist[d.cur].Snap]; ok && v.w == w {
			v.w, v.i = nw, j
		}
	}
	return nw, j, nil
}

// windowAtCursor is the line window of the cursor's stop (re-executing
// the program for it the first time) and the stop's event in it; nil when
// line history is off or the stop has no earlier snapshot to start from.
func (d *Engine) windowAtCursor() (*lineWindow, int, error) {
	d.mu.Lock()
	if !d.lines || d.cur < 0 || d.cur >= len(d.hist) {
		d.mu.Unlock()
		return nil, -1, nil
	}
	st := d.hist[d.cur]
	if v, ok := d.virtual[st.Snap]; ok {
		d.mu.Unlock()
		return v.w, v.i, nil
	}
	d.mu.Unlock()
	w, err := d.windowFor(st.Snap)
	if errors.Is(err, errUnreached) {
		// going back by stops still works: say why not by line
		d.emit(OutputEvent{Category: "console", Text: "pyreplay: " + err.Error() + "; stepping back between stops\n"})
		return nil, -1, nil
	}
	if err != nil || w == nil {
		return nil, -1, err
	}
	return w, len(w.events) - 1, nil
}

// windowFor is the line window ending at stop: made once (re-executing
// the program), by the first to ask, Step Back or the background
// (prefetch); a second asker waits for the first's.
func (d *Engine) windowFor(stop int64) (*lineWindow, error) {
	d.mu.Lock()
	for {
		if w, ok := d.windows[stop]; ok {
			d.mu.Unlock()
			return w, nil
		}
		ch, ok := d.making[stop]
		if !ok {
			break
		}
		d.mu.Unlock()
		<-ch
		d.mu.Lock()
		if _, made := d.windows[stop]; !made {
			break // (it failed: this asker tries, and says why)
		}
	}
	done := make(chan struct{})
	d.making[stop] = done
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	w, err := d.reexecute(store, python, stop)
	d.mu.Lock()
	if err == nil && w != nil {
		d.windows[stop] = w
	}
	delete(d.making, stop)
	close(done)
	d.mu.Unlock()
	return w, err
}

// prefetchMaxState: a stop whose recorded state is bigger than this has
// its window made only when Step Back asks (re-executing resumes a state
// about as big, whether or not the user ever goes back).
const prefetchMaxState = 16 << 20

// prefetch makes the line window of live stop snap in the background
// while the user looks at the stop, so that the first Step Back finds it
// made: one re-execution at a time, the newest stop's next (stops stepped
// past meanwhile are skipped). Called with d.mu held.
func (d *Engine) prefetch(snap int64) {
	if !d.lines || snap <= 0 {
		return
	}
	if s, err := d.snapLocked(snap); err != nil || s.Size > prefetchMaxState {
		return // (a big state costs its unpickling on every stop: made when asked)
	}
	d.prefetchNext = snap
	if !d.prefetching {
		d.prefetching = true
		go d.prefetchLoop()
	}
}

func (d *Engine) prefetchLoop() {
	for {
		d.mu.Lock()
		snap := d.prefetchNext
		d.prefetchNext = 0
		if snap == 0 || d.ended || d.store == nil {
			d.prefetching = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		// (a stop it cannot go back from is found again, and said, when
		// the user steps back: windowAtCursor)
		_, _ = d.windowFor(snap)
	}
}

// previousInFrame is the event before i in i's frame, or, at the frame's
// first event, its caller's last event before it; -1 when the window has none.
func (w *lineWindow) previousInFrame(i int) int {
	if i <= 0 || i >= len(w.events) {
		return -1
	}
	s := w.events[i].S
	if w.events[i].X == 1 {
		return -1 // a caller outside the scope: its earlier lines were not traced
	}
	for j := i - 1; j >= 0; j-- {
		if w.events[j].S == s {
			return j
		}
	}
	p := w.events[i].P
	for j := i - 1; j >= 0; j-- {
		if w.events[j].S == p {
			return j
		}
	}
	return -1
}

// insertVirtualLocked puts event j of w in the history, in time order
// between the window's anchor and its stop, and returns its index.
func (d *Engine) insertVirtualLocked(w *lineWindow, j int) int {
	for k, st := range d.hist {
		if v, ok := d.virtual[st.Snap]; ok && v.w == w && v.i == j {
			return k
		}
	}
	pos := -1
	for k, st := range d.hist {
		if st.Snap == w.stop {
			pos = k
			break
		}
		if v, ok := d.virtual[st.Snap]; ok && v.w == w && v.i > j {
			pos = k
			break
		}
	}
	if pos < 0 {
		pos = len(d.hist)
	}
	d.nextVirtual--
	n := d.nextVirtual
	d.virtual[n] = &virtualStop{w: w, i: j}
	base := d.cache[w.stop]
	d.cache[n] = w.snapshot(j, n, base)
	stop := Stop{Snap: n, Reason: "step", Label: "line"}
	if base != nil {
		stop.Summary = d.cache[n].Summary
	}
	d.hist = append(d.hist[:pos:pos], append([]Stop{stop}, d.hist[pos:]...)...)
	if d.cur >= pos {
		d.cur++
	}
	if d.liveStop >= pos {
		d.liveStop++
	}
	return pos
}

// snapshot is event j as a snapshot numbered n: its frame and its callers
// (each at its last line event before j), locals as the events saw them.
func (w *lineWindow) snapshot(j int, n int64, base *wire.Snapshot) *wire.Snapshot {
	var chain []int
	for k, serial := j, w.events[j].S; k >= 0; {
		chain = append(chain, k)
		serial = w.events[k].P
		if serial == 0 {
			break
		}
		next := -1
		for m := k - 1; m >= 0; m-- {
			if w.events[m].S == serial {
				next = m
				break
			}
		}
		k = next
	}
	s := &wire.Snapshot{}
	if base != nil {
		s.Summary = base.Summary
		s.Meta = base.Meta
	}
	s.N = n
	s.ID = fmt.Sprintf("line %d of %s, re-executed from %s", w.events[j].L, w.events[j].F, recording.SnapID(w.anchor))
	s.Reason, s.Label = "step", "line"
	s.File, s.Line, s.Function = w.events[j].File, w.events[j].L, w.events[j].F
	for k := len(chain) - 1; k >= 0; k-- {
		e := w.events[chain[k]]
		f := wire.Frame{Function: e.F, Name: e.F, File: e.File, Line: e.L, Kind: "call", Locals: w.locals(&e),
			Module: e.M != "", ModuleName: e.M}
		if k == 0 {
			f.Kind = "line"
		}
		if f.Module {
			f.Function = "<module>"
			f.Locals = nil
		}
		s.Frames = append(s.Frames, f)
	}
	return s
}

// reexecute runs the program again from the latest snapshot of stop's run
// before it that resumes exactly, up to stop, and reads the line events.
func (d *Engine) reexecute(store *recording.Store, python string, stop int64) (*lineWindow, error) {
	if store == nil {
		return nil, nil
	}
	target, err := store.Get(stop)
	if err != nil {
		return nil, err
	}
	all, err := store.List(target.Run)
	if err != nil {
		return nil, err
	}
	anchor := int64(0)
	for k := len(all) - 1; k >= 0 && anchor == 0; k-- {
		if s := all[k]; s.N < stop && s.Run == target.Run {
			if v, _ := launch.ResumeVerdict(store, s.N); v == launch.ResumeExact {
				anchor = s.N
			}
		}
	}
	if anchor == 0 {
		return nil, nil
	}
	until := launch.HistoryUntil{Stdout: target.StdoutBytes, Stderr: target.StderrBytes, Last: target.Reason == "exception"}
	// traced: the stop's frames' codes and the breakpoints' (set now)
	scope := &launch.HistoryScope{}
	w := &lineWindow{anchor: anchor, stop: stop, bpLines: map[string]bool{}}
	d.mu.Lock()
	for f, list := range d.lineBPs {
		for _, b := range list {
			scope.Lines = append(scope.Lines, [3]any{f, b.Line, b.Condition})
			w.bpLines[bpKey(f, b)] = true
		}
	}
	d.mu.Unlock()
	for _, f := range target.Frames {
		if f.Library {
			continue
		}
		name := f.Function
		if k := strings.LastIndexByte(name, '.'); k >= 0 {
			name = name[k+1:] // (a qualified name: the code's own is its last part)
		}
		scope.Codes = append(scope.Codes, [2]any{f.File, name})
		until.Stack = append(until.Stack, [2]any{f.File, f.Line})
		reprs := map[string]string{}
		for k, v := range f.Locals {
			// (a repr with an address, "<... at 0x...>", differs from run
			// to run: it cannot tell two moments apart)
			if v.Type != "<redacted>" && v.Repr != "<redacted>" && !strings.Contains(v.Repr, " at 0x") {
				reprs[k] = v.Repr
			}
		}
		until.Locals = append(until.Locals, reprs)
	}
	lines, run, err := reexecution(store, python, anchor, &launch.HistorySpec{Until: until, Scope: scope}, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot go back by line from %s: resuming %s: %v", recording.SnapID(stop), recording.SnapID(anchor), err)
	}
	_ = store.DropRun(run) // (it keeps nothing)
	end, err := w.parse(lines)
	if err != nil {
		return nil, err
	}
	if until.Last {
		// the stop is the last event with its stack and output
		cut := -1
		for k, e := range w.events {
			if e.C == 1 {
				cut = k
			}
		}
		w.events = w.events[:cut+1]
		if cut >= 0 {
			end = "matched"
		}
	}
	if end != "matched" {
		return nil, fmt.Errorf("%w: re-executing the program from %s did not reach %s (a stop between lines, as a step out's; or its input, files or environment differ from the recorded run's)",
			errUnreached, recording.SnapID(anchor), recording.SnapID(stop))
	}
	return w, nil
}

// ValueChange is one value a variable took in the line history: the line
// that gave it (in its frame, whatever callee did the work) and its repr.
type ValueChange struct {
	Line int
	Repr string
	at   int // the window's event of that line (-1: before the window)
	w    *lineWindow
}

// ValueHistory lists the values name took in the frame of the cursor's
// stop (frame: an index into its snapshot's frames, the top being the
// last), oldest first, as far back as the line history reaches: where a
// value came from. Line history must be on.
func (d *Engine) ValueHistory(frame int, name string) ([]ValueChange, error) {
	w, i, err := d.windowAtCursor()
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, errors.New(":history needs line history (\"lineHistory\": true) and an earlier snapshot of this run")
	}
	d.mu.Lock()
	_, s, serr := d.curSnapLocked()
	d.mu.Unlock()
	if serr != nil {
		return nil, serr
	}
	// the frame's serial: the top event's, then its callers', frame by frame
	serial := w.events[i].S
	for k, at := len(s.Frames)-1, i; k > frame && serial != 0; k-- {
		if s.Frames[k].Library {
			continue
		}
		parent := w.events[at].P
		for at > 0 && w.events[at].S != parent {
			at--
		}
		serial = parent
	}
	var out []ValueChange
	prevLine, prevAt := 0, -1
	for j := 0; j <= i; j++ {
		e := w.events[j]
		if e.S != serial {
			continue
		}
		if v, ok := e.V[name]; ok && v < len(w.views) && (len(out) == 0 || out[len(out)-1].Repr != w.views[v].Repr) {
			out = append(out, ValueChange{Line: prevLine, Repr: w.views[v].Repr, at: prevAt, w: w})
		}
		prevLine, prevAt = e.L, j
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no value in this frame's line history", name)
	}
	return out, nil
}

// GoToChange moves to the line that gave name its k-th value (1: the
// oldest ValueHistory lists), as a stop of the history; it returns that
// change.
func (d *Engine) GoToChange(frame int, name string, k int) (ValueChange, error) {
	changes, err := d.ValueHistory(frame, name)
	if err != nil {
		return ValueChange{}, err
	}
	if k < 1 || k > len(changes) {
		return ValueChange{}, fmt.Errorf("%s took %d value(s): give 1 to %d", name, len(changes), len(changes))
	}
	ch := changes[k-1]
	if ch.at < 0 {
		return ValueChange{}, fmt.Errorf("%s had %s before the line history begins", name, ch.Repr)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moveTo(d.insertVirtualLocked(ch.w, ch.at), "step", "")
	return ch, nil
}

// recordedStop makes the line of the past n (a virtual stop) a recorded
// snapshot: the program is re-executed from its window's anchor, effects
// going nowhere, to a breakpoint at that line's hit, snapshotted there
// and ended (the run is kept): what Resume from Here resumes from. n > 0
// is returned as it is.
func (d *Engine) recordedStop(n int64) (int64, error) {
	d.mu.Lock()
	v, ok := d.virtual[n]
	made, done := d.recorded[n]
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if !ok {
		return n, nil
	}
	if done {
		return made, nil
	}
	e := v.w.events[v.i]
	if e.X == 1 {
		return 0, errors.New("this is a caller's line in the middle of a call, outside the code the history traced: step back into a traced frame's line first")
	}
	// the K-th line event at that line after the anchor's own: a breakpoint
	// there, @K, counts as the original would (exact resume's rule); the
	// window traced that line's code, so it has all of them
	k := 0
	for _, o := range v.w.events[:v.i+1] {
		if o.N > 0 && o.X == 0 && o.File == e.File && o.L == e.L {
			k++
		}
	}
	spec := fmt.Sprintf("%s:%d@%d", e.File, e.L, k)
	lines, run, err := reexecution(store, python, v.w.anchor, &launch.HistorySpec{ExitAfterSnapshot: true}, []string{spec})
	if err != nil {
		return 0, err
	}
	var snap int64
	for _, l := range lines {
		if end, ok := endOf(l); ok {
			fmt.Sscanf(end, "snapshot %d", &snap)
		}
	}
	if snap <= 0 {
		_ = store.DropRun(run)
		return 0, fmt.Errorf("cannot resume from this line of the past: re-executing from %s did not reach it", recording.SnapID(v.w.anchor))
	}
	d.mu.Lock()
	d.recorded[n] = snap
	d.mu.Unlock()
	return snap, nil
}

// reexecution resumes anchor with spec (Out set here) and the breakpoint
// specs bps, its output going nowhere, and returns the lines it wrote (its
// events, then {"end": ...}) and its run.
func reexecution(store *recording.Store, python string, anchor int64, spec *launch.HistorySpec, bps []string) ([][]byte, int64, error) {
	out, err := os.CreateTemp("", "pyreplay-lines-*.jsonl")
	if err != nil {
		return nil, 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	spec.Out = out.Name()
	prog, err := PrepareResume(launch.Options{Store: store, Snap: anchor, Python: python, Breakpoints: bps, History: spec}, false)
	if err != nil {
		return nil, 0, err
	}
	prog.Quiet = true
	if _, err := prog.Run(); err != nil {
		return nil, prog.Config.Run, err
	}
	f, err := os.Open(out.Name())
	if err != nil {
		return nil, prog.Config.Run, err
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines, prog.Config.Run, sc.Err()
}

// endOf is the "end" of a re-execution's last line ({"end": ...}).
func endOf(line []byte) (string, bool) {
	if !strings.HasPrefix(string(line), `{"end"`) {
		return "", false
	}
	var e struct{ End string }
	_ = json.Unmarshal(line, &e)
	return e.End, true
}

// reexecPython is the interpreter re-executions run under: the session's.
func (d *Engine) reexecPython() string {
	if d.opts.Python != "" {
		return d.opts.Python
	}
	return d.python
}
