// Package wire holds the data the Python shim writes and Go reads back: a
// snapshot's summary, its frames, their values, the placeholders of values
// that could not be saved, and the interpreter facts kept with it (the JSON
// of the recording's snapshots table, see recording/schema.sql). It is a
// leaf: the store (recording) decodes into these types, the reconstruction
// (reconstruct) and the debugging engine (session) read them.
package wire

// Summary is one row of `pyreplay ls`.
type Summary struct {
	ID          string  `json:"id"`
	N           int64   `json:"-"`
	Run         int64   `json:"run"`
	Reason      string  `json:"reason"`
	Label       string  `json:"label"`
	File        string  `json:"file"`
	Line        int     `json:"line"`
	Function    string  `json:"function"`
	Time        float64 `json:"time"`
	Python      string  `json:"python"`
	StdoutBytes int64   `json:"stdout_bytes"`
	StderrBytes int64   `json:"stderr_bytes"`
	Size        int64   `json:"size"`
	// the run was os.fork()ed from run ForkOf, in process Pid
	ForkOf *int64 `json:"fork_of,omitempty"`
	Pid    *int64 `json:"pid,omitempty"`
	// Spawned: the run is a Python child process run ForkOf started
	// (subprocess, multiprocessing's spawn), not a fork of it
	Spawned bool `json:"spawned,omitempty"`
}

// Value is the bounded JSON view of one Python value.
type Value struct {
	Name     string  `json:"name,omitempty"`
	Type     string  `json:"type"`
	Repr     string  `json:"repr"`
	Len      *int    `json:"len,omitempty"`
	More     bool    `json:"more,omitempty"`
	Children []Value `json:"children,omitempty"`
}

// Frame is one recorded frame, as written by the shim.
type Frame struct {
	Function    string           `json:"function"`
	Name        string           `json:"name"`
	File        string           `json:"file"`
	CoFilename  string           `json:"co_filename,omitempty"` // the code's own co_filename, when File differs (a relative path before 3.9)
	Line        int              `json:"line"`
	FirstLine   int              `json:"firstline"`
	Library     bool             `json:"library"`
	Kind        string           `json:"kind"` // line | hook | entry | call | exception
	SHA256      string           `json:"sha256,omitempty"`
	Lasti       int              `json:"lasti"`
	Op          string           `json:"op,omitempty"`
	Pos         []*int           `json:"pos,omitempty"` // line, endline, col, endcol (3.11+)
	Primary     *bool            `json:"primary,omitempty"`
	Flags       int              `json:"flags"`
	Generator   bool             `json:"generator"`
	Coroutine   bool             `json:"coroutine"`
	Module      bool             `json:"module"`
	ClassBody   bool             `json:"class_body,omitempty"`
	FromC       bool             `json:"from_c,omitempty"`
	ModuleName  string           `json:"module_name,omitempty"`
	Varnames    []string         `json:"varnames,omitempty"`
	Cellvars    []string         `json:"cellvars,omitempty"`
	Freevars    []string         `json:"freevars,omitempty"`
	NArgs       int              `json:"nargs,omitempty"`
	Callee      string           `json:"callee,omitempty"` // how the next frame was called: function | method | class | other
	GenIndex    int              `json:"generator_index,omitempty"`
	NBases      int              `json:"nbases,omitempty"`
	CallOrdinal *int             `json:"call_ordinal,omitempty"`
	Locals      map[string]Value `json:"locals"`
	Namespace   map[string]Value `json:"namespace,omitempty"` // a class body's names (ClassBody)
	Cells       []string         `json:"cells"`
	Stack       []*Value         `json:"stack"` // nil: unknown; a nil item is an empty slot
	HasStack    bool             `json:"-"`
}

// Placeholder is a value that could not be saved.
type Placeholder struct {
	Where string `json:"where"`
	Type  string `json:"type"`
	Repr  string `json:"repr"`
	Why   string `json:"why,omitempty"`
}

// Meta holds interpreter facts recorded with a snapshot.
type Meta struct {
	Python      string   `json:"python"`
	LayoutError *string  `json:"layout_error"`
	HasExc      bool     `json:"has_exc"`
	Modules     []string `json:"modules"`
	Argv        []string `json:"argv"`
	Threads     []string `json:"threads"`
	// Thread is the name of the thread the snapshot was taken in;
	// ThreadStacks the other threads', as views (no state of theirs is kept)
	Thread           string        `json:"thread,omitempty"`
	ThreadIdent      int64         `json:"thread_ident,omitempty"` // its threading.get_ident()
	MainIdent        int64         `json:"main_ident,omitempty"`   // the main thread's
	Task             string        `json:"task,omitempty"`         // the asyncio task running the stack's coroutines
	ThreadStacks     []ThreadStack `json:"thread_stacks,omitempty"`
	UnstableSets     []string      `json:"unstable_sets"`
	HashSeed         string        `json:"hash_seed"`
	// Executable is the interpreter that recorded the snapshot
	// (sys.executable): signed with the state, so the one resume runs
	Executable       string        `json:"executable,omitempty"`
	HashSeedInjected bool          `json:"hash_seed_injected"`
	Generators       []Frame       `json:"generators"` // suspended generators, rebuilt at their yield
	MainThread       *bool         `json:"main_thread"`
	// sha256 of the source of every program module loaded at the snapshot
	// (stored in sources), whether or not it is on the stack
	ModuleSources map[string]string `json:"module_sources"`
}

// ThreadStack is another thread's stack at a snapshot, outermost first.
type ThreadStack struct {
	Name     string  `json:"name"`
	Ident    int64   `json:"ident"`
	NativeID int64   `json:"native_id"`
	Frames   []Frame `json:"frames"`
}

// Snapshot is a full snapshot without its pickled state.
type Snapshot struct {
	Summary
	Frames       []Frame                     `json:"frames"`
	Globals      map[string]map[string]Value `json:"globals"`
	Placeholders []Placeholder               `json:"placeholders"`
	Meta         Meta                        `json:"meta"`
}
