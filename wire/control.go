package wire

// The live control channel between Go (launch.Control) and the shim
// (pyshim/pyreplay_shim/control.py): JSON lines over a Unix socket. Go
// sends commands {"id": N, "cmd": NAME, ...args}; the shim answers each
// with a Reply and sends events ({"event": NAME, ...}) on its own. The
// names are also in pyshim/pyreplay_shim/wire.py; wire_test.go (e2e)
// decodes every line the shim sends with unknown fields disallowed.

// Commands Go sends.
const (
	CmdStart       = "start"       // StartArgs; reply: {}
	CmdBreakpoints = "breakpoints" // BreakpointsArgs; reply: BreakpointsReply
	CmdEvaluate    = "evaluate"    // EvaluateArgs; reply: EvaluateReply
	CmdChildren    = "children"    // ChildrenArgs; reply: ChildrenReply
	CmdPause       = "pause"       // no args, no reply
	CmdContinue    = "continue"    // run commands: no args; reply: {}
	CmdNext        = "next"
	CmdStepIn      = "stepIn"
	CmdStepOut     = "stepOut"
	CmdKill        = "kill"
	CmdRefresh     = "refresh" // no args; reply: RefreshReply (the stop snapshotted again)
)

// RefreshReply: the stop's new snapshot, taken after an evaluation or an
// assignment may have changed the program's values.
type RefreshReply struct {
	Snap int64 `json:"snap"`
}

// Events the shim sends.
const (
	EventReady   = "ready"   // ReadyEvent
	EventStopped = "stopped" // StoppedEvent
	EventOutput  = "output"  // OutputEvent
	EventChild   = "child"   // ChildEvent
	EventExit    = "exit"    // ExitEvent
)

// Head tells a reply from an event.
type Head struct {
	Reply *int64 `json:"reply"`
	Event string `json:"event"`
}

// Reply answers the command with the same id: Body (a JSON object of the
// command's reply type) when OK, Error otherwise.
type Reply struct {
	Reply int64  `json:"reply"`
	OK    bool   `json:"ok"`
	Body  any    `json:"body,omitempty"`
	Error string `json:"error,omitempty"`
}

// ReadyEvent: the shim connected and waits for CmdStart.
type ReadyEvent struct {
	Event  string `json:"event"`
	Pid    int    `json:"pid"`
	Run    int64  `json:"run"` // the run it records into
	Python string `json:"python"`
}

// ExitEvent: a live child this session attached to ends with Code
// (os._exit in a forked child: its process is not this session's to wait
// for).
type ExitEvent struct {
	Event string `json:"event"`
	Code  int    `json:"code"`
}

// ChildEvent: the program started a Python child that waits, live, for a
// debugger at Control (pyshim children.py).
type ChildEvent struct {
	Event   string   `json:"event"`
	Pid     int      `json:"pid"`
	Control string   `json:"control"` // "unix:PATH"
	Argv    []string `json:"argv"`
}

// StoppedEvent: the program stopped (and took snapshot Snap).
type StoppedEvent struct {
	Event       string         `json:"event"`
	Snap        int64          `json:"snap"`
	Reason      string         `json:"reason"` // breakpoint | function | exception | step | pause | entry
	Label       string         `json:"label"`
	Breakpoints []int          `json:"bps"`
	Exception   *ExceptionInfo `json:"exc"`
	Stdout      int64          `json:"stdout"`
	Stderr      int64          `json:"stderr"`
	// AllStopped: every other thread of the program is held too (3.12+)
	AllStopped bool `json:"all_stopped"`
}

// ExceptionInfo describes the exception of an exception stop.
type ExceptionInfo struct {
	Type      string `json:"type"`
	Message   string `json:"message"`
	Traceback string `json:"traceback"`
	Mode      string `json:"mode"` // always (raised) | unhandled
}

// OutputEvent: text for the debugger's console (log points, the shim's
// own messages).
type OutputEvent struct {
	Event    string `json:"event"`
	Category string `json:"category"` // console | stderr
	Text     string `json:"text"`
}

// LiveBreakpoint is one line or function breakpoint sent to the shim.
type LiveBreakpoint struct {
	ID      int     `json:"id"`
	File    string  `json:"file,omitempty"`
	Line    int     `json:"line,omitempty"`
	Func    string  `json:"func,omitempty"`
	Cond    string  `json:"cond"`
	HitCond string  `json:"hitcond"`
	Log     *string `json:"log,omitempty"`
	OneShot bool    `json:"oneshot,omitempty"`
	Spec    string  `json:"spec,omitempty"` // as the user wrote it, for messages
}

// BreakpointsArgs replaces every breakpoint and exception filter.
type BreakpointsArgs struct {
	Lines      []LiveBreakpoint `json:"lines"`
	Funcs      []LiveBreakpoint `json:"funcs"`
	Exceptions []string         `json:"exceptions"`
	JustMyCode bool             `json:"justMyCode"`
}

// StartArgs: the breakpoints, and whether to stop at the first line.
type StartArgs struct {
	BreakpointsArgs
	StopOnEntry bool `json:"stopOnEntry"`
	// Anchor: a snapshot at the program's first line, not a stop (line
	// history re-executes from it)
	Anchor bool `json:"anchor,omitempty"`
}

// BreakpointsReply: the breakpoints the shim rejected, by id.
type BreakpointsReply struct {
	Errors map[string]string `json:"errors"`
}

// EvaluateArgs evaluates Expr in frame Frame (an index into the stop's
// snapshot frames).
type EvaluateArgs struct {
	Frame   int    `json:"frame"`
	Expr    string `json:"expr"`
	Context string `json:"context"` // repl | watch | hover ...
}

// EvaluateReply: the value, and Ref > 0 naming it for ChildrenArgs.
type EvaluateReply struct {
	Value Value `json:"value"`
	Ref   int   `json:"ref"`
}

// ChildRoot names the value whose children are asked: an evaluation's
// result, a module global, or a local of the frame.
type ChildRoot struct {
	Result int    `json:"result,omitempty"`
	Module string `json:"module,omitempty"`
	Name   string `json:"name,omitempty"`
}

// ChildrenArgs asks for Count children from Start of the value reached
// from Root by Path (child positions).
type ChildrenArgs struct {
	Root  ChildRoot `json:"root"`
	Frame int       `json:"frame"`
	Path  []int     `json:"path"`
	Start int       `json:"start"`
	Count int       `json:"count"`
}

// ChildrenReply: one page of children and their total count.
type ChildrenReply struct {
	Children []Value `json:"children"`
	Len      int     `json:"len"`
}
