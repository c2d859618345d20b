package session

// The engine's state: one history of stops with one cursor, opened on a
// recording (replay) or on a live program, and the types front ends see.

import (
	"errors"
	"sync"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// LaunchOptions start a program to debug live (debugpy's names).
type LaunchOptions struct {
	Target      launch.Target // "program" (Script) or "module"
	Args        []string
	Cwd         string
	Env         map[string]string
	Python      string
	DB          string
	StopOnEntry bool
	JustMyCode  bool
	NoDebug     bool // run without stopping (VS Code's Run Without Debugging)
	// Breakpoints are command-line specs (FILE:LINE, FILE:LINE@K,
	// 'FILE:LINE if EXPR', FUNCTION), resolved before the program starts;
	// a bad one fails the launch.
	Breakpoints []string
	// Exceptions are the exception filters to start with (raised, uncaught).
	Exceptions []string
	// Criu, when set, images the stops exact resume refuses (or every stop)
	// with CRIU, as record --criu does; Resume from Here restores them.
	Criu *launch.Criu
	// LineHistory: Step Back goes by line (linehistory.go); the program
	// is snapshotted at its first line (not a stop) and periodically
	// (anchors) to re-execute from, as History bounds (launch.UseAnchors).
	LineHistory bool
	History     launch.History
	// ChildSessions: each Python child the program starts waits, live,
	// for a session of its own (ChildEvent, then Attach); NoSubProcess:
	// children run as without pyreplay.
	ChildSessions, NoSubProcess bool
}

// AttachOptions attach a session to a live child of another session's
// program (ChildEvent).
type AttachOptions struct {
	Control     string // where the child waits ("unix:PATH")
	DB          string // the recording it records into
	Python      string
	JustMyCode  bool
	Exceptions  []string
	LineHistory bool
}

// OpenOptions say which snapshots of a recording make the history.
type OpenOptions struct {
	// Snap is the stop to open at (0: the first of the run; with AllRuns,
	// the newest run's first).
	Snap int64
	// AllRuns puts every run's snapshots in the history (the TUI's
	// timeline); otherwise only the run of Snap.
	AllRuns bool
	// LineHistory: Step Back and Reverse Continue go by line between the
	// recording's snapshots (linehistory.go; record --trace adds one at
	// the program's first line).
	LineHistory bool
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
	// Summary is the snapshot's summary (where, when, why it was taken).
	Summary wire.Summary
}

// State is what the engine is attached to and where that program is.
type State struct {
	Live     bool // a live program is attached (running or stopped)
	Running  bool // it runs on its own (no stop to show from it)
	Exited   bool // a live program was attached and has ended
	ExitCode int
	Present  int // index of the live program's current stop, -1 if none
	Cursor   int
	Len      int // stops in the history
	// Runs counts the commands that set the live program running: a
	// command that changed it ran the program (wait for its next stop).
	Runs int
	// Restored: what runs is a copy restored from a CRIU image (exact
	// resume refused its snapshot), not a debugged process
	Restored bool
}

// Events the engine reports to its front end.
type (
	// StoppedEvent: the cursor moved to a stop (live or in the past).
	StoppedEvent struct {
		Reason      string
		Description string
		Text        string
		Breakpoints []int
		// OthersRunning: the live program's other threads go on while
		// this one is stopped
		OthersRunning bool
	}
	// OutputEvent: program output or a message for the user.
	OutputEvent struct{ Category, Text string }
	// ContinuedEvent: the live program runs again on its own.
	ContinuedEvent struct{}
	// ExitedEvent: the live program ended.
	ExitedEvent struct{ Code int }
	// ChildEvent: the live program started a Python child that waits at
	// Control for a session of its own (AttachOptions).
	ChildEvent struct {
		Pid     int
		Control string
		Argv    []string
	}
	// TerminatedEvent: the session is over.
	TerminatedEvent struct{}
)

// ErrRunning is returned for requests that need a stop.
var ErrRunning = errors.New("the program is running; pause it first")

// ErrEmpty is returned for a recording without snapshots.
var ErrEmpty = errors.New("the recording has no snapshots yet")

// Engine is the debugging engine both front ends drive. It is safe for use
// by one front end goroutine plus the live process's goroutines.
type Engine struct {
	mu     sync.Mutex
	events *eventQueue
	out    outputLog

	store  *recording.Store
	cache  map[int64]*wire.Snapshot
	src    map[string]string // recorded sources by sha256
	hist   []Stop
	cur    int
	replay bool
	open   OpenOptions // how the recording was opened (Reload)
	run    int64       // the run a one-run replay shows

	live     *Live
	copy     *launch.Copy // a copy restored from a CRIU image, running (criucopy.go)
	liveStop int          // index of the live stop in hist, -1 while the program runs
	gen      int          // changes whenever the live program moves
	runs     int          // commands that set it running
	started  bool
	entry    *wire.LiveBreakpoint // one-shot entry breakpoint of a resumed process
	ended    bool
	exited   bool
	exitCode int

	lineBPs map[string][]LineBreakpoint
	funcBPs []FuncBreakpoint
	funcQ   map[int][]string
	filters []string

	past     map[string]*pastEval // evaluators of the past, by interpreter
	verified map[int64]bool       // snapshots whose signature was checked (verifyOnce)

	opts   LaunchOptions
	edited bool // Resume from Here continues in edited source (SetAllowEdited)

	// line history (linehistory.go)
	lines        bool
	windows      map[int64]*lineWindow     // by the stop they end at
	virtual      map[int64]*virtualStop    // the stops made from them (negative numbers)
	making       map[int64]chan struct{}   // windows being made in the background, closed when done
	recorded     map[int64]int64           // a virtual stop made a recorded snapshot (recordedStop)
	exact        map[int64]bool            // whether a snapshot resumes exactly, once asked (resumesExactly)
	hitBase      map[string]map[string]int // hitsBefore's answers, by window and breakpoints
	prefetchNext int64                     // the live stop whose window to make next (0: none)
	prefetching  bool
	ahead        map[string]*aheadRun // re-executions started before they are asked for (speculate)
	parked       *parkedRun           // the next re-execution from the latest stop's anchor, ready (park.go)
	parking      sync.WaitGroup       // park calls under way (Close waits for them)
	reexecs      sync.WaitGroup       // re-executions still ending (running)
	nextVirtual  int64
	python       string
	baseDir      string
	env          []string
}

// NewEngine returns an idle engine: open a recording or launch a program.
func NewEngine() *Engine {
	return &Engine{events: newEventQueue(), cache: map[int64]*wire.Snapshot{}, src: map[string]string{}, liveStop: -1,
		windows: map[int64]*lineWindow{}, virtual: map[int64]*virtualStop{}, making: map[int64]chan struct{}{}, recorded: map[int64]int64{},
		exact:   map[int64]bool{},
		lineBPs: map[string][]LineBreakpoint{}, funcQ: map[int][]string{}, opts: LaunchOptions{JustMyCode: true}}
}

// SetAllowEdited makes Resume from Here (and the TUI's r) continue in the
// program's edited source, as pyreplay resume --allow-edited does.
func (d *Engine) SetAllowEdited(on bool) {
	d.mu.Lock()
	d.edited = on
	d.mu.Unlock()
}

// Events delivers the engine's events in order.
func (d *Engine) Events() <-chan any { return d.events.out }

// State reports what the engine is attached to and where the cursor is.
func (d *Engine) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	present := -1
	if d.live != nil && d.liveStop >= 0 {
		present = d.liveStop
	}
	return State{Live: d.live != nil, Running: d.runningLocked() || d.copy != nil, Exited: d.exited, ExitCode: d.exitCode,
		Present: present, Cursor: d.cur, Len: len(d.hist), Runs: d.runs, Restored: d.copy != nil}
}

// History returns the stops, oldest first.
func (d *Engine) History() []Stop {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Stop(nil), d.hist...)
}

// Output is what the live programs have written so far (stdout and stderr
// interleaved, with the engine's messages), bounded.
func (d *Engine) Output() string { return d.out.String() }

// Path is the recording's file ("" before one is open).
func (d *Engine) Path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.store == nil {
		return ""
	}
	return d.store.Path
}

// RunInfo returns a run of the recording.
func (d *Engine) RunInfo(run int64) (*recording.Run, error) {
	d.mu.Lock()
	st := d.store
	d.mu.Unlock()
	if st == nil {
		return nil, errors.New("no recording is open")
	}
	return st.GetRun(run)
}

// RecordingPath is the recording the session reads and writes ("" before
// launch).
func (d *Engine) RecordingPath() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.store == nil {
		return ""
	}
	return d.store.Path
}

// LiveProcess is the live process (nil in a replay or once it ended).
func (d *Engine) LiveProcess() *Live {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live
}
