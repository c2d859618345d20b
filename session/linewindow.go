package session

// A line window: the line events of one re-execution (linehistory.go),
// and the order of the windows of one stretch (an anchor up to a stop)
// when a window keeps only its last events: each can be given the window
// of the events before it (earlier), and a position moves through them as
// through one history.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// lineEvent is one event of a re-execution (linehistory.py's format): a
// line event, or a frame's state where the events begin: a caller outside
// the traced code at its call (X), a frame live where a window that keeps
// only its last events begins (W). Those two take the number of the line
// event after them.
type lineEvent struct {
	N    int            `json:"n"` // the number of this line event from the anchor's own (0)
	H    int            `json:"h"` // line events at its file and line so far, this one included
	S    int64          `json:"s"` // the frame's serial (in this window)
	P    int64          `json:"p"` // its caller's (0: none)
	K    int            `json:"k"` // its code, in the re-execution's table
	F    string         `json:"-"` // the code's function and file
	File string         `json:"-"`
	L    int            `json:"l"`
	M    string         `json:"m"` // a module frame's module
	V    map[string]int `json:"v"` // each local's view, in the window's table
	C    int            `json:"c"` // 1: the stop's stack and output (linehistory.py)
	X    int            `json:"x"` // 1: a caller outside the scope, at its call of a traced frame
	W    int            `json:"w"` // 1: a frame live where the window's events begin, as it is then
	// R, with W: a generator's frame that began before the window's
	// events, resumed here; its key finds it suspended at the end of the
	// windows before (lineWindow.suspended)
	R string   `json:"r"`
	B []string `json:"b"` // at a breakpoint line with conditions: those true here
}

// line says whether e is a line event (not a frame's state at a call).
func (e *lineEvent) line() bool { return e.X == 0 && e.W == 0 }

// lineWindow is the line events from an anchor snapshot up to a stop's
// snapshot; the last event is the stop's own. The events before its first
// are in prev, made on demand (earlier): the same stretch's earlier part
// when the window keeps only its last events (first > 0), else the
// stretch before its anchor, up to the anchor. prev's last event is this
// window's first line event: the same moment.
type lineWindow struct {
	anchor, stop int64
	head         int64 // the stop of the history the windows before it lead to
	events       []lineEvent
	views        []wire.Value // the events' values (lineEvent.V)
	scope        *launch.HistoryScope
	first        int    // the number of its first line event (0: from the anchor)
	outside      string // the first outside input it read that was not recorded: what, at file:line ("": none)
	// suspended: its generators' frames suspended at its end (serial ->
	// key, lineEvent.R), for a window after it that resumes them
	suspended  map[int64]string
	prev, next *lineWindow
}

// bpKey names a breakpoint: "file:line:condition" (linehistory.py's
// counts use the same).
func bpKey(file string, b LineBreakpoint) string {
	return fmt.Sprintf("%s:%d:%s", file, b.Line, b.Condition)
}

// covers says whether the breakpoints set now all lie in code the window
// traced, their conditions evaluated (its scope's lines; else Reverse
// Continue re-executes with them in its scope).
func (w *lineWindow) covers(bps map[string][]LineBreakpoint) bool {
	traced := map[[3]any]bool{}
	for _, l := range w.scope.Lines {
		traced[l] = true
	}
	for f, list := range bps {
		for _, b := range list {
			if b.LogMessage == nil && !traced[[3]any{f, b.Line, b.Condition}] {
				return false
			}
		}
	}
	return true
}

// firstLine is the index of w's first line event numbered w.first (its
// events before are the live frames' states where it begins).
func (w *lineWindow) firstLine() int {
	for i := range w.events {
		if e := &w.events[i]; e.line() && e.N >= w.first {
			return i
		}
	}
	return len(w.events)
}

// end is the index after w's own events: a window that is another's
// earlier part ends with that one's first line event, which belongs to it.
func (w *lineWindow) end() int {
	if w.next != nil {
		return len(w.events) - 1
	}
	return len(w.events)
}

// at finds the line event of file:line with H h in w; -1 when w has none.
func (w *lineWindow) at(file string, line, h int) int {
	for j := w.end() - 1; j >= 0; j-- {
		if e := &w.events[j]; e.line() && e.File == file && e.L == line && e.H == h {
			return j
		}
	}
	return -1
}

// parentOf is the serial of the caller of frame s in w (0: none).
func (w *lineWindow) parentOf(s int64) int64 {
	for i := range w.events {
		if w.events[i].S == s {
			return w.events[i].P
		}
	}
	return 0
}

// chainAt is the frames' serials at event i, innermost first.
func (w *lineWindow) chainAt(i int) []int64 {
	var out []int64
	for s := w.events[i].S; s != 0 && len(out) < 10000; s = w.parentOf(s) {
		out = append(out, s)
	}
	return out
}

// codeOf is the function and file of frame s in w.
func (w *lineWindow) codeOf(s int64) (string, string) {
	for i := range w.events {
		if w.events[i].S == s {
			return w.events[i].F, w.events[i].File
		}
	}
	return "", ""
}

