package session

// Re-executions for time travel by line: the program run again from an
// anchor snapshot, its effects going nowhere (the shim's linehistory.py and
// sandbox.py), up to a stop or a line event, for that stretch's line
// events (a window) or a recorded snapshot of one of its lines.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// A window keeps the last WindowEvents line events of its stretch (and
// each live frame's state where they begin); the events before are
// another window, made when going back reaches them (earlier). The
// re-execution only counts the events before those it keeps, forking a
// copy of itself every WindowForkEvery events at least (more as the run
// grows: the shim's forkpoints.py Checkpoints.spacing) for the one
// nearest them to record from, which counts on up to them again.
var (
	WindowEvents    = 5000
	WindowForkEvery = 2500
	// TrailWindows: a window's run makes one copy that trails it where it
	// can (pyshim follow.py); false: only fork checkpoints (tests compare)
	TrailWindows = true
)

// reexecute is the window of the stretch that ends at stop: the program
// run again from the latest snapshot of stop's run before it that resumes
// exactly (nil when there is none), tracing the code of stop's frames and
// of the breakpoints set now, up to stop.
func (d *Engine) reexecute(store *recording.Store, python string, stop int64) (*lineWindow, error) {
	return d.reexecuteIn(store, python, stop, nil, nil, false)
}

// reexecuteIn is reexecute tracing, of stop's frames, only the code in
// scope `only` (a window's, when the stretch is walked from that window:
// its cursor can only be in frames of that code), and stop's top frame's
// at its own line alone, to recognise the stop (scopeIn); all of them
// when only is nil. The lines and codes of keep are traced too (a window's
// own breakpoints' of then, where its cursor may be; the generators a
// window after it resumes). ahead: started before it is asked for
// (speculate).
func (d *Engine) reexecuteIn(store *recording.Store, python string, stop int64, only, keep *launch.HistoryScope, ahead bool) (*lineWindow, error) {
	if store == nil {
		return nil, nil
	}
	target, anchors, err := d.anchorsOf(store, stop, anchorTries)
	if err != nil || len(anchors) == 0 {
		return nil, err
	}
	// traced: the stop's frames' codes and the breakpoints' (set now)
	until, scope := untilOf(target)
	scope = scopeIn(until, scope, only)
	d.mu.Lock()
	for _, f := range slices.Sorted(maps.Keys(d.lineBPs)) { // (in one order: reexecuteTo's key)
		for _, b := range d.lineBPs[f] {
			scope.Lines = append(scope.Lines, [3]any{f, b.Line, b.Condition})
		}
	}
	d.mu.Unlock()
	if keep != nil {
		for _, l := range keep.Lines {
			if !slices.Contains(scope.Lines, l) {
				scope.Lines = append(scope.Lines, l)
			}
		}
		for _, c := range keep.Codes {
			if !slices.Contains(scope.Codes, c) {
				scope.Codes = append(scope.Codes, c)
			}
		}
	}
	// An uncaught exception's stop whose re-execution from the nearest
	// anchor does not reach it (the anchor resumed to a state that differs
	// from the recorded run's in what the stop is recognised by) is looked
	// for from the anchor before: that stretch runs through the original's
	// own state from further back, and the stop is the program's last such
	// event whichever anchor it starts from. Any other stop is the first
	// such event after its anchor: from further back, an earlier moment
	// can look the same (a step out's stop, mid-line, as the line's start).
	// (ahead: the nearest only; its asker, claiming it, goes on.)
	if !until.Last {
		anchors = anchors[:1]
	}
	for k, anchor := range anchors {
		w, err := d.reexecuteTo(store, python, anchor, stop, scope, until, ahead)
		if ahead || !errors.Is(err, errUnreached) || k == len(anchors)-1 {
			return w, err
		}
	}
	return nil, nil
}

// anchorTries: how many anchors, latest first, a window's re-execution
// tries before it says that the stop cannot be reached by line.
const anchorTries = 3

// anchorOf is snapshot stop and the anchor a re-execution up to it starts
// from: the latest snapshot of its run before it that resumes exactly (0
// when there is none).
func (d *Engine) anchorOf(store *recording.Store, stop int64) (*wire.Snapshot, int64, error) {
	target, anchors, err := d.anchorsOf(store, stop, 1)
	if err != nil || len(anchors) == 0 {
		return target, 0, err
	}
	return target, anchors[0], nil
}

