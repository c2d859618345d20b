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
	"strings"
	"sync"
	"time"

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

	past     map[string]*pastEval // evaluators of the past, by interpreter
	verified map[int64]bool       // snapshots whose signature was checked (verifyOnce)

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
		_ = d.store.EndRun(l.run, l.status)
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
