package session

// Debugger is the debugging engine a front end drives (dap/ today): a
// history of stops with a cursor (time travel), an optional live process
// (live.go) whose current stop is the newest entry, breakpoints, and
// resuming a fresh process from any stop. The past is always shown from
// snapshots; only the live stop talks to the live program.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/tracer"
)

// LaunchOptions start a program to debug live (debugpy's names).
type LaunchOptions struct {
	Program     string
	Module      string
	Args        []string
	Cwd         string
	Env         map[string]string
	Python      string
	DB          string
	StopOnEntry bool
	JustMyCode  bool
	NoDebug     bool // run without stopping (VS Code's Run Without Debugging)
}

// LineBreakpoint is a source breakpoint as the front end sets it.
type LineBreakpoint struct {
	ID           int
	Line         int
	Condition    string
	HitCondition string
	LogMessage   *string
}

// FuncBreakpoint is a function breakpoint.
type FuncBreakpoint struct {
	ID           int
	Name         string
	Condition    string
	HitCondition string
}

// BreakpointResult says whether a breakpoint was accepted, and where.
type BreakpointResult struct {
	ID       int
	Verified bool
	Line     int
	Message  string
}

// Stop is one entry of the history: a snapshot the program stopped at.
type Stop struct {
	Snap        int64
	Reason      string // breakpoint | function | exception | step | pause | entry | snapshot
	Label       string
	Breakpoints []int
	Exception   *ExceptionInfo
}

// Events the engine reports to its front end.
type (
	// StoppedEvent: the cursor moved to a stop (live or in the past).
	StoppedEvent struct {
		Reason      string
		Description string
		Text        string
		Breakpoints []int
	}
	// OutputEvent: program output or a message for the user.
	OutputEvent struct{ Category, Text string }
	// ContinuedEvent: the live program runs again on its own.
	ContinuedEvent struct{}
	// ExitedEvent: the live program ended.
	ExitedEvent struct{ Code int }
	// TerminatedEvent: the session is over.
	TerminatedEvent struct{}
)

// ErrRunning is returned for requests that need a stop.
var ErrRunning = errors.New("the program is running; pause it first")

// Debugger is safe for use by one front end goroutine plus the live
// process's goroutines.
type Debugger struct {
	mu     sync.Mutex
	events *eventQueue

	store  *recording.Store
	cache  map[int64]*recording.Snapshot
	hist   []Stop
	cur    int
	replay bool

	live     *Live
	liveStop int // index of the live stop in hist, -1 while the program runs
	gen      int // changes whenever the live program moves
	started  bool
	entry    map[string]any // one-shot entry breakpoint of a resumed process
	ended    bool

	lineBPs map[string][]LineBreakpoint
	funcBPs []FuncBreakpoint
	funcQ   map[int][]string
	filters []string

	past map[string]*pastEval // evaluators of the past, by interpreter

	opts    LaunchOptions
	python  string
	baseDir string
	env     []string
}

// NewDebugger returns an idle engine.
func NewDebugger() *Debugger {
	return &Debugger{events: newEventQueue(), cache: map[int64]*recording.Snapshot{}, liveStop: -1,
		lineBPs: map[string][]LineBreakpoint{}, funcQ: map[int][]string{}, opts: LaunchOptions{JustMyCode: true}}
}

// Events delivers the engine's events in order.
func (d *Debugger) Events() <-chan any { return d.events.out }

func (d *Debugger) emit(ev any) { d.events.push(ev) }

// ------------------------------------------------------------------ launch