// anchorsOf is snapshot stop and the latest n snapshots of its run before
// it that resume exactly, latest first.
func (d *Engine) anchorsOf(store *recording.Store, stop int64, n int) (*wire.Snapshot, []int64, error) {
	target, err := store.Get(stop)
	if err != nil {
		return nil, nil, err
	}
	all, err := store.List(target.Run)
	if err != nil {
		return nil, nil, err
	}
	var before []wire.Summary
	for _, s := range all {
		if s.N < stop && s.Run == target.Run {
			before = append(before, s)
		}
	}
	slices.Reverse(before)
	return target, d.exactOf(store, before, n), nil
}

// exactOf is the first n of snaps that resume exactly.
func (d *Engine) exactOf(store *recording.Store, snaps []wire.Summary, n int) []int64 {
	var exact []int64
	for _, s := range snaps {
		if len(exact) == n {
			break
		}
		if d.resumesExactly(store, s.N) {
			exact = append(exact, s.N)
		}
	}
	return exact
}

// resumesExactly is whether snapshot n of store resumes exactly
// (launch.ResumeVerdict), asked once per snapshot: planning the resume is
// ~2 ms, and every re-execution looks for its anchors again. (A source
// file edited since makes the resume itself refuse, and say why.)
func (d *Engine) resumesExactly(store *recording.Store, n int64) bool {
	d.mu.Lock()
	v, ok := d.exact[n]
	d.mu.Unlock()
	if ok {
		return v
	}
	verdict, _ := launch.ResumeVerdict(store, n)
	v = verdict == launch.ResumeExact
	d.mu.Lock()
	d.exact[n] = v
	d.mu.Unlock()
	return v
}

