package launch

// Warm interpreters for background re-executions (time travel by line):
// a Python started ahead of need with the shim imported (boot.py with
// PYREPLAY_WARM; main.py wait_for_run), blocked reading its stdin until a
// run's configuration arrives, which it then becomes. Starting Python and
// importing the shim is ~70-90 ms of every re-execution; a warm one starts
// running the program within a few milliseconds.
//
// A warm interpreter serves only a quiet run (Process.Quiet: no stdin,
// output discarded, no signals relayed) with the same interpreter and
// environment (the hash seed included) it was started with. One waits per
// such pair; a run that takes it starts the next in the background when it
// ends. An unused one ends after warmIdle, or at Cool.

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/pyshim"
)

const warmIdle = 2 * time.Minute

type warmProc struct {
	cmd   *exec.Cmd
	stdin *os.File   // the write end of its stdin: the run's configuration goes there
	done  chan error // its Wait's result
}

var warm struct {
	sync.Mutex
	idle     map[string]*warmProc
	starting map[string]bool
}

// warmKey: the interpreter and environment a warm interpreter serves.
func warmKey(python string, env []string) string {
	return python + "\x00" + strings.Join(env, "\x00")
}

// Warm starts, in the background, a warm interpreter for quiet runs under
// python of a run recorded with hash seed seed in pyreplay's environment
// (the re-executions of a live session), unless one is there already.
func Warm(python, seed string) {
	env := withHashSeed(&Config{HashSeed: seed}, os.Environ())
	go startWarm(python, env)
}

// Cool ends every waiting warm interpreter.
func Cool() {
	warm.Lock()
	idle := warm.idle
	warm.idle = nil
	warm.Unlock()
	for _, w := range idle {
		w.stdin.Close() // (it ends without running anything)
	}
}

// takeWarm is the warm interpreter waiting for python and env, taken out
// of the pool; nil when there is none.
func takeWarm(python string, env []string) *warmProc {
	warm.Lock()
	defer warm.Unlock()
	k := warmKey(python, env)
	w := warm.idle[k]
	delete(warm.idle, k)
	return w
}

// startWarm starts a warm interpreter and waits for its end, on a thread
// of its own: the parent-death signal that ends it with pyreplay follows
// the thread that started it.
func startWarm(python string, env []string) {
	k := warmKey(python, env)
	warm.Lock()
	if warm.idle[k] != nil || warm.starting[k] {
		warm.Unlock()
		return
	}
	if warm.starting == nil {
		warm.starting = map[string]bool{}
	}
	warm.starting[k] = true
	warm.Unlock()
	started := false
	defer func() {
		if !started {
			warm.Lock()
			delete(warm.starting, k)
			warm.Unlock()
		}
	}()
	boot, err := pyshim.Install()
	if err != nil {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(python, boot)
	cmd.Env = append(append([]string{}, env...), "PYREPLAY_WARM=1")
	cmd.Stdin = r // (stdout and stderr: /dev/null, as a quiet run's)
	inBackground(cmd)
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return
	}
	started = true
	wp := &warmProc{cmd: cmd, stdin: w, done: make(chan error, 1)}
	warm.Lock()
	delete(warm.starting, k)
	if warm.idle == nil {
		warm.idle = map[string]*warmProc{}
	}
	warm.idle[k] = wp
	warm.Unlock()
	expire := time.AfterFunc(warmIdle, func() {
		warm.Lock()
		mine := warm.idle[k] == wp
		if mine {
			delete(warm.idle, k)
		}
		warm.Unlock()
		if mine {
			w.Close()
		}
	})
	wp.done <- cmd.Wait()
	expire.Stop()
	warm.Lock()
	if warm.idle[k] == wp {
		delete(warm.idle, k) // (it ended by itself)
	}
	warm.Unlock()
}

// runWarm runs p in warm interpreter w: p's configuration goes to its
// stdin, which then closes (the program's stdin is empty, as a quiet
// run's).
func (p *Process) runWarm(w *warmProc) (Result, error) {
	req, _ := json.Marshal(map[string]any{"config": p.configPath, "cwd": p.Cmd.Dir, "argv": p.argv})
	_, err := w.stdin.Write(append(req, '\n'))
	w.stdin.Close()
	if err != nil {
		<-w.done
		return Result{}, err
	}
	p.Cmd = w.cmd
	p.checkpoints()
	return p.result(<-w.done)
}
