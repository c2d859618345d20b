// Package launch starts Python programs under the pyreplay shim: one
// builder (Build) for every run pyreplay starts, which finds the
// interpreter, resolves the program or module and the breakpoint specs and
// writes the run to the recording; the shim's configuration; and the
// process, its signals and its control channel.
package launch

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
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/pyshim"
	"github.com/pyreplay/pyreplay/recording"
)

// Config is what the shim reads (see pyshim/pyreplay_shim/main.py).
type Config struct {
	Mode          string        `json:"mode"` // record | resume
	DB            string        `json:"db"`
	Run           int64         `json:"run"`
	Program       string        `json:"program,omitempty"`
	Module        string        `json:"module,omitempty"`
	Argv          []string      `json:"argv"`
	Breakpoints   []Breakpoint  `json:"breakpoints"`
	Every         float64       `json:"every,omitempty"`
	EveryBudget   float64       `json:"every_budget,omitempty"` // Options.EveryBudget
	MaxSnapshots  int           `json:"max_snapshots,omitempty"`
	ThinSnapshots []Tier        `json:"thin_snapshots,omitempty"` // Options.ThinSnapshots
	HistorySize   int64         `json:"history_size,omitempty"`   // Options.HistorySize
	HistoryBound  bool          `json:"history_bound,omitempty"`  // Options.HistoryBound
	HistorySpan   float64       `json:"history_span,omitempty"`   // Options.HistorySpan
	Status        string        `json:"status"`
	StdoutStart   int64         `json:"stdout_start,omitempty"`
	StderrStart   int64         `json:"stderr_start,omitempty"`
	Resume        *ResumeConfig `json:"resume,omitempty"`
	Snap          int64         `json:"snap,omitempty"`
	// String hashing is randomised per process; the seed is fixed and
	// recorded so that a resumed process iterates sets in the same order.
	HashSeed         string `json:"hash_seed,omitempty"`
	HashSeedInjected bool   `json:"hash_seed_injected,omitempty"`
	Control          string `json:"control,omitempty"`
	// pyreplay's scratch directory (internal/scratch), where the shim
	// makes its temporary files and directories; set by Prepare
	Scratch string `json:"scratch,omitempty"`
	// ChildSessions: the program's Python children are live too, each
	// waiting for a child debug session to attach (pyshim children.py);
	// SubProcessOff: they run as without pyreplay ("subProcess": false)
	ChildSessions bool `json:"child_sessions,omitempty"`
	SubProcessOff bool `json:"sub_process_off,omitempty"`
	// the descriptor of the CRIU channel (record --criu; criu.go), 0: none
	CriuFd int `json:"criu_fd,omitempty"`
	// Criu, when set, makes Prepare give the shim a CRIU channel
	Criu *Criu `json:"-"`
	// the user's recording key, hex (internal/trust): the shim signs every
	// snapshot with it and checks it before loading one
	Key string `json:"key"`
	// names whose values the JSON views hide, beyond the built-in secret
	// patterns (view.py DEFAULT_REDACT); NoRedact shows everything
	Redact   []string `json:"redact,omitempty"`
	NoRedact bool     `json:"no_redact,omitempty"`
}

// Process is a running program under the shim.
type Process struct {
	Cmd        *exec.Cmd
	configPath string
	statusPath string
	db         string
	stopCkpt   func()
	criu       *Criu
	criuChild  *os.File // the shim's end of the CRIU channel, until it started
	criuConn   *os.File // pyreplay's end
	// Quiet: a background run (a re-execution): no stdin, its output
	// discarded, a process group of its own and no signals relayed (it
	// ends with pyreplay); it runs in a warm interpreter when one waits
	// (warm.go)
	Quiet  bool
	python string
	env    []string // Cmd.Env without the configuration's path
	argv   []string
	seed   string // its PYTHONHASHSEED
}

// WarmReexecutions starts a warm interpreter (warm.go) for the quiet
// re-executions of p's run.
func (p *Process) WarmReexecutions() { Warm(p.python, p.seed) }

// checkpoints starts copying the recording's write-ahead log into it while
// the program runs (recording.Checkpointer); Cleanup stops it.
// serveCriu answers the started shim's CRIU requests (Config.Criu).
func (p *Process) serveCriu() {
	if p.criuChild == nil {
		return
	}
	p.criuChild.Close()
	p.criuChild = nil
	conn := p.criuConn
	p.criuConn = nil
	go p.criu.serve(conn, p.Cmd.Process.Pid, p.db)
}

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
	cfg.Scratch = scratch.Dir()
	tmp := cfg.Scratch
	if tmp == "" {
		tmp = filepath.Dir(filepath.Dir(boot)) // the shim's private base
	}
	cf, err := os.CreateTemp(tmp, "run-*.json")
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
	proc := &Process{configPath: cf.Name(), statusPath: cfg.Status, db: cfg.DB, python: python, env: env, argv: cfg.Argv, seed: cfg.HashSeed}
	if cfg.Criu != nil {
		child, parent, err := criuChannel()
		if err != nil {
			cf.Close()
			proc.Cleanup()
			return nil, err
		}
		proc.criu, proc.criuChild, proc.criuConn = cfg.Criu, child, parent
		cfg.CriuFd = 3 // ExtraFiles[0]
	}
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
	if proc.criuChild != nil {
		cmd.ExtraFiles = []*os.File{proc.criuChild}
	}
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
	if p.Quiet {
		return p.runQuiet()
	}
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
	p.serveCriu()
	rl := startRelay([]syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT}, p.Cmd.Process.Pid, sameGroup)
	err := p.Cmd.Wait()
	rl.stop()
	return p.result(err)
}

// runQuiet runs a quiet process (Process.Quiet): in the warm interpreter
// waiting for it if there is one, else started now; either way the next
// one is made ready after it ends (refill).
func (p *Process) runQuiet() (Result, error) {
	defer p.Cleanup()
	defer refill(p.python, p.env)
	if w := takeWarm(p.python, p.env); w != nil {
		return p.runWarm(w)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p.Cmd.Stdin, p.Cmd.Stdout, p.Cmd.Stderr = nil, nil, nil
	inBackground(p.Cmd)
	if err := p.Cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("cannot run %s: %v", p.Cmd.Path, err)
	}
	p.checkpoints()
	return p.result(p.Cmd.Wait())
}

// inBackground makes cmd a background process: a process group of its
// own (no signal from the terminal reaches it), killed when pyreplay dies
// (the parent-death signal follows the thread that starts it: the caller
// keeps that thread locked until the process ends).
func inBackground(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setParentDeathSignal(cmd.SysProcAttr)
	cmd.SysProcAttr.Setpgid = true
}

// result is how the process ended, from its Wait's error.
func (p *Process) result(err error) (Result, error) {
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