// serialIn is frame s of w in its earlier part p: the frame at the same
// place in the stack of the moment they share (p's last event, w's first
// line event), counted from the outermost frame (their innermost differ:
// p ends in the anchor's top frame, which w may not trace), running the
// same function; 0 when there is none.
func (w *lineWindow) serialIn(p *lineWindow, s int64) int64 {
	mine, theirs := w.chainAt(w.firstLine()), p.chainAt(len(p.events)-1)
	slices.Reverse(mine)
	slices.Reverse(theirs)
	for k, m := range mine {
		if m != s {
			continue
		}
		if k >= len(theirs) {
			return 0
		}
		f, file := w.codeOf(s)
		if g, gfile := p.codeOf(theirs[k]); g != f || gfile != file {
			return 0
		}
		return theirs[k]
	}
	return 0
}

// resumeKey is the key of frame s of w when it is a generator's that
// began before w's events (resumed in w), else "".
func (w *lineWindow) resumeKey(s int64) string {
	for i := range w.events {
		if e := &w.events[i]; e.S == s {
			return e.R // (its first event: the resumption's, if any)
		}
	}
	return ""
}

// suspendedAs is the generator's frame suspended at w's end with key,
// running function f of file; 0 when w has none, an error when it has
// several (the same code in the same state: which one went on is unknown).
func (w *lineWindow) suspendedAs(key, f, file string) (int64, error) {
	var found int64
	for s, k := range w.suspended {
		if g, gfile := w.codeOf(s); k != key || g != f || gfile != file {
			continue
		}
		if found != 0 {
			return 0, fmt.Errorf("stepping back: the generator %s has several frames in the same state at %s; which one this is cannot be told apart: set a breakpoint on its previous line and Reverse Continue", f, recording.SnapID(w.stop))
		}
		found = s
	}
	return found, nil
}

