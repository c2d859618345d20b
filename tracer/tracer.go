// Package tracer starts Python programs under the pyreplay shim: interpreter
// discovery, breakpoint specs, the shim's configuration, and the process.
package tracer

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/pyshim"
	"github.com/pyreplay/pyreplay/recording"
)

// Breakpoint is a resolved breakpoint as the shim receives it.
type Breakpoint struct {
	File string `json:"file,omitempty"` // absolute path
	Line int    `json:"line,omitempty"`
	Hit  int    `json:"hit,omitempty"`  // only the K-th hit
	Cond string `json:"cond,omitempty"` // Python expression
	Func string `json:"func,omitempty"` // qualified name
	Spec string `json:"spec"`
}

// Config is what the shim reads (see pyshim/pyreplay_shim/main.py).
type Config struct {
	Mode         string       `json:"mode"` // record | resume
	DB           string       `json:"db"`
	Run          int64        `json:"run"`
	Program      string       `json:"program,omitempty"`
	Module       string       `json:"module,omitempty"`
	Argv         []string     `json:"argv"`
	Breakpoints  []Breakpoint `json:"breakpoints"`
	Every        float64      `json:"every,omitempty"`
	MaxSnapshots int          `json:"max_snapshots,omitempty"`
	Status       string       `json:"status"`
	StdoutStart  int64        `json:"stdout_start,omitempty"`
	StderrStart  int64        `json:"stderr_start,omitempty"`
	Resume       any          `json:"resume,omitempty"`
	Snap         int64        `json:"snap,omitempty"`
	// String hashing is randomised per process; the seed is fixed and
	// recorded so that a resumed process iterates sets in the same order.
	HashSeed         string `json:"hash_seed,omitempty"`
	HashSeedInjected bool   `json:"hash_seed_injected,omitempty"`
	Control          string `json:"control,omitempty"`
	// the user's recording key, hex (internal/trust): the shim signs every
	// snapshot with it and checks it before loading one
	Key string `json:"key"`
	// names whose values the JSON views hide, beyond the built-in secret
	// patterns (view.py DEFAULT_REDACT); NoRedact shows everything
	Redact   []string `json:"redact,omitempty"`
	NoRedact bool     `json:"no_redact,omitempty"`
}

// FindPython resolves the interpreter: the flag, else python3 on PATH.
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