// Launch records and debugs a program live. It returns once the program is
// ready; it runs after Start.
func (d *Debugger) Launch(o LaunchOptions) error {
	if o.Program == "" && o.Module == "" {
		return errors.New("launch needs \"program\" (a Python file) or \"module\", or \"recording\" to replay one")
	}
	python, err := tracer.FindPython(o.Python)
	if err != nil {
		return err
	}
	cwd := o.Cwd
	if cwd == "" {
		if o.Program != "" {
			cwd = filepath.Dir(absPath(o.Program, ""))
		} else {
			cwd, _ = os.Getwd()
		}
	}
	cwd = absPath(cwd, "")
	if st, err := os.Stat(cwd); err != nil || !st.IsDir() {
		return fmt.Errorf("the working directory %s does not exist", cwd)
	}
	cfg := tracer.Config{Mode: "record"}
	program := ""
	baseDir := cwd
	if o.Module != "" {
		cfg.Module = o.Module
		cfg.Argv = append([]string{"-m"}, o.Args...)
		program = "-m " + o.Module
	} else {
		prog := absPath(o.Program, cwd)
		st, err := os.Stat(prog)
		if err != nil || st.IsDir() {
			return fmt.Errorf("program %s does not exist; check \"program\" in the launch configuration", prog)
		}
		cfg.Program = prog
		cfg.Argv = append([]string{prog}, o.Args...)
		program = prog
		baseDir = filepath.Dir(prog)
	}
	dbPath := o.DB
	if dbPath == "" {
		dbPath = filepath.Join(cwd, recording.DefaultPath)
	}
	dbPath = absPath(dbPath, cwd)
	store, err := recording.Create(dbPath)
	if err != nil {
		return err
	}
	run, err := store.NewRun(nil, program, cfg.Argv, cwd, python)
	if err != nil {
		store.Close()
		return fmt.Errorf("cannot write to %s: %v", dbPath, err)
	}
	cfg.DB = dbPath
	cfg.Run = run
	env := os.Environ()
	for k, v := range o.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "PYTHONUNBUFFERED=1")
	d.mu.Lock()
	d.store, d.opts, d.python, d.baseDir, d.env = store, o, python, baseDir, env
	d.mu.Unlock()
	l, err := startLive(python, cfg, cwd, env, d)
	if err != nil {
		_ = store.EndRun(run, 2)
		return err
	}
	d.mu.Lock()
	d.live = l
	d.mu.Unlock()
	return nil
}