// resumedCodes is the codes ([file, co_name]) of w's generators' frames
// that began before its events: the window before it traces them too.
func (w *lineWindow) resumedCodes() [][2]any {
	var out [][2]any
	for i := range w.events {
		if e := &w.events[i]; e.R != "" {
			if c := [2]any{e.File, codeName(e.F)}; !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
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
		if bytes.HasPrefix(line, []byte(`{"end"`)) {
			var e struct {
				End       string               `json:"end"`
				First     int                  `json:"first"`
				Outside   string               `json:"outside"`
				Suspended [][2]json.RawMessage `json:"suspended"`
			}
			err := json.Unmarshal(line, &e)
			w.first, w.outside = e.First, e.Outside
			for _, sk := range e.Suspended {
				var s int64
				var key string
				if json.Unmarshal(sk[0], &s) == nil && json.Unmarshal(sk[1], &key) == nil {
					if w.suspended == nil {
						w.suspended = map[int64]string{}
					}
					w.suspended[s] = key
				}
			}
			return e.End, err
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

// order is the place of event i of w in time among the events of its
// stretch (windows with its stop): a frame's state at a call comes before
// the line event numbered as it is.
func (w *lineWindow) order(i int) int {
	e := &w.events[i]
	if e.line() {
		return 2*e.N + 1
	}
	return 2 * e.N
}

// previousInFrame is the line event before i in i's frame (in w or, when
// the frame was live where w begins, in the windows before it), or, at the
// frame's first event, its caller's last event before it; nil when the
// history has none.
func (d *Engine) previousInFrame(w *lineWindow, i int) (*lineWindow, int, error) {
	e := w.events[i]
	if e.X == 1 {
		return nil, -1, nil // a caller outside the scope: its earlier lines were not traced
	}
	if pw, j, err := d.lastOfFrame(w, i, e.S); pw != nil || err != nil {
		return pw, j, err
	}
	if e.P == 0 || w.resumeKey(e.S) != "" {
		// (a generator's frame resumed: its earlier lines are before the
		// history's start, not its caller's)
		return nil, -1, nil
	}
	return d.lastOfFrame(w, i, e.P)
}

// lastOfFrame is the last event of frame s before event i of w,
// looked for in the windows before w while s was live where each begins.
func (d *Engine) lastOfFrame(w *lineWindow, i int, s int64) (*lineWindow, int, error) {
	bound := w.events[i].N // (the earlier windows' events before this one's)
	start := time.Now()
	crossed := 0 // anchors gone back past, the frame live in a call throughout
	// a generator's frame that began before the windows scanned (resumed
	// in them): its key and code, until a window has it suspended (s 0
	// while none has)
	var key, f, file string
	for {
		if time.Since(start) > scanBudget || crossed > FrameCrossings {
			return nil, -1, fmt.Errorf("stepping back: this frame's previous line is before a call that ran across more than %d of the program's anchors (each stretch before one is re-executed to go back); set a breakpoint on that line and Reverse Continue, or step back between stops (\"timeTravel\": false)", FrameCrossings)
		}
		for j := i - 1; j >= 0 && s != 0; j-- {
			// (a caller outside the scope has its state at the call only)
			if e := &w.events[j]; e.S == s && e.W == 0 && e.N < bound {
				return w, j, nil
			}
		}
		p, err := d.earlier(w)
		if err != nil || p == nil {
			return nil, -1, err
		}
		if s != 0 {
			ns := w.serialIn(p, s)
			if ns == 0 {
				if key = w.resumeKey(s); key == "" {
					return nil, -1, nil
				}
				f, file = w.codeOf(s)
			}
			s = ns
		}
		if s == 0 {
			if s, err = p.suspendedAs(key, f, file); err != nil {
				return nil, -1, err
			}
		}
		if p.anchor != w.anchor {
			crossed++
		}
		w, i, bound = p, len(p.events)-1, boundIn(w, p, bound)
	}
}

// scanBudget bounds the re-executions one step or Reverse Continue goes
// back through (a window each, back to the program's start otherwise).
const scanBudget = 20 * time.Second

// FrameCrossings bounds the anchors one Step Back goes back past looking
// for its frame's previous line (each stretch re-executed is as long as
// the program ran between two anchors, its call's code traced only where
// an anchor was taken): a Step Back over a long call is refused, not slow.
var FrameCrossings = 12

// scanBack is the latest event before event i of w, in w or the windows
// before it, for which hit says yes.
func (d *Engine) scanBack(w *lineWindow, i int, hit func(*lineWindow, int) bool) (*lineWindow, int, error) {
	bound := w.events[i].N
	if !w.events[i].line() {
		bound++ // (a state at a call: the line event numbered as it is comes after it)
	}
	start := time.Now()
	for {
		if time.Since(start) > scanBudget {
			return nil, -1, fmt.Errorf("no hit of the breakpoints in the history re-executed within %v (back to a stretch before %s); set a breakpoint nearer, or step back between stops", scanBudget, recording.SnapID(w.anchor))
		}
		for j := i - 1; j >= 0; j-- {
			if w.events[j].N < bound && hit(w, j) {
				return w, j, nil
			}
		}
		p, err := d.earlier(w)
		if err != nil || p == nil {
			return nil, -1, err
		}
		w, i, bound = p, len(p.events)-1, boundIn(w, p, bound)
	}
}

// boundIn is, for a search going from w into the window p before it with
// events numbered below bound, the bound in p: its events before its last
// (the moment where w begins) that w has not (a window from the same
// anchor numbers its events as w does; one before w's anchor has all its
// events before it).
func boundIn(w, p *lineWindow, bound int) int {
	last := p.events[len(p.events)-1].N
	if p.anchor == w.anchor && bound < last {
		return bound
	}
	return last
}

// scanForward is the next event after event i of w, in w or the windows
// after it (up to the stretch's stop, not included), for which hit says yes.
func scanForward(w *lineWindow, i int, hit func(*lineWindow, int) bool) (*lineWindow, int) {
	for {
		last := w.end()
		if w.next == nil {
			last-- // (the stop's own event: Continue's own rule takes it from there)
		}
		for j := i + 1; j < last; j++ {
			if hit(w, j) {
				return w, j
			}
		}
		if w.next == nil {
			return nil, -1
		}
		w = w.next
		i = w.firstLine() - 1
	}
}

// earlier is the window of the events before w's first: the same
// stretch re-executed with the same scope up to w's first line event, or,
// for a window from its anchor, the window of the stretch that ends at the
// anchor (from the anchor before it, tracing the anchor's frames of w's
// code, the anchor's top frame at its line, and the breakpoints set now);
// nil at the start of the history. Made once (again
// when the breakpoints set now are not in its scope).
func (d *Engine) earlier(w *lineWindow) (*lineWindow, error) {
	d.mu.Lock()
	p := w.prev
	if p != nil && w.first == 0 && !p.covers(d.lineBPs) {
		p = nil
	}
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if p != nil {
		return p, nil
	}
	var err error
	scope := fromHit(w.scope, false) // (the last events before w's, not from a hit)
	if w.first > 0 {
		n := w.first
		if p, err = d.reexecuteTo(store, python, w.anchor, w.stop, scope, launch.HistoryUntil{Event: &n}, false); err != nil {
			return nil, err
		}
		if len(p.events) == 0 || p.events[len(p.events)-1].N != n || (p.first >= n && n > 0) {
			last := -1
			if len(p.events) > 0 {
				last = p.events[len(p.events)-1].N
			}
			return nil, fmt.Errorf("cannot go further back by line: re-executing from %s again took another path (its input, files or environment differ from the recorded run's; it ended at line event %d, its events from %d, not at %d); step back between stops instead (\"timeTravel\": false)", recording.SnapID(w.anchor), last, p.first, n)
		}
	} else if p, err = d.reexecuteIn(store, python, w.anchor, scope, &launch.HistoryScope{Codes: w.resumedCodes()}, false); err != nil || p == nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p.head = w.head
	w.prev, p.next = p, w
	return p, nil
}

// snapshot is event j as a snapshot numbered n: its frame and its callers
// (each at its last event before j), locals as the events saw them.
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
