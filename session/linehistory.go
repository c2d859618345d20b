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
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
)

// Anchors (the periodic snapshots going back re-executes from) are taken
// and kept by launch.UseAnchors, alike for a live session and record
// --trace.

// errUnreached: a re-execution did not reach the stop it was for.
var errUnreached = errors.New("cannot go back by line")

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
	pw, j, err := d.previousInFrame(w, i)
	if err != nil || pw == nil {
		return false, err // (none: before the anchor, the stop before it is next)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moveTo(d.insertVirtualLocked(pw, j), "step", "")
	return true, nil
}

// reverseContinueLine moves to the latest line event before the cursor's
// that has a line breakpoint set now (in any frame: also in functions that
// have returned) whose condition held there (evaluated by the
// re-execution, in the frame then), when line history is on and the
// cursor's stop has one. Hit conditions count the hits since the
// program's start (hitsBefore). When there is no such event, start is the
// first line event of the history (scanned back to it), nil without line
// history.
func (d *Engine) reverseContinueLine() (ok bool, start *virtualStop, err error) {
	w, i, err := d.windowAtCursor()
	if err != nil || w == nil {
		return false, nil, err
	}
	if w, i, err = d.covering(w, i, true); err != nil || w == nil {
		return false, nil, err
	}
	hit := d.hits()
	first := &virtualStop{w: w, i: i}
	hw, j, err := d.scanBack(w, i, func(w *lineWindow, j int) bool {
		if hit.at(w, j) {
			return true
		}
		if w.events[j].line() {
			first.w, first.i = w, j // (scanned latest first: the earliest so far)
		}
		return false
	})
	if err == nil {
		err = hit.err
	}
	if err != nil {
		return false, nil, err
	}
	if hw == nil {
		return false, first, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moveTo(d.insertVirtualLocked(hw, j), "breakpoint", "")
	return true, nil, nil
}

// continueLine is reverseContinueLine's forward twin: from a line of the
// past, the next line event at a breakpoint set now before the stretch's
// stop (a stop of the history: Continue's own rule takes it from there);
// ok is false when there is none.
func (d *Engine) continueLine() (ok bool, err error) {
	v := d.pastCursor()
	if v == nil {
		return false, nil
	}
	w, i, err := d.covering(v.w, v.i, false)
	if err != nil || w == nil {
		return false, err
	}
	hit := d.hits()
	hw, j := scanForward(w, i, hit.at)
	if hit.err != nil || hw == nil {
		return false, hit.err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moveTo(d.insertVirtualLocked(hw, j), "breakpoint", "")
	return true, nil
}

// hits is the breakpoints set now, asked of a line event whether it is a
// hit of one: its line, its condition held there (evaluated by the
// re-execution in the frame then) and its hit condition holds for the
// hits counted from the program's start (hitsBefore, then the window's).
func (d *Engine) hits() *hitRule {
	d.mu.Lock()
	bps := make(map[string][]LineBreakpoint, len(d.lineBPs))
	for f, list := range d.lineBPs {
		bps[f] = list
	}
	d.mu.Unlock()
	return &hitRule{d: d, bps: bps, base: map[*lineWindow]map[string]int{}}
}

type hitRule struct {
	d    *Engine
	bps  map[string][]LineBreakpoint
	base map[*lineWindow]map[string]int
	err  error // counting the hits before a window failed
}

func (h *hitRule) at(w *lineWindow, j int) bool {
	if h.err != nil {
		return true // (ends the scan at once: its caller answers h.err)
	}
	e := &w.events[j]
	if !e.line() {
		return false // (a frame's state at a call)
	}
	file := absPath(e.File, "")
	for _, b := range h.bps[file] {
		if b.Line != e.L || b.LogMessage != nil || (b.Condition != "" && !slices.Contains(e.B, b.Condition)) {
			continue
		}
		if b.HitCondition == "" {
			return true
		}
		if h.err == nil && hitCondition(b.HitCondition, h.number(w, j, file, b)) {
			return true
		}
	}
	return false
}

// number is breakpoint b's hits up to event j of w since the program's
// start, this one included.
func (h *hitRule) number(w *lineWindow, j int, file string, b LineBreakpoint) int {
	return h.baseOf(w)[bpKey(file, b)] + h.within(w, w.firstLine(), j+1, file, b)
}

// baseOf is the hits before w's first line event: counted by a
// re-execution for the first window asked, and for the windows before it
// from the one after (which begins with w's last event).
func (h *hitRule) baseOf(w *lineWindow) map[string]int {
	if b, ok := h.base[w]; ok {
		return b
	}
	if nb, ok := h.base[w.next]; ok && w.next != nil {
		b := map[string]int{}
		for f, list := range h.bps {
			for _, bp := range list {
				if bp.HitCondition != "" {
					k := bpKey(f, bp)
					b[k] = nb[k] - h.within(w, w.firstLine(), len(w.events)-1, f, bp)
				}
			}
		}
		h.base[w] = b
		return b
	}
	b, err := h.d.hitsBefore(w, h.bps)
	if err != nil {
		h.err = err
	}
	h.base[w] = b
	return b
}

// within is b's hits among events [from, to) of w.
func (h *hitRule) within(w *lineWindow, from, to int, file string, b LineBreakpoint) int {
	n := 0
	for k := from; k < to; k++ {
		if e := &w.events[k]; e.line() && e.L == b.Line && absPath(e.File, "") == file && (b.Condition == "" || slices.Contains(e.B, b.Condition)) {
			n++
		}
	}
	return n
}

// covering is w and its event i when w traced the code of every
// breakpoint set now; otherwise the same stretch re-executed with them in
// its scope and event i's place in it (the same line's same execution):
// the cursor's virtual stop moves to it, and stops after w's use the new
// window; for Reverse Continue (back), one whose events begin at the
// breakpoints' last hit (fromHit).
func (d *Engine) covering(w *lineWindow, i int, back bool) (*lineWindow, int, error) {
	d.mu.Lock()
	covered := w.covers(d.lineBPs)
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if covered {
		return w, i, nil
	}
	return d.rescope(store, python, w, i, fromHit(w.scope, back))
}

// fromHit is scope for a Reverse Continue's window (on: its events begin
// at the last breakpoint hit, HistoryScope.FromHit) or for any other (the
// windows before one: their last Limit events).
func fromHit(scope *launch.HistoryScope, on bool) *launch.HistoryScope {
	if scope.FromHit == on {
		return scope
	}
	s := *scope
	s.FromHit = on
	return &s
}

// rescope is w's stretch re-executed tracing, of its stop's frames, the
// code of scope only (reexecuteIn; scope.All: every code of the program),
// w's own breakpoint lines and the ones set now, and event i's place in it
// (the same line's same execution): the cursor's virtual stop moves to it,
// and stops after w's use the new window.
func (d *Engine) rescope(store *recording.Store, python string, w *lineWindow, i int, scope *launch.HistoryScope) (*lineWindow, int, error) {
	// (w's own breakpoint lines stay traced: event i may be one of theirs)
	nw, err := d.reexecuteIn(store, python, w.stop, scope, &launch.HistoryScope{Lines: w.scope.Lines}, false)
	if err != nil || nw == nil {
		return nil, -1, err
	}
	// (a frame's state at a call: the line event after it)
	k := i
	for k < len(w.events)-1 && !w.events[k].line() {
		k++
	}
	e := w.events[k]
	fw, j, err := d.locate(nw, e.File, e.L, e.H)
	if err != nil {
		return nil, -1, err
	}
	if fw == nil {
		return nil, -1, fmt.Errorf("cannot reach the breakpoints by line from here: re-executing from %s again took another path (its input, files or environment differ from the recorded run's); step back between stops instead (\"timeTravel\": false)", recording.SnapID(w.anchor))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// nw takes the place of w's stretch (the windows of w's stop)
	top := w
	for top.next != nil && top.next.stop == w.stop {
		top = top.next
	}
	nw.head = w.head
	if top.next != nil {
		nw.next, top.next.prev = top.next, nw
	}
	if w.stop == w.head {
		d.windows[w.stop] = nw
	}
	if d.cur >= 0 && d.cur < len(d.hist) {
		if v, ok := d.virtual[d.hist[d.cur].Snap]; ok && v.w == w {
			v.w, v.i = fw, j
		}
	}
	return fw, j, nil
}

// locate is the line event of file:line with H h in w or the windows
// before it; nil when there is none.
func (d *Engine) locate(w *lineWindow, file string, line, h int) (*lineWindow, int, error) {
	start := time.Now()
	for w != nil {
		if time.Since(start) > scanBudget {
			return nil, -1, fmt.Errorf("cannot re-trace this line of the past within %v (it lies far before the end of its stretch, which is re-executed a window at a time going back); continue to a later stop first", scanBudget)
		}
		if j := w.at(file, line, h); j >= 0 {
			return w, j, nil
		}
		if w.first == 0 {
			return nil, -1, nil
		}
		p, err := d.earlier(w)
		if err != nil {
			return nil, -1, err
		}
		w = p
	}
	return nil, -1, nil
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
		var files []string
		if s, err := d.snapLocked(snap); err == nil {
			for _, f := range s.Frames {
				if !f.Library && !slices.Contains(files, f.File) {
					files = append(files, f.File)
				}
			}
		}
		python, store := d.python, d.store
		d.mu.Unlock()
		if python != "" {
			// beside it, the lines CPython runs in the stop's files: a
			// breakpoint set there next needs them before the re-execution
			// of its Reverse Continue starts (a Python run each, 30-60
			// ms, once per file version)
			go func() {
				for _, f := range files {
					_, _ = launch.RunLines(python, f)
				}
			}()
		}
		// (a stop it cannot go back from is found again, and said, when
		// the user steps back: windowAtCursor)
		// beside the window, the next re-execution from its anchor, parked
		// (a Reverse Continue's, a step in's): ready about when it is
		if _, anchor, err := d.anchorOf(store, snap); err == nil && anchor > 0 {
			go d.park(anchor)
		}
		_, _ = d.windowFor(snap)
	}
}

// insertVirtualLocked puts event j of w in the history, in time order
// between the window's anchor and its stop, and returns its index (the one
// already there for the same moment).
func (d *Engine) insertVirtualLocked(w *lineWindow, j int) int {
	at := w.order(j)
	// (events of windows from one anchor with one scope are numbered alike)
	alike := func(v *virtualStop) bool { return v.w.head == w.head && v.w.anchor == w.anchor && v.w.scope == w.scope }
	later := func(v *virtualStop) bool {
		if v.w.head != w.head {
			return false
		}
		if v.w.anchor != w.anchor {
			return v.w.anchor > w.anchor
		}
		return alike(v) && v.w.order(v.i) > at
	}
	for k, st := range d.hist {
		if v, ok := d.virtual[st.Snap]; ok && ((v.w == w && v.i == j) || (alike(v) && w.events[j].line() && v.w.order(v.i) == at)) {
			return k
		}
	}
	pos := -1
	for k, st := range d.hist {
		if st.Snap == w.head {
			pos = k
			break
		}
		if v, ok := d.virtual[st.Snap]; ok && later(v) {
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
	base := d.cache[w.head]
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
	serial, start := w.events[i].S, i
	for k := len(s.Frames) - 1; k > frame && serial != 0; k-- {
		if s.Frames[k].Library {
			continue
		}
		parent := w.events[start].P
		for start > 0 && w.events[start].S != parent {
			start--
		}
		serial = parent
	}
	if serial == 0 || w.events[start].S != serial {
		return nil, fmt.Errorf("%s has no value in this frame's line history", name)
	}
	// the frame's events, newest first, back through the windows before
	// this one while the frame was live (at most valueHistoryEvents)
	type at struct {
		w *lineWindow
		j int
	}
	seen := []at{{w, start}}
	for cw, cj := w, start; len(seen) < valueHistoryEvents; {
		pw, pj, err := d.lastOfFrame(cw, cj, cw.events[cj].S)
		if err != nil {
			return nil, err
		}
		if pw == nil {
			break
		}
		seen = append(seen, at{pw, pj})
		cw, cj = pw, pj
	}
	var out []ValueChange
	prevLine, prevAt, prevW := 0, -1, (*lineWindow)(nil)
	for k := len(seen) - 1; k >= 0; k-- {
		ew, e := seen[k].w, seen[k].w.events[seen[k].j]
		if v, ok := e.V[name]; ok && v < len(ew.views) && (len(out) == 0 || out[len(out)-1].Repr != ew.views[v].Repr) {
			out = append(out, ValueChange{Line: prevLine, Repr: ew.views[v].Repr, at: prevAt, w: prevW})
		}
		prevLine, prevAt, prevW = e.L, seen[k].j, ew
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no value in this frame's line history", name)
	}
	return out, nil
}

// valueHistoryEvents bounds the events of a frame ValueHistory reads.
const valueHistoryEvents = 20000

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