var specRe = regexp.MustCompile(`^(.+):(\d+)(?:@(\d+))?(?:\s+if\s+(.+))?$`)
var funcRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_<][A-Za-z0-9_<>]*)*$`)

// ParseBreakpoint resolves a -b spec: FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR'
// or FUNCTION. Files are looked up relative to the working directory, then
// to baseDir (the program's directory). A line must be one on which python
// reports line events (RunLines); a line it never runs is refused with
// ErrNoCode, naming the nearest lines that run.
func ParseBreakpoint(spec, baseDir, python string) ([]Breakpoint, error) {
	s := strings.TrimSpace(spec)
	if m := specRe.FindStringSubmatch(s); m != nil {
		path, err := findFile(m[1], baseDir)
		if err != nil {
			return nil, fmt.Errorf("breakpoint %q: %v", spec, err)
		}
		line, _ := strconv.Atoi(m[2])
		bp := Breakpoint{File: path, Line: line, Cond: strings.TrimSpace(m[4]), Spec: spec}
		if m[3] != "" {
			bp.Hit, _ = strconv.Atoi(m[3])
			if bp.Hit <= 0 {
				return nil, fmt.Errorf("breakpoint %q: the hit count after @ must be 1 or more", spec)
			}
		}
		lines, err := RunLines(python, path)
		if err != nil {
			return nil, fmt.Errorf("breakpoint %q: %v", spec, err)
		}
		if lines == nil || containsInt(lines, line) {
			return []Breakpoint{bp}, nil // (nil: python cannot judge the file; the run says why)
		}
		hint := ""
		if near := astinfo.Nearest(lines, line); len(near) > 0 {
			hint = fmt.Sprintf(" (nearest lines that run: %s)", joinInts(near))
		}
		what := "has no code CPython runs"
		if src, err := os.ReadFile(path); err == nil {
			f, _ := astinfo.Parse(src)
			if nc := noCodeLines(f)[line]; nc != nil {
				what = "holds " + nc.what + ", which never runs"
			}
		}
		return nil, noCodeError(fmt.Sprintf("breakpoint %q: line %d of %s %s%s", spec, line, m[1], what, hint))
	}
	if strings.Contains(s, ":") || !funcRe.MatchString(s) {
		return nil, fmt.Errorf("breakpoint %q is not FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or a function name", spec)
	}
	quals := findFunction(s, baseDir)
	if len(quals) == 0 {
		return nil, fmt.Errorf("breakpoint %q: no function %s is defined in the program's directory %s", spec, s, baseDir)
	}
	var out []Breakpoint
	for _, q := range quals {
		out = append(out, Breakpoint{Func: q, Spec: spec})
	}
	return out, nil
}

// ErrNoCode marks the refusal of a breakpoint on a line CPython never runs.
var ErrNoCode = errors.New("no code")

type noCodeError string

func (e noCodeError) Error() string        { return string(e) }
func (e noCodeError) Is(target error) bool { return target == ErrNoCode }

// noCode says what a statement line holds that compiles to no bytecode.
type noCode struct{ what string }

// noCodeLines names what the statement lines that compile to nothing hold
// (global and nonlocal declarations, functions' docstrings), for the
// message refusing a breakpoint there; CPython's line tables decide.
func noCodeLines(f *astinfo.File) map[int]*noCode {
	out := map[int]*noCode{}
	if f == nil || f.Root == nil {
		return out
	}
	docs := map[uint32]bool{}
	for _, s := range f.Scopes() {
		if s.IsModule() {
			continue
		}
		if st := astinfo.Statements(s.Body()); len(st) > 0 && isDocstring(st[0]) {
			docs[st[0].StartByte()] = true
		}
	}
	code := map[int]bool{}
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if astinfo.IsStatement(n) {
			l := astinfo.Line(n)
			switch {
			case n.Type() == "global_statement" || n.Type() == "nonlocal_statement":
				if out[l] == nil {
					out[l] = &noCode{"a " + strings.TrimSuffix(n.Type(), "_statement") + " declaration"}
				}
			case docs[n.StartByte()] && n.Type() == "expression_statement":
				out[l] = &noCode{"a function's docstring"}
			default:
				code[l] = true
			}
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i))
		}
	}
	walk(f.Root)
	for l := range code {
		delete(out, l)
	}
	return out
}

func isDocstring(n *sitter.Node) bool {
	if n.Type() != "expression_statement" || n.NamedChildCount() != 1 {
		return false
	}
	s := n.NamedChild(0)
	if s.Type() != "string" {
		return false
	}
	for i := 0; i < int(s.NamedChildCount()); i++ {
		if s.NamedChild(i).Type() == "interpolation" {
			return false
		}
	}
	return true
}

func containsInt(xs []int, x int) bool {
	i := sort.SearchInts(xs, x)
	return i < len(xs) && xs[i] == x
}

func joinInts(xs []int) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, strconv.Itoa(x))
	}
	return strings.Join(parts, ", ")
}

func findFile(name, baseDir string) (string, error) {
	cands := []string{name}
	if !filepath.IsAbs(name) && baseDir != "" {
		cands = append(cands, filepath.Join(baseDir, name))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("file %s does not exist", name)
}

func findFunction(q, baseDir string) []string {
	seen := map[string]bool{}
	var out []string
	n := 0
	_ = filepath.WalkDir(baseDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			b := d.Name()
			if p != baseDir && (strings.HasPrefix(b, ".") || b == "__pycache__" || b == "node_modules" || b == "venv" || b == "site-packages") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".py") {
			return nil
		}
		n++
		if n > 2000 {
			return filepath.SkipAll
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		f, _ := astinfo.Parse(src)
		for _, s := range f.FunctionByName(q) {
			if !seen[s.Qualname] {
				seen[s.Qualname] = true
				out = append(out, s.Qualname)
			}
		}
		return nil
	})
	return out
}

// Process is a running program under the shim.
type Process struct {
	Cmd        *exec.Cmd
	configPath string
	statusPath string
	db         string
	stopCkpt   func()
}

// checkpoints starts copying the recording's write-ahead log into it while
// the program runs (recording.Checkpointer); Cleanup stops it.
func (p *Process) checkpoints() {
	if p.db != "" && p.stopCkpt == nil {
		p.stopCkpt = recording.Checkpointer(p.db, 250*time.Millisecond)
	}
}

// Prepare builds the command that runs python with the shim and cfg. Stdio is the caller's unless
// set on the returned command before Run.
func Prepare(python string, cfg Config, env []string) (*Process, error) {
	boot, err := pyshim.Install()
	if err != nil {
		return nil, fmt.Errorf("cannot install the pyreplay shim: %v", err)
	}
	dir := filepath.Dir(boot)
	cf, err := os.CreateTemp(filepath.Dir(dir), "run-*.json")
	if err != nil {
		return nil, err
	}
	cfg.Status = cf.Name() + ".status"
	key, err := trust.UserKey()
	if err != nil {
		cf.Close()
		os.Remove(cf.Name())
		return nil, err
	}
	cfg.Key = hex.EncodeToString(key)
	env = withHashSeed(&cfg, env)
	if cfg.Breakpoints == nil {
		cfg.Breakpoints = []Breakpoint{}
	}
	proc := &Process{configPath: cf.Name(), statusPath: cfg.Status, db: cfg.DB}
	if err := json.NewEncoder(cf).Encode(cfg); err != nil {
		cf.Close()
		proc.Cleanup()
		return nil, err
	}
	cf.Close()
	// the arguments also go on the command line: Python decodes them
	// there exactly as for `python PROG ARGS` (see main.py)
	cmd := exec.Command(python, append([]string{boot}, cfg.Argv...)...)
	cmd.Env = append(append([]string{}, env...), "PYREPLAY_CONFIG="+cf.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	proc.Cmd = cmd
	return proc, nil
}

// Result is how a program ended.
type Result struct {
	ExitCode int
	Signal   syscall.Signal // non-zero when killed by a signal
	ShimErr  string         // a problem the shim reported (bad breakpoint, syntax error, ...)
}

// Status is how the run ended as the recording keeps it (runs.exit_code):
// the exit code, or -N when signal N killed the program.
func (r Result) Status() int {
	if r.Signal != 0 {
		return -int(r.Signal)
	}
	return r.ExitCode
}

// Run runs the process to its end. It never outlives pyreplay: it gets
// SIGKILL when pyreplay dies (a parent-death signal, which follows the
// thread that started it: that thread stays locked to this goroutine until
// the end), and SIGTERM, SIGHUP and SIGINT sent to pyreplay are relayed to
// it. With a controlling terminal it shares pyreplay's process group, so
// that Ctrl-C and job control reach it as they would without pyreplay;
// without one it has a group of its own, so that a signal sent to
// pyreplay's group reaches it once, relayed. SIGQUIT (Ctrl-\ from the
// terminal) is the program's alone: pyreplay ignores it.
func (p *Process) Run() (Result, error) {
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	defer signal.Stop(quit)
	defer p.Cleanup()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if p.Cmd.SysProcAttr == nil {
		p.Cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setParentDeathSignal(p.Cmd.SysProcAttr)
	sameGroup := hasControllingTerminal()
	p.Cmd.SysProcAttr.Setpgid = !sameGroup
	if err := p.Cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("cannot run %s: %v", p.Cmd.Path, err)
	}
	p.checkpoints()
	rl := startRelay([]syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT}, p.Cmd.Process.Pid, sameGroup)
	err := p.Cmd.Wait()
	rl.stop()
	res := Result{ShimErr: p.ShimError()}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.Signal = ws.Signal()
				res.ExitCode = 128 + int(ws.Signal())
				return res, nil
			}
			res.ExitCode = ee.ExitCode()
			return res, nil
		}
		return res, fmt.Errorf("cannot run %s: %v", p.Cmd.Path, err)
	}
	return res, nil
}

// withHashSeed fixes PYTHONHASHSEED for the child: the user's own value, the
// recorded one for a resume, or a fresh random one (which the shim removes
// from os.environ again, so the program sees the environment it would have).
func withHashSeed(cfg *Config, env []string) []string {
	user := ""
	for _, kv := range env {
		if strings.HasPrefix(kv, "PYTHONHASHSEED=") {
			user = strings.TrimPrefix(kv, "PYTHONHASHSEED=")
		}
	}
	if cfg.HashSeed == "" {
		if user != "" && user != "random" {
			cfg.HashSeed = user
			return env
		}
		var b [4]byte
		_, _ = crand.Read(b[:])
		n := uint64(binary.LittleEndian.Uint32(b[:]))%4294967295 + 1
		cfg.HashSeed = strconv.FormatUint(n, 10)
		cfg.HashSeedInjected = true
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PYTHONHASHSEED=") {
			out = append(out, kv)
		}
	}
	return append(out, "PYTHONHASHSEED="+cfg.HashSeed)
}
