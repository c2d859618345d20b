package launch

// The one config builder: every run pyreplay starts (pyreplay record,
// pyreplay resume, a DAP launch, the TUI's live mode and its resume) is
// built here: the interpreter, the working directory, the program or
// module, the breakpoints, and the run written to the recording.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pyreplay/pyreplay/internal/pyenv"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// Target is what a run runs: a script (a .py file, or a directory with a
// __main__.py, as `python PATH`) or a module (`python -m MODULE`). Exactly
// one of the two is set.
type Target struct {
	Script string
	Module string
}

// modulePrefix marks a module run in the recording's runs.program column.
const modulePrefix = "-m "

// ParseTarget reads the recorded form of a target (runs.program).
func ParseTarget(program string) Target {
	if strings.HasPrefix(program, modulePrefix) {
		return Target{Module: strings.TrimPrefix(program, modulePrefix)}
	}
	return Target{Script: program}
}

// String is the recorded form of the target (runs.program): the script's
// path as given, or "-m MODULE".
func (t Target) String() string {
	if t.Module != "" {
		return modulePrefix + t.Module
	}
	return t.Script
}

// IsModule says the target is run as `python -m`.
func (t Target) IsModule() bool { return t.Module != "" }

// ErrNoProgram marks a script that does not exist (the callers add where
// to fix it).
var ErrNoProgram = errors.New("no such program")

type noProgram string

func (e noProgram) Error() string        { return string(e) }
func (e noProgram) Is(target error) bool { return target == ErrNoProgram }

// mainFile is the file a script target runs: the script, or DIR/__main__.py
// for a directory (resolved against cwd; the script as given otherwise).
func (t Target) mainFile(cwd string) (string, error) {
	path := t.Script
	if !filepath.IsAbs(path) {
		path = filepath.Join(cwd, path)
	}
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		// like `python DIR`: DIR/__main__.py runs, with DIR first on sys.path
		path = filepath.Join(path, "__main__.py")
		if st, err = os.Stat(path); err != nil {
			return "", fmt.Errorf("program %s is a directory without a __main__.py", t.Script)
		}
	}
	if err != nil || st.IsDir() {
		return "", noProgram(fmt.Sprintf("program %s does not exist", t.Script))
	}
	return path, nil
}

// Options are the caller's choices for a run. A new recording run needs
// Target; a resume needs Store and Snap (the target, arguments, working
// directory and interpreter then default to the recorded run's).
type Options struct {
	Python string // interpreter (default: a resume's recorded one, else python3 on PATH)
	Target Target
	Args   []string // the program's arguments after the script or module
	Cwd    string   // working directory (default: the caller's)
	// DB is the recording to create or add to when Store is nil (default:
	// recording.DefaultPath); relative to Cwd when that is given.
	DB    string
	Store *recording.Store

	Breakpoints []string // -b specs (ParseBreakpoint)
	Every       float64  // periodic checkpoints, seconds
	// EveryBudget, when set, is the largest share of the run periodic
	// checkpoints may pause it for: the interval grows to match their cost
	EveryBudget  float64
	MaxSnapshots int
	// ThinSnapshots, with MaxSnapshots: periodic snapshots beyond the
	// newest MaxSnapshots are thinned by these tiers (time travel's
	// anchors: dense near now; UseAnchors)
	ThinSnapshots []Tier
	// HistorySize bounds the periodic snapshots' stored state in all
	// (bytes; the newest is kept); HistoryBound: they are time travel's
	// anchors, and once the oldest goes, the snapshot at the program's
	// first line (an "entry" anchor) goes too (UseAnchors)
	HistorySize  int64
	HistoryBound bool
	// HistorySpan, with HistoryBound: periodic snapshots taken more than
	// this long before the newest go (seconds; UseAnchors: however many
	// the dense and thin tiers would keep, the budget may space anchors
	// wider than their interval)
	HistorySpan float64
	Redact      []string
	NoRedact    bool

	// resume
	Snap        int64 // resume this snapshot of Store as a new run (its parent)
	AllowEdited bool  // resume even if a source file changed since recording
	// History, for a resume, re-executes up to a later stop and writes the
	// line events on the way (pyshim linehistory.py; session/linehistory.go)
	History *HistorySpec
	// Trace (record --trace) snapshots the program at its first line and
	// takes time travel's anchors along its run (UseAnchors, bounded by
	// TraceHistory): a recording that line history can re-execute from
	// (session/linehistory.go)
	Trace        bool
	TraceHistory History
	Trust        bool // sign the whole recording with the user's key first (`--trust`)
}