// OpenRecording replays a recording from snapshot snap (0: the first).
// Only the snapshots of that snapshot's run are in the history.
func (d *Debugger) OpenRecording(path string, snap int64) error {
	store, err := recording.Open(absPath(path, ""))
	if err != nil {
		return err
	}
	all, err := store.List(0)
	if err != nil {
		store.Close()
		return fmt.Errorf("%s: %v", path, err)
	}
	if len(all) == 0 {
		store.Close()
		return fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	run := all[0].Run
	if snap > 0 {
		found := false
		for _, s := range all {
			if s.N == snap {
				run, found = s.Run, true
			}
		}
		if !found {
			store.Close()
			return fmt.Errorf("%s: %w in %s (`pyreplay ls` lists them)", recording.SnapID(snap), recording.ErrNoSnapshot, path)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.store, d.replay = store, true
	d.baseDir = filepath.Dir(absPath(path, ""))
	if r, err := store.GetRun(run); err == nil {
		d.baseDir = r.Cwd
		if !strings.HasPrefix(r.Program, "-m ") {
			d.baseDir = filepath.Dir(absPath(r.Program, r.Cwd))
		}
	}
	for _, s := range all {
		if s.Run != run {
			continue
		}
		if s.N == snap {
			d.cur = len(d.hist)
		}
		d.hist = append(d.hist, Stop{Snap: s.N, Reason: "snapshot", Label: s.Reason})
	}
	return nil
}

// Start lets the program run (configurationDone), or shows the opening
// snapshot of a replay.
func (d *Debugger) Start() error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return nil
	}
	d.started = true
	if d.replay || d.live == nil {
		d.mu.Unlock()
		if d.replay {
			d.emit(StoppedEvent{Reason: "entry", Description: "replaying the recording"})
		}
		return nil
	}
	l := d.live
	args := d.bpPayload()
	args["stopOnEntry"] = d.opts.StopOnEntry && !d.opts.NoDebug
	d.mu.Unlock()
	return l.Call("start", args, nil)
}

// ------------------------------------------------------------------ breakpoints

// SetLineBreakpoints replaces the breakpoints of one file.
func (d *Debugger) SetLineBreakpoints(path string, bps []LineBreakpoint) []BreakpointResult {
	path = absPath(path, "")
	out := make([]BreakpointResult, len(bps))
	d.mu.Lock()
	python := d.python
	d.mu.Unlock()
	// the lines CPython runs (nil in a replay, where no interpreter is
	// chosen: a breakpoint there matches the snapshots of its line)
	var lines []int
	var err error
	if python != "" {
		lines, err = tracer.RunLines(python, path)
	} else if _, serr := os.Stat(path); serr != nil {
		err = serr
	}
	var keep []LineBreakpoint
	for i, b := range bps {
		out[i] = BreakpointResult{ID: b.ID, Line: b.Line}
		if err != nil {
			out[i].Message = fmt.Sprintf("cannot read %s: %v", path, err)
			continue
		}
		// a line CPython never runs moves to the next one that does
		line := b.Line
		if lines != nil {
			line = 0
			for _, l := range lines {
				if l >= b.Line {
					line = l
					break
				}
			}
		}
		if line == 0 {
			out[i].Message = fmt.Sprintf("line %d of %s has no code CPython runs, nor has any line after it", b.Line, filepath.Base(path))
			continue
		}
		b.Line = line
		out[i].Line = line
		out[i].Verified = true
		keep = append(keep, b)
	}
	d.mu.Lock()
	if len(keep) == 0 {
		delete(d.lineBPs, path)
	} else {
		d.lineBPs[path] = keep
	}
	d.mu.Unlock()
	d.applyBreakpoints(out)
	return out
}

// SetFunctionBreakpoints replaces the function breakpoints.
func (d *Debugger) SetFunctionBreakpoints(bps []FuncBreakpoint) []BreakpointResult {
	out := make([]BreakpointResult, len(bps))
	d.mu.Lock()
	base, replay := d.baseDir, d.replay
	d.mu.Unlock()
	q := map[int][]string{}
	var keep []FuncBreakpoint
	for i, b := range bps {
		out[i] = BreakpointResult{ID: b.ID}
		name := strings.TrimSpace(b.Name)
		if replay {
			q[b.ID] = []string{name}
			out[i].Verified = true
			keep = append(keep, b)
			continue
		}
		res, err := tracer.ParseBreakpoint(name, base, "")
		if err != nil || len(res) == 0 || res[0].Func == "" {
			if err == nil {
				err = fmt.Errorf("%q is not a function name", name)
			}
			out[i].Message = err.Error()
			continue
		}
		for _, r := range res {
			q[b.ID] = append(q[b.ID], r.Func)
		}
		out[i].Verified = true
		keep = append(keep, b)
	}
	d.mu.Lock()
	d.funcBPs, d.funcQ = keep, q
	d.mu.Unlock()
	d.applyBreakpoints(out)
	return out
}

// SetExceptionFilters sets the exception filters: raised, uncaught.
func (d *Debugger) SetExceptionFilters(filters []string) error {
	for _, f := range filters {
		if f != "raised" && f != "uncaught" {
			return fmt.Errorf("unknown exception filter %q (pyreplay has \"raised\" and \"uncaught\")", f)
		}
	}
	d.mu.Lock()
	d.filters = append([]string(nil), filters...)
	d.mu.Unlock()
	d.applyBreakpoints(nil)
	return nil
}

func (d *Debugger) bpPayload() map[string]any {
	if d.opts.NoDebug {
		return map[string]any{"lines": []any{}, "funcs": []any{}, "exceptions": []string{}, "justMyCode": true}
	}
	lines := []map[string]any{}
	files := make([]string, 0, len(d.lineBPs))
	for f := range d.lineBPs {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		for _, b := range d.lineBPs[f] {
			m := map[string]any{"id": b.ID, "file": f, "line": b.Line, "cond": b.Condition, "hitcond": b.HitCondition, "spec": fmt.Sprintf("%s:%d", f, b.Line)}
			if b.LogMessage != nil {
				m["log"] = *b.LogMessage
			}
			lines = append(lines, m)
		}
	}
	if d.entry != nil {
		lines = append(lines, d.entry)
	}
	funcs := []map[string]any{}
	for _, b := range d.funcBPs {
		for _, q := range d.funcQ[b.ID] {
			funcs = append(funcs, map[string]any{"id": b.ID, "func": q, "cond": b.Condition, "hitcond": b.HitCondition, "spec": b.Name})
		}
	}
	return map[string]any{"lines": lines, "funcs": funcs, "exceptions": append([]string{}, d.filters...), "justMyCode": d.opts.JustMyCode}
}

// applyBreakpoints sends the whole breakpoint set to a started live program
// and marks the ones it rejected.
func (d *Debugger) applyBreakpoints(res []BreakpointResult) {
	d.mu.Lock()
	l := d.live
	if l == nil || !d.started {
		d.mu.Unlock()
		return
	}
	args := d.bpPayload()
	d.mu.Unlock()
	var body struct {
		Errors map[string]string `json:"errors"`
	}
	if err := l.Call("breakpoints", args, &body); err != nil {
		d.emit(OutputEvent{Category: "console", Text: fmt.Sprintf("pyreplay: breakpoints not applied yet: %v\n", err)})
		return
	}
	for i := range res {
		if msg, ok := body.Errors[fmt.Sprint(res[i].ID)]; ok {
			res[i].Verified = false
			res[i].Message = msg
		}
	}
}

// matches says whether a stop is one a breakpoint would stop at: the
// target of continue / reverse continue in history. With no line or
// function breakpoint, a replay stops everywhere.
func (d *Debugger) matches(i int) bool {
	st := d.hist[i]
	s, err := d.snapLocked(st.Snap)
	if err != nil {
		return false
	}
	if len(d.lineBPs) == 0 && len(d.funcBPs) == 0 {
		if d.replay {
			return true
		}
	}
	if st.Reason == "exception" || (d.replay && st.Label == "exception") {
		if len(d.filters) > 0 {
			return true
		}
	}
	if top := topUser(s); top != nil {
		for _, b := range d.lineBPs[absPath(top.File, "")] {
			if b.Line == top.Line && b.LogMessage == nil {
				return true
			}
		}
	}
	for _, b := range d.funcBPs {
		names := d.funcQ[b.ID]
		for _, q := range names {
			if s.Function == q || strings.HasSuffix(s.Function, "."+q) {
				if top := topUser(s); top != nil && (top.Kind == "entry" || top.Kind == "hook" || st.Reason == "function" || st.Label == "function") {
					return true
				}
			}
		}
	}
	return false
}

func topUser(s *recording.Snapshot) *recording.Frame {
	for i := len(s.Frames) - 1; i >= 0; i-- {
		if !s.Frames[i].Library {
			return &s.Frames[i]
		}
	}
	return nil
}

// ------------------------------------------------------------------ moving

func (d *Debugger) runningLocked() bool { return d.live != nil && d.liveStop < 0 }

func (d *Debugger) moveTo(i int, reason, text string) {
	d.cur = i
	st := d.hist[i]
	ev := StoppedEvent{Reason: reason, Text: text, Description: d.describe(st)}
	if reason == "breakpoint" {
		ev.Breakpoints = st.Breakpoints
	}
	d.emit(ev)
}

func (d *Debugger) describe(st Stop) string {
	where := recording.SnapID(st.Snap)
	if d.live != nil && d.liveStop >= 0 && d.hist[d.liveStop].Snap == st.Snap {
		return where + " (live)"
	}
	return where + " (history)"
}

// Continue runs to the next breakpoint: through history first, then live.
func (d *Debugger) Continue() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		if err == ErrRunning {
			return nil
		}
		return err
	}
	last := len(d.hist) - 1
	for i := d.cur + 1; i <= last; i++ {
		if d.matches(i) {
			d.moveTo(i, "breakpoint", "")
			return nil
		}
	}
	if d.live != nil && d.liveStop >= 0 {
		d.cur = d.liveStop
		return d.runLocked("continue")
	}
	d.moveTo(last, "step", "pyreplay: no later snapshot matches a breakpoint; this is the last one\n")
	return nil
}

