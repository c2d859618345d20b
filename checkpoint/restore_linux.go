package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pyreplay/pyreplay/internal/scratch"
)

// Restore runs a CRIU image again: it verifies the image's manifest with
// opts.Key (refusing one that does not verify), then restores the process
// tree into a fresh PID and mount namespace, so the restored process gets
// its old PID even while the original (or another restore of the same
// image) runs. The namespace's init is this very binary, re-executed
// (see the init function below): it runs `criu restore -d -S`, becomes the
// restored process's parent, and reports its end. The restored process's
// stdio pipes/sockets are opts.Stdin/Stdout/Stderr; nothing of it outlives
// the caller (the init has PR_SET_PDEATHSIG=SIGKILL, and the restored
// process dies with its namespace's init).
//
// Restore returns once the process runs again (or the restore failed);
// Wait gives how it ended.
func (c *CRIU) Restore(dir string, opts RestoreOptions) (*Restored, error) {
	if err := Verify(dir, opts.Key); err != nil {
		return nil, err
	}
	m, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	// The descriptors to hand in, one per kernel file (2>&1 shares a pipe).
	given := map[string]*os.File{"stdin": opts.Stdin, "stdout": opts.Stdout, "stderr": opts.Stderr}
	for k, f := range opts.Files {
		given[k] = f
	}
	rank := map[string]int{"stdout": 0, "stderr": 1, "stdin": 2}
	order := append([]ExtFile(nil), m.Files...)
	sortStable(order, func(a, b ExtFile) bool { return rankOf(rank, a.Name) < rankOf(rank, b.Name) })
	var devnull *os.File
	defer func() {
		if devnull != nil {
			devnull.Close()
		}
	}()
	var extra []*os.File
	var inherit []string
	var relay *ttyRelay // at most one: the terminal's ID is the same for all
	relayStarted := false
	seen := map[string]bool{}
	for _, f := range order {
		if seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		file := given[f.Name]
		if strings.HasPrefix(f.ID, "tty[") && !isTerminal(file) {
			// CRIU sets the terminal's modes on what it is handed:
			// a pipe or file gets a pseudo-terminal relayed to it.
			in := given["stdin"]
			if isTerminal(in) {
				in = nil
			}
			if relay, err = newTTYRelay(file, in); err != nil {
				return nil, err
			}
			defer func() {
				if relay != nil && !relayStarted {
					relay.abort()
				}
			}()
			file = relay.slave
		}
		if file == nil {
			if devnull == nil {
				if devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return nil, err
				}
			}
			file = devnull
		}
		extra = append(extra, file)
		inherit = append(inherit, fmt.Sprintf("fd[%d]:%s", 3+len(extra), f.ID)) // fd 3 is the status pipe
	}

	logDir, keepLog := opts.LogDir, opts.LogDir != ""
	if logDir == "" {
		if logDir, err = os.MkdirTemp(scratch.Dir(), "pyreplay-criu-restore-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, err
	}
	cfg := initConfig{Criu: c.Path, Args: c.baseArgs(), Dir: dir, WorkDir: logDir, Pid: m.Pid, Inherit: inherit}
	cb, _ := json.Marshal(cfg)

	sr, sw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	// The very binary running, even if it was replaced on disk since.
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"pyreplay-criu-init"}
	cmd.Env = append(os.Environ(), initEnv+"="+string(cb))
	cmd.Stderr = &lockedWriter{w: &stderr}
	cmd.ExtraFiles = append([]*os.File{sw}, extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		sr.Close()
		sw.Close()
		return nil, fmt.Errorf("cannot start the restore (a new PID namespace needs root): %v", err)
	}
	sw.Close()
	r := &Restored{cmd: cmd, status: bufio.NewReader(sr), statusFile: sr, Pid: m.Pid, logDir: logDir, keepLog: keepLog, stderr: &stderr, done: make(chan struct{})}

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	type line struct {
		s   string
		err error
	}
	first := make(chan line, 1)
	go func() {
		s, err := r.status.ReadString('\n')
		first <- line{s, err}
	}()
	var l line
	select {
	case l = <-first:
	case <-time.After(timeout):
		r.Kill()
		r.wait()
		return nil, fmt.Errorf("criu restore of %s took longer than %v", dir, timeout)
	}
	r.Took = time.Since(start)
	if strings.HasPrefix(l.s, "restored ") {
		// The init's one child is the restored program.
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if f := strings.Fields(string(b)); len(f) == 1 {
			r.HostPid, _ = strconv.Atoi(f[0])
		}
		if relay != nil {
			relay.start()
			relayStarted = true
			r.relay = relay
		}
		return r, nil
	}
	r.Kill()
	r.wait()
	msg := strings.TrimSpace(strings.TrimPrefix(l.s, "error "))
	if msg == "" {
		msg = "the restore helper ended: " + strings.TrimSpace(r.stderrText())
	}
	if keepLog {
		msg += " (log: " + filepath.Join(logDir, "restore.log") + ")"
	}
	return nil, fmt.Errorf("criu restore of %s failed: %s", dir, msg)
}