// untilOf is how a re-execution recognises snapshot target's moment: its
// program frames' lines and locals and its output offsets (an exception's:
// the last such event); and the scope that traces its frames' code.
func untilOf(target *wire.Snapshot) (launch.HistoryUntil, *launch.HistoryScope) {
	until := launch.HistoryUntil{Stdout: target.StdoutBytes, Stderr: target.StderrBytes, Last: target.Reason == "exception"}
	scope := &launch.HistoryScope{}
	for _, f := range target.Frames {
		if f.Library {
			continue
		}
		scope.Codes = append(scope.Codes, [2]any{f.File, codeName(f.Function)})
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
	return until, scope
}

// codeName is the co_name of the code whose qualified name is qualified
// (a scope names codes so: its last part).
func codeName(qualified string) string {
	if k := strings.LastIndexByte(qualified, '.'); k >= 0 {
		return qualified[k+1:]
	}
	return qualified
}

// scopeIn is scope (a stop's frames' codes) narrowed to the codes of
// only, the top frame's code, when dropped, traced at its stop line alone
// (StopOnly): what recognises the stop costs one event per run of that
// line, not one per line of a hot function. scope itself when only is nil.
func scopeIn(until launch.HistoryUntil, scope, only *launch.HistoryScope) *launch.HistoryScope {
	if only != nil {
		scope.FromHit = only.FromHit
	}
	if only != nil && only.All {
		scope.All = true
		return scope
	}
	if only == nil || len(scope.Codes) == 0 {
		return scope
	}
	keep := map[[2]any]bool{}
	for _, c := range only.Codes {
		keep[c] = true
	}
	n := &launch.HistoryScope{Lines: scope.Lines, FromHit: scope.FromHit}
	for _, c := range scope.Codes {
		if keep[c] {
			n.Codes = append(n.Codes, c)
		}
	}
	if top := scope.Codes[len(scope.Codes)-1]; !keep[top] && len(until.Stack) > 0 {
		n.StopOnly = &[3]any{top[0], top[1], until.Stack[len(until.Stack)-1][1]}
	}
	return n
}

// hitsBefore is, for each breakpoint of bps with a hit condition
// (bpKey), its hits from the program's start up to w's first line event
// (not included), its condition counted as a live one is: a counting
// re-execution from the run's first snapshot to w's anchor, and one from
// the anchor to w's first event when w keeps only its last events.
func (d *Engine) hitsBefore(w *lineWindow, bps map[string][]LineBreakpoint) (map[string]int, error) {
	var lines [][3]any
	for f, list := range bps {
		for _, b := range list {
			if b.HitCondition != "" {
				lines = append(lines, [3]any{f, b.Line, b.Condition})
			}
		}
	}
	key := fmt.Sprintf("%d:%d:%p:%v", w.anchor, w.first, w.scope, lines)
	d.mu.Lock()
	memo, ok := d.hitBase[key]
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if ok {
		return memo, nil
	}
	total := map[string]int{}
	anchor, err := store.Get(w.anchor)
	if err != nil {
		return nil, err
	}
	all, err := store.List(anchor.Run)
	if err != nil {
		return nil, err
	}
	// hits count from the program's start: the run's first line, time
	// travel's "entry" anchor, while the history still reaches it
	// (launch.History drops it with the oldest anchor); exact or refuse
	if len(all) == 0 || all[0].Reason != "entry" || all[0].Label != "anchor" {
		begins := "later"
		if len(all) > 0 {
			begins = "at " + recording.SnapID(all[0].N)
		}
		return nil, fmt.Errorf("cannot apply the hit condition in the past: it counts the hits since the program's start, and the history begins %s (a longer \"history\" / --history keeps more); remove the hit condition, or step back between stops", begins)
	}
	if first := d.exactOf(store, all, 1); len(first) > 0 && first[0] != w.anchor {
		// from the run's first snapshot to the anchor
		until, scope := untilOf(anchor)
		until.Last = false
		scope = scopeIn(until, scope, &launch.HistoryScope{}) // (counting needs no frame's lines)
		scope.Lines = lines
		if err := d.countHits(store, python, first[0], scope, until, total); err != nil {
			return nil, err
		}
	}
	if w.first > 0 {
		n := w.first
		if err := d.countHits(store, python, w.anchor, w.scope, launch.HistoryUntil{Event: &n}, total); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	if d.hitBase == nil {
		d.hitBase = map[string]map[string]int{}
	}
	d.hitBase[key] = total
	d.mu.Unlock()
	return total, nil
}

// countHits re-executes from anchor to until, counting the line events of
// scope's lines whose condition holds, and adds them to total.
func (d *Engine) countHits(store *recording.Store, python string, anchor int64, scope *launch.HistoryScope, until launch.HistoryUntil, total map[string]int) error {
	lines, run, err := d.reexecution(store, python, anchor, &launch.HistorySpec{Until: until, Scope: scope, Count: true})
	_ = store.DropRun(run)
	if err != nil {
		return err
	}
	for _, l := range lines {
		var e struct {
			End    string         `json:"end"`
			Counts map[string]int `json:"counts"`
		}
		if json.Unmarshal(l, &e) == nil && e.End != "" {
			if e.End != "matched" {
				return fmt.Errorf("cannot apply the hit condition in the past: re-executing from %s did not reach this stretch's start (its input, files or environment differ from the recorded run's); remove the hit condition, or step back between stops", recording.SnapID(anchor))
			}
			for k, n := range e.Counts {
				total[k] += n
			}
			return nil
		}
	}
	return fmt.Errorf("cannot apply the hit condition in the past: re-executing from %s ended before it could count (it was killed, or failed to start); remove the hit condition, or step back between stops", recording.SnapID(anchor))
}

// hitCondition says whether n hits satisfy a DAP hit condition: N, =N,
// ==N, >N, >=N, <N, <=N or %N (the live engine's rule: livebps.py
// _hit_check).
func hitCondition(cond string, n int) bool {
	m := hitCondRE.FindStringSubmatch(cond)
	if m == nil {
		return false
	}
	k, _ := strconv.Atoi(m[2])
	switch m[1] {
	case "", "=", "==":
		return n == k
	case ">":
		return n > k
	case ">=":
		return n >= k
	case "<":
		return n < k
	case "<=":
		return n <= k
	}
	return k > 0 && n%k == 0
}

var hitCondRE = regexp.MustCompile(`^\s*(==|=|>=|<=|>|<|%)?\s*(\d+)\s*$`)

// aheadRun is a re-execution started before it is asked for: the first
// to ask for the same one (reexecuteTo's arguments) takes its window.
type aheadRun struct {
	done chan struct{}
	w    *lineWindow
	err  error
}

// reexecuteTo runs the stretch from anchor to stop again with scope, up to
// until (stop's stack, or a line event's number), and reads its window;
// one started ahead with the same arguments is taken instead, once done.
// ahead: this is one, claimed by its arguments before this returns (nil)
// and run in the background.
func (d *Engine) reexecuteTo(store *recording.Store, python string, anchor, stop int64, scope *launch.HistoryScope, until launch.HistoryUntil, ahead bool) (*lineWindow, error) {
	sk, _ := json.Marshal(scope)
	uk, _ := json.Marshal(until)
	key := fmt.Sprintf("%s %d %d %s %s", python, anchor, stop, sk, uk)
	d.mu.Lock()
	if run, ok := d.ahead[key]; ok {
		if ahead {
			d.mu.Unlock()
			return nil, nil // (already under way)
		}
		delete(d.ahead, key)
		d.mu.Unlock()
		<-run.done
		return run.w, run.err
	}
	var run *aheadRun
	if ahead {
		if d.ahead == nil || len(d.ahead) >= 4 {
			d.ahead = map[string]*aheadRun{} // (unclaimed ones go: breakpoints changed since)
		}
		run = &aheadRun{done: make(chan struct{})}
		d.ahead[key] = run
	}
	d.mu.Unlock()
	if run != nil {
		// (claimed before this returns: a request right after finds it)
		go func() {
			run.w, run.err = d.reexecuteWindow(store, python, anchor, stop, scope, until)
			close(run.done)
		}()
		return nil, nil
	}
	return d.reexecuteWindow(store, python, anchor, stop, scope, until)
}

// speculate starts, in the background, the re-execution that going back
// or forth from the cursor's line window will need for the breakpoints
// just set (a breakpoint in code the window did not trace: covering), so
// that Reverse Continue, pressed a moment later, finds it made.
func (d *Engine) speculate() {
	d.mu.Lock()
	var w *lineWindow
	if d.lines && !d.ended && d.store != nil && d.cur >= 0 && d.cur < len(d.hist) {
		if v, ok := d.virtual[d.hist[d.cur].Snap]; ok {
			w = v.w
		} else {
			w = d.windows[d.hist[d.cur].Snap]
		}
	}
	if w == nil || w.covers(d.lineBPs) {
		d.mu.Unlock()
		return
	}
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	// (covering's re-execution, with the same arguments; what it runs is
	// claimed before this returns, the run itself goes on in the background)
	_, _ = d.reexecuteIn(store, python, w.stop, fromHit(w.scope, true), &launch.HistoryScope{Lines: w.scope.Lines}, true)
}

// reexecuteWindow is reexecuteTo's re-execution.
func (d *Engine) reexecuteWindow(store *recording.Store, python string, anchor, stop int64, scope *launch.HistoryScope, until launch.HistoryUntil) (*lineWindow, error) {
	spec := &launch.HistorySpec{Until: until, Scope: scope, Limit: WindowEvents, ForkEvery: WindowForkEvery, NoTrail: !TrailWindows}
	lines, run, err := d.reexecution(store, python, anchor, spec)
	if refused := (*anchorRefused)(nil); errors.As(err, &refused) {
		// (an earlier anchor may do: reexecuteIn)
		return nil, fmt.Errorf("%w from %s: resuming %s: %s", errUnreached, recording.SnapID(stop), recording.SnapID(anchor), refused.msg)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot go back by line from %s: resuming %s: %v", recording.SnapID(stop), recording.SnapID(anchor), err)
	}
	_ = store.DropRun(run) // (it keeps nothing)
	w := &lineWindow{anchor: anchor, stop: stop, head: stop, scope: scope}
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
	if end != "matched" && w.outside != "" {
		return nil, fmt.Errorf("%w: re-executing the program from %s did not reach %s: it read %s, which was not recorded",
			errUnreached, recording.SnapID(anchor), recording.SnapID(stop), w.outside)
	}
	if end != "matched" {
		return nil, fmt.Errorf("%w: re-executing the program from %s did not reach %s (a stop between lines, as a step out's; or its input, files or environment differ from the recorded run's)",
			errUnreached, recording.SnapID(anchor), recording.SnapID(stop))
	}
	return w, nil
}

// recordedStop makes the line of the past n (a virtual stop) a recorded
// snapshot: the program is re-executed from its window's anchor, effects
// going nowhere, to that line event (by its number, with the window's
// scope), snapshotted there and ended (the run is kept): what Resume from
// Here resumes from. n > 0 is returned as it is.
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
	if !e.line() {
		return 0, errors.New("this is a caller's line in the middle of a call, not a line event of the history: step back into a traced frame's line first")
	}
	at := e.N
	spec := &launch.HistorySpec{Until: launch.HistoryUntil{Event: &at}, Scope: v.w.scope, Snapshot: true}
	lines, run, err := d.reexecution(store, python, v.w.anchor, spec)
	if err != nil {
		return 0, err
	}
	var snap int64
	for _, l := range lines {
		if end, ok := endOf(l); ok {
			if strings.HasPrefix(end, "unknown: ") {
				_ = store.DropRun(run)
				return 0, fmt.Errorf("the program's state at this line of the past is not known exactly: %s; evaluate at a stop instead (a breakpoint there, or one before that read)", strings.TrimPrefix(end, "unknown: "))
			}
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

// anchorRefused: the shim refused to resume a re-execution's anchor (its
// one-line reason).
type anchorRefused struct{ msg string }

func (e *anchorRefused) Error() string { return e.msg }

// reexecution resumes anchor with spec (Out set here), its output going
// nowhere, and returns the lines it wrote (its events, then {"end": ...})
// and its run: the parked one from anchor when there is one (park.go;
// another is parked once it is done), else one started now. It returns
// once the run says its lines are all written (runStatus), while its
// process may still be ending.
func (d *Engine) reexecution(store *recording.Store, python string, anchor int64, spec *launch.HistorySpec) ([][]byte, int64, error) {
	out, err := os.CreateTemp(scratch.Dir(), "pyreplay-lines-*.jsonl")
	if err != nil {
		return nil, 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	spec.Out = out.Name()
	// (a snapshot's run is waited for: its snapshot is written as it ends)
	var status *runStatus
	if !spec.Snapshot {
		if status, err = newRunStatus(); err == nil {
			defer status.close()
			spec.Done = status.path()
		}
	}
	run, err := int64(0), errParkedGone
	if p := d.takeParked(anchor, python); p != nil {
		run = p.run
		d.running(p.ended)
		err = p.finish(spec, status)
		defer func() { go d.park(anchor) }()
		if errors.Is(err, errParkedGone) {
			_ = store.DropRun(run)
		}
	}
	if errors.Is(err, errParkedGone) {
		var prog *Program
		prog, err = PrepareResume(launch.Options{Store: store, Snap: anchor, Python: python, History: spec}, false)
		if err != nil {
			return nil, 0, err
		}
		prog.Quiet = true
		run = prog.Config.Run
		ended, over := make(chan error, 1), make(chan struct{})
		d.running(over)
		go func() {
			defer close(over)
			res, err := prog.Run()
			if err == nil && res.ShimErr != "" {
				err = &anchorRefused{res.ShimErr}
			}
			ended <- err
		}()
		err = status.wait(ended)
	}
	if err != nil {
		return nil, run, err
	}
	f, err := os.Open(out.Name())
	if err != nil {
		return nil, run, err
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines, run, sc.Err()
}

// running counts a re-execution as running until over is closed (its
// process has ended and its run's end is recorded): one whose lines are
// read goes on ending meanwhile, and Close waits for it (waitRunning)
// before the recording closes.
func (d *Engine) running(over <-chan struct{}) {
	d.reexecs.Add(1)
	go func() {
		<-over
		d.reexecs.Done()
	}()
}

// waitRunning waits, at most `wait`, until no re-execution runs.
func (d *Engine) waitRunning(wait time.Duration) {
	idle := make(chan struct{})
	go func() {
		d.reexecs.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-time.After(wait):
	}
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