// Step moves one stop forward in history, or steps the live program at
// the live stop. kind is next, stepIn or stepOut.
func (d *Debugger) Step(kind string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		return err
	}
	if d.cur < len(d.hist)-1 {
		d.moveTo(d.cur+1, "step", "")
		return nil
	}
	if d.live != nil && d.liveStop == d.cur {
		return d.runLocked(kind)
	}
	d.moveTo(d.cur, "step", "pyreplay: this is the last snapshot of the recording\n")
	return nil
}

// StepBack moves to the previous stop.
func (d *Debugger) StepBack() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		return err
	}
	if d.cur > 0 {
		d.moveTo(d.cur-1, "step", "")
		return nil
	}
	d.moveTo(0, "step", "pyreplay: this is the first stop; there is no earlier one\n")
	return nil
}

// ReverseContinue moves to the previous stop that matches a breakpoint, or
// to the first.
func (d *Debugger) ReverseContinue() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		return err
	}
	for i := d.cur - 1; i >= 0; i-- {
		if d.matches(i) {
			d.moveTo(i, "breakpoint", "")
			return nil
		}
	}
	text := ""
	if d.cur == 0 {
		text = "pyreplay: this is the first stop; there is no earlier one\n"
	}
	d.moveTo(0, "step", text)
	return nil
}