// Prepared is a run written to the recording and ready to start with
// Prepare(p.Python, p.Config, env) in p.Dir.
type Prepared struct {
	Config  Config
	Python  string
	Dir     string // the working directory
	BaseDir string // where breakpoint files and functions are looked up: the program's directory
	Target  Target
	// Store holds the new run. Build opened it when Options.Store was nil;
	// the caller closes it then.
	Store *recording.Store
	// a resume's reconstruction
	Plan *reconstruct.Plan
	Snap *wire.Snapshot
	// Edits are the files a resume continues in edited (AllowEdited)
	Edits []FileEdit
}

// Build resolves o into a run: finds Python, resolves the program or
// module and the breakpoints (a bad one fails before anything is written),
// and writes the run to the recording.
func Build(o Options) (*Prepared, error) {
	if o.Snap > 0 {
		return buildResume(o)
	}
	if o.Target.Script == "" && o.Target.Module == "" {
		return nil, errors.New("nothing to run: give a program or a module")
	}
	python, err := FindPython(o.Python)
	if err != nil {
		return nil, err
	}
	cwd := o.Cwd
	if cwd == "" {
		cwd, _ = os.Getwd()
	}
	if st, err := os.Stat(cwd); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the working directory %s does not exist", cwd)
	}
	if o.Trace {
		o.UseAnchors(Minor(python), o.TraceHistory)
	}
	cfg := Config{Mode: "record", Every: o.Every, EveryBudget: o.EveryBudget, MaxSnapshots: o.MaxSnapshots, ThinSnapshots: o.ThinSnapshots,
		HistorySize: o.HistorySize, HistoryBound: o.HistoryBound, HistorySpan: o.HistorySpan, Redact: o.Redact, NoRedact: o.NoRedact}
	baseDir := cwd
	if o.Target.IsModule() {
		cfg.Module = o.Target.Module
		cfg.Argv = append([]string{"-m"}, o.Args...)
	} else {
		main, err := o.Target.mainFile(cwd)
		if err != nil {
			return nil, err
		}
		cfg.Program = o.Target.Script
		cfg.Argv = append([]string{o.Target.Script}, o.Args...)
		baseDir = filepath.Dir(main)
	}
	p := &Prepared{Python: python, Dir: cwd, BaseDir: baseDir, Target: o.Target}
	if err := p.create(o, nil, cfg); err != nil {
		return nil, err
	}
	if o.Trace {
		if err := p.traceAnchor(cwd); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// traceAnchor adds a snapshot at the program's first line (record --trace),
// an "entry" anchor as a live session's: the first line on which Python
// reports a line event is a statement of the module's own (a function's
// lines follow its def line).
func (p *Prepared) traceAnchor(cwd string) error {
	if p.Target.IsModule() {
		return errors.New("--trace needs a program file (not -m MODULE) for now")
	}
	main, err := p.Target.mainFile(cwd)
	if err != nil {
		return err
	}
	lines, err := RunLines(p.Python, main)
	if err != nil || len(lines) == 0 {
		return fmt.Errorf("--trace: cannot find the first line %s runs", filepath.Base(main))
	}
	p.Config.Breakpoints = append(p.Config.Breakpoints, Breakpoint{File: main, Line: lines[0], Hit: 1, Anchor: true,
		Spec: fmt.Sprintf("%s:%d@1 (--trace: the program's first line)", filepath.Base(main), lines[0])})
	return nil
}

// create resolves the breakpoint specs against p.BaseDir, opens the
// recording unless o gives one, and writes the run (parent: the snapshot a
// resume starts from) into it.
func (p *Prepared) create(o Options, parent *int64, cfg Config) error {
	bps, err := ResolveBreakpoints(o.Breakpoints, p.BaseDir, p.Python)
	if err != nil {
		return err
	}
	cfg.Breakpoints = bps
	store := o.Store
	if store == nil {
		db := o.DB
		if db == "" {
			db = recording.DefaultPath
		}
		if !filepath.IsAbs(db) && o.Cwd != "" {
			db = filepath.Join(o.Cwd, db)
		}
		if store, err = recording.Create(db); err != nil {
			return err
		}
	}
	run, err := store.NewRun(parent, p.Target.String(), cfg.Argv, p.Dir, p.Python)
	if err != nil {
		if o.Store == nil {
			store.Close()
		}
		return fmt.Errorf("cannot write to %s: %v", store.Path, err)
	}
	abs, _ := filepath.Abs(store.Path)
	cfg.DB = abs
	cfg.Run = run
	p.Config, p.Store = cfg, store
	return nil
}

// ResolveBreakpoints resolves -b specs (ParseBreakpoint) in order; each
// breakpoint's Index is its spec's place in specs.
func ResolveBreakpoints(specs []string, baseDir, python string) ([]Breakpoint, error) {
	var out []Breakpoint
	for i, spec := range specs {
		bps, err := ParseBreakpoint(spec, baseDir, python)
		if err != nil {
			return nil, err
		}
		for _, b := range bps {
			b.Index = i
			out = append(out, b)
		}
	}
	return out, nil
}

// FindPython resolves the interpreter: the flag, else python3 on PATH.
// Minor is python's minor version (12 for 3.12), asked once per path
// (-I -S: ~10 ms); 0 when it cannot say.
func Minor(python string) int {
	if v, ok := minors.Load(python); ok {
		return v.(int)
	}
	out, err := exec.Command(python, "-I", "-S", "-c", "import sys; print(sys.version_info[1])").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if err == nil {
		minors.Store(python, n)
	}
	return n
}

var minors sync.Map

// SnapshotPython is the interpreter that resumes, re-executes or
// evaluates in snap: the one given (--python, "python"), else the one that
// recorded it, named in its signed metadata (check the snapshot with
// Store.Verify first) — never the runs table's path, which no signature
// covers and an edited recording could point at any program — else,
// for a snapshot recorded before its metadata named it, the newest
// installed CPython of its version, else python3.
func SnapshotPython(given string, snap *wire.Snapshot) (string, error) {
	if given == "" && snap != nil {
		if exe := snap.Meta.Executable; exe != "" {
			if _, err := os.Stat(exe); err == nil {
				given = exe
			}
		} else if v := reconstruct.ParseVersion(snap.Python); v.Major == 3 {
			if py, ok := pyenv.Discover()[fmt.Sprintf("3.%d", v.Minor)]; ok {
				given = py.Path
			}
		}
	}
	return FindPython(given)
}

// FindPython is the absolute path of the interpreter flag names (a path or
// a name on PATH; python3 when empty), or a one-line error saying what to do.
func FindPython(flag string) (string, error) {
	name := flag
	if name == "" {
		name = "python3"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if st, serr := os.Stat(name); serr == nil && strings.ContainsRune(name, os.PathSeparator) {
			what := "is not executable"
			if st.IsDir() {
				what = "is a directory"
			}
			return "", fmt.Errorf("no usable Python: %s %s; pass --python with the path of a Python 3.8-3.13 interpreter", flag, what)
		}
		if flag == "" {
			return "", errors.New("no usable Python: python3 is not on PATH; install it or pass --python /path/to/python3")
		}
		return "", fmt.Errorf("no usable Python: %s not found; pass --python with the path of a Python 3.8-3.13 interpreter", flag)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p, nil
}