// Restored is a restored program, running.
type Restored struct {
	Pid int // its PID inside its namespace (the dumped process's PID)
	// HostPid is its PID as the caller sees it (0 if it could not be read):
	// what tcsetpgrp or kill from the caller's namespace take. It leads
	// its own process group when the dumped process did (pyreplay starts
	// programs with Setpgid).
	HostPid int
	Took    time.Duration // from Restore's call to the process running again, verification excluded

	cmd        *exec.Cmd
	status     *bufio.Reader
	statusFile *os.File
	logDir     string
	keepLog    bool
	stderr     *bytes.Buffer
	relay      *ttyRelay

	once   sync.Once
	done   chan struct{}
	st     Status
	werr   error
	killMu sync.Mutex
}

// Wait waits for the restored program to end and says how it did. The
// whole namespace (any process it started) is gone when Wait returns.
func (r *Restored) Wait() (Status, error) {
	r.once.Do(func() {
		defer close(r.done)
		s, err := r.status.ReadString('\n')
		r.wait()
		if r.relay != nil {
			r.relay.finish()
		}
		f := strings.Fields(s)
		switch {
		case len(f) == 2 && f[0] == "exit":
			n, _ := strconv.Atoi(f[1])
			r.st = Status{Code: n}
		case len(f) == 2 && f[0] == "signal":
			n, _ := strconv.Atoi(f[1])
			r.st = Status{Signal: syscall.Signal(n)}
		case err != nil && errors.Is(err, io.EOF):
			if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				// The namespace was killed (Kill, or the caller's death):
				// the program died with it.
				r.st = Status{Signal: ws.Signal()}
			} else {
				r.werr = fmt.Errorf("the restored program's namespace ended without its status: %s", strings.TrimSpace(r.stderrText()))
			}
		default:
			r.werr = fmt.Errorf("the restored program's namespace said %q", strings.TrimSpace(s))
		}
		if !r.keepLog {
			os.RemoveAll(r.logDir)
		}
	})
	<-r.done
	return r.st, r.werr
}

// Kill ends the restored program and everything in its namespace.
func (r *Restored) Kill() {
	r.killMu.Lock()
	defer r.killMu.Unlock()
	if r.cmd.Process != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// Signal sends sig to the restored program (through its namespace's init,
// which passes SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 on).
func (r *Restored) Signal(sig syscall.Signal) error {
	if r.cmd.Process == nil {
		return errors.New("not running")
	}
	return r.cmd.Process.Signal(sig)
}

func (r *Restored) wait() {
	_ = r.cmd.Wait()
	r.statusFile.Close()
}

func (r *Restored) stderrText() string {
	return r.cmd.Stderr.(*lockedWriter).String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func rankOf(rank map[string]int, name string) int {
	if r, ok := rank[name]; ok {
		return r
	}
	return 3
}

func sortStable(s []ExtFile, less func(a, b ExtFile) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