// Pause stops the running program at its next line.
func (d *Debugger) Pause() error {
	d.mu.Lock()
	l := d.live
	running := d.runningLocked()
	d.mu.Unlock()
	if !running {
		return nil
	}
	return l.Send("pause", nil)
}

func (d *Debugger) needStopLocked() error {
	if d.ended {
		return errors.New("the session has ended")
	}
	if d.runningLocked() {
		return ErrRunning
	}
	if len(d.hist) == 0 {
		return errors.New("the program has not stopped yet")
	}
	return nil
}

func (d *Debugger) runLocked(cmd string) error {
	l := d.live
	d.liveStop = -1
	d.gen++
	if err := l.Call(cmd, nil, nil); err != nil {
		if errors.Is(err, tracer.ErrChannelClosed) {
			return nil // its end is being reported
		}
		return err
	}
	return nil
}

// ------------------------------------------------------------------ live callbacks

func (d *Debugger) liveStopped(l *Live, s LiveStop) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l != d.live {
		return
	}
	d.hist = append(d.hist, Stop{Snap: s.Snap, Reason: s.Reason, Label: s.Label, Breakpoints: s.Breakpoints, Exception: s.Exception})
	d.liveStop = len(d.hist) - 1
	d.cur = d.liveStop
	d.gen++
	reason := map[string]string{"function": "function breakpoint"}[s.Reason]
	if reason == "" {
		reason = s.Reason
	}
	ev := StoppedEvent{Reason: reason, Breakpoints: s.Breakpoints, Description: recording.SnapID(s.Snap) + " (live)"}
	if s.Exception != nil {
		ev.Text = s.Exception.Type + ": " + s.Exception.Message
	}
	d.emit(ev)
}

func (d *Debugger) liveOutput(l *Live, category, text string) {
	d.mu.Lock()
	cur := l == d.live
	d.mu.Unlock()
	if cur {
		d.emit(OutputEvent{Category: category, Text: text})
	}
}

func (d *Debugger) liveExited(l *Live, code int, shimErr string) {
	d.mu.Lock()
	if d.store != nil {
		_ = d.store.EndRun(l.run, code)
	}
	if l != d.live {
		d.mu.Unlock()
		return // replaced by Resume from Here: not the session's end
	}
	d.live = nil
	d.liveStop = -1
	d.ended = true
	d.mu.Unlock()
	if shimErr != "" {
		d.emit(OutputEvent{Category: "stderr", Text: "pyreplay: " + shimErr + "\n"})
	}
	d.emit(ExitedEvent{Code: code})
	d.emit(TerminatedEvent{})
}

// ------------------------------------------------------------------ inspecting

// Current is the stop at the cursor, its snapshot, and whether it is the
// live program's present.
func (d *Debugger) Current() (Stop, *recording.Snapshot, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.needStopLocked(); err != nil {
		return Stop{}, nil, false, err
	}
	st := d.hist[d.cur]
	s, err := d.snapLocked(st.Snap)
	return st, s, d.live != nil && d.cur == d.liveStop, err
}

// Position is the cursor and the live program's generation; a Token taken
// at a stop is valid for live requests only while both are unchanged.
type Token struct{ Cur, Gen int }

// Token identifies the present stop.
func (d *Debugger) Token() Token {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Token{d.cur, d.gen}
}

// IsLive says whether tok still names the live program's current stop.
func (d *Debugger) IsLive(tok Token) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live != nil && d.liveStop >= 0 && tok.Cur == d.liveStop && tok.Gen == d.gen && d.cur == tok.Cur
}

func (d *Debugger) snapLocked(n int64) (*recording.Snapshot, error) {
	if s, ok := d.cache[n]; ok {
		return s, nil
	}
	s, err := d.store.Get(n)
	if err != nil {
		return nil, err
	}
	d.cache[n] = s
	return s, nil
}

// Source returns the recorded text of a file by its sha256.
func (d *Debugger) Source(sha string) (string, error) {
	d.mu.Lock()
	st := d.store
	d.mu.Unlock()
	if st == nil {
		return "", errors.New("no recording is open")
	}
	return st.Source(sha)
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
func (d *Debugger) LiveChildren(tok Token, root LiveRoot, path []int, start, count int) ([]recording.Value, int, error) {
	if !d.IsLive(tok) {
		return nil, 0, errors.New("not the live stop")
	}
	d.mu.Lock()
	l := d.live
	d.mu.Unlock()
	r := map[string]any{}
	switch {
	case root.Result > 0:
		r["result"] = root.Result
	case root.Module != "":
		r["module"], r["name"] = root.Module, root.Name
	default:
		r["name"] = root.Name
	}
	var body struct {
		Children []recording.Value `json:"children"`
		Len      int               `json:"len"`
	}
	err := l.CallInterruptible("children", map[string]any{"root": r, "frame": root.Frame, "path": path, "start": start, "count": count}, &body)
	return body.Children, body.Len, err
}

// EvalResult is the value of an evaluation; Ref > 0 names it in the live
// program (for LiveChildren).
type EvalResult struct {
	Value recording.Value
	Ref   int
	Live  bool
}

// Evaluate evaluates expr in frame (an index into the snapshot's frames):
// in the live program at the live stop, from the snapshot in the past.
func (d *Debugger) Evaluate(tok Token, frame int, expr, context string) (EvalResult, error) {
	d.mu.Lock()
	if err := d.needStopLocked(); err != nil {
		d.mu.Unlock()
		return EvalResult{}, err
	}
	live := d.live != nil && d.liveStop >= 0 && d.cur == d.liveStop && tok.Cur == d.cur && tok.Gen == d.gen
	l := d.live
	st := d.hist[d.cur]
	s, err := d.snapLocked(st.Snap)
	d.mu.Unlock()
	if err != nil {
		return EvalResult{}, err
	}
	if live {
		var body struct {
			Value recording.Value `json:"value"`
			Ref   int             `json:"ref"`
		}
		if err := l.CallInterruptible("evaluate", map[string]any{"frame": frame, "expr": expr, "context": context}, &body); err != nil {
			return EvalResult{}, err
		}
		return EvalResult{Value: body.Value, Ref: body.Ref, Live: true}, nil
	}
	v, err := EvalPast(s, frame, expr)
	if err == nil {
		return EvalResult{Value: v}, nil
	}
	// not a recorded name or part of one: evaluate on a copy of the past
	if frame < 0 || frame >= len(s.Frames) || s.Frames[frame].Library {
		return EvalResult{}, err
	}
	// evaluating on the recorded state loads it: only a signed snapshot
	if key, kerr := trust.UserKey(); kerr != nil {
		return EvalResult{}, kerr
	} else if verr := d.store.Verify(s.N, key); verr != nil {
		return EvalResult{}, verr
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

// pastEvaluator is the helper process for snapshots recorded by the
// interpreter of s's run (the state unpickles only there).
func (d *Debugger) pastEvaluator(s *recording.Snapshot) (*pastEval, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	python := d.python
	if r, err := d.store.GetRun(s.Run); err == nil && r.Python != "" {
		if _, err := os.Stat(r.Python); err == nil {
			python = r.Python
		}
	}
	if python == "" {
		p, err := tracer.FindPython("")
		if err != nil {
			return nil, err
		}
		python = p
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

// ------------------------------------------------------------------ resume

// ResumeFrom starts a fresh process from the snapshot at the cursor (or
// snapshot n when n > 0) and debugs it from then on; the previous live
// process, if any, is ended. The history up to that stop is kept.
func (d *Debugger) ResumeFrom(n int64) (int64, error) {
	d.mu.Lock()
	if d.store == nil {
		d.mu.Unlock()
		return 0, errors.New("nothing to resume from: no recording is open")
	}
	if d.runningLocked() {
		d.mu.Unlock()
		return 0, ErrRunning
	}
	idx := d.cur
	if n > 0 {
		idx = -1
		for i, st := range d.hist {
			if st.Snap == n {
				idx = i
			}
		}
		if idx < 0 {
			d.mu.Unlock()
			return 0, fmt.Errorf("%s is not a stop of this session", recording.SnapID(n))
		}
	} else if len(d.hist) == 0 {
		d.mu.Unlock()
		return 0, errors.New("the program has not stopped yet")
	}
	snapN := d.hist[idx].Snap
	s, err := d.snapLocked(snapN)
	store, python := d.store, d.opts.Python
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	prep, err := reconstruct.ResumeConfig(store, snapN, reconstruct.ResumeOptions{Python: python})
	if err != nil {
		if reconstruct.IsRefusal(err) {
			return 0, fmt.Errorf("cannot resume %s exactly: %v", recording.SnapID(snapN), err)
		}
		return 0, err
	}
	d.mu.Lock()
	old := d.live
	d.live = nil
	env := d.env
	if env == nil {
		env = append(os.Environ(), "PYTHONUNBUFFERED=1")
		d.env = env
	}
	d.mu.Unlock()
	if old != nil {
		old.Kill()
	}
	l, err := startLive(prep.Python, prep.Config, prep.Dir, env, d)
	if err != nil {
		d.mu.Lock()
		if old != nil {
			d.ended = true
		}
		d.mu.Unlock()
		if old != nil {
			d.emit(ExitedEvent{Code: 137})
			d.emit(TerminatedEvent{})
		}
		return 0, fmt.Errorf("cannot resume %s: %v", recording.SnapID(snapN), err)
	}
	d.mu.Lock()
	d.hist = d.hist[:idx+1]
	d.cur = idx
	d.live = l
	d.liveStop = -1
	d.gen++
	d.replay = false
	d.started = true
	d.entry = nil
	if top := topUser(s); top != nil {
		d.entry = map[string]any{"id": 0, "file": top.File, "line": top.Line, "oneshot": true, "spec": "entry"}
	}
	args := d.bpPayload()
	d.entry = nil
	d.mu.Unlock()
	d.emit(OutputEvent{Category: "console", Text: fmt.Sprintf("pyreplay: resumed %s in a fresh process (pid %d, run %d)\n", recording.SnapID(snapN), l.Pid(), prep.Config.Run)})
	d.emit(ContinuedEvent{})
	if err := l.Call("start", args, nil); err != nil {
		return 0, err
	}
	return prep.Config.Run, nil
}

// ------------------------------------------------------------------ ending

// Terminate ends the live program (its exit is reported), or ends a replay.
func (d *Debugger) Terminate() {
	d.mu.Lock()
	l := d.live
	ended := d.ended
	if l == nil {
		d.ended = true
	}
	d.mu.Unlock()
	if l != nil {
		l.Terminate(2 * time.Second)
		return
	}
	if !ended {
		d.emit(TerminatedEvent{})
	}
}

// Close ends everything without reporting: kills the live program and
// closes the recording.
func (d *Debugger) Close() {
	d.mu.Lock()
	l := d.live
	d.live = nil
	d.ended = true
	st := d.store
	past := d.past
	d.past = nil
	d.mu.Unlock()
	for _, pe := range past {
		pe.close()
	}
	if l != nil {
		l.Kill()
	}
	if st != nil {
		st.Close()
	}
	d.events.close()
}

// Live is the live process (nil in a replay or once it ended).
func (d *Debugger) LiveProcess() *Live {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live
}

func absPath(p, base string) string {
	if p == "" {
		return p
	}
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		if base == "" {
			base, _ = os.Getwd()
		}
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// ------------------------------------------------------------------ events

// eventQueue is an unbounded FIFO in front of a channel, so that the engine
// never blocks on a slow front end while holding its lock.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []any
	closed bool
	out    chan any
}

func newEventQueue() *eventQueue {
	e := &eventQueue{out: make(chan any)}
	e.cond = sync.NewCond(&e.mu)
	go e.run()
	return e
}

func (e *eventQueue) push(ev any) {
	e.mu.Lock()
	if !e.closed {
		e.q = append(e.q, ev)
		e.cond.Signal()
	}
	e.mu.Unlock()
}

func (e *eventQueue) close() {
	e.mu.Lock()
	e.closed = true
	e.cond.Signal()
	e.mu.Unlock()
}

func (e *eventQueue) run() {
	for {
		e.mu.Lock()
		for len(e.q) == 0 && !e.closed {
			e.cond.Wait()
		}
		if len(e.q) == 0 && e.closed {
			e.mu.Unlock()
			close(e.out)
			return
		}
		ev := e.q[0]
		e.q = e.q[1:]
		e.mu.Unlock()
		e.out <- ev
	}
}
