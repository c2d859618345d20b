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
// environment (the hash seed included) it was started with. warmPool wait
// per such pair; a run that takes one starts the next in the background
// when it ends. An unused one ends after warmIdle, or at Cool.

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

// warmPool: the warm interpreters kept per interpreter and environment.
// Two: a run that follows another closely (a Reverse Continue sent right
// after a Step Back's re-execution) finds one whose imports are done; the
// one started when the first ended would make it wait 50-90 ms for them.
const warmPool = 2

type warmProc struct {
	cmd   *exec.Cmd
	stdin *os.File   // the write end of its stdin: the run's configuration goes there
	done  chan error // its Wait's result
}

var warm struct {
	sync.Mutex
	idle     map[string][]*warmProc // oldest first
	starting map[string]int
	cooled   int // Cool's calls: a refill asked for before one is not made
}

// refillAfter: a quiet run that took a warm interpreter has the pool
// refilled this long after it ends, not at once. A Python start is 30-50
// ms of CPU, and what often comes next is the re-execution the user asked
// for (a Reverse Continue sent right after the Step Backs that re-executed
// the stop's stretch) with its trailing copy on the other CPU: a refill
// beside them made a Reverse Continue at once 25-50 ms slower (3.8-3.13,
// alternating runs: 3.9 119 ms median against 69, 3.11 104 against 75).
const refillAfter = 500 * time.Millisecond

// refill starts a warm interpreter for python and env refillAfter from
// now, unless Cool is called meanwhile.
func refill(python string, env []string) {
	warm.Lock()
	gen := warm.cooled
	warm.Unlock()
	time.AfterFunc(refillAfter, func() {
		warm.Lock()
		cooled := warm.cooled != gen
		warm.Unlock()
		if !cooled {
			startWarm(python, env)
		}
	})
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
	for i := 0; i < warmPool; i++ {
		go startWarm(python, env)
	}
}

// Cool ends every waiting warm interpreter.
func Cool() {
	warm.Lock()
	idle := warm.idle
	warm.idle = nil
	warm.cooled++
	warm.Unlock()
	for _, ws := range idle {
		for _, w := range ws {
			w.stdin.Close() // (it ends without running anything)
		}
	}
}

// takeWarm is the oldest warm interpreter waiting for python and env
// (the likeliest to have its imports done), taken out of the pool; nil
// when there is none.
func takeWarm(python string, env []string) *warmProc {
	warm.Lock()
	defer warm.Unlock()
	k := warmKey(python, env)
	ws := warm.idle[k]
	if len(ws) == 0 {
		return nil
	}
	warm.idle[k] = ws[1:]
	return ws[0]
}

// dropIdle takes wp out of the pool; false when it was not there (taken).
// Called with warm held.
func dropIdle(k string, wp *warmProc) bool {
	ws := warm.idle[k]
	for i, w := range ws {
		if w == wp {
			warm.idle[k] = append(ws[:i:i], ws[i+1:]...)
			return true
		}
	}
	return false
}

// startWarm starts a warm interpreter and waits for its end, on a thread
// of its own: the parent-death signal that ends it with pyreplay follows
// the thread that started it.
func startWarm(python string, env []string) {
	k := warmKey(python, env)
	warm.Lock()
	if len(warm.idle[k])+warm.starting[k] >= warmPool {
		warm.Unlock()
		return
	}
	if warm.starting == nil {
		warm.starting = map[string]int{}
	}
	warm.starting[k]++
	warm.Unlock()
	started := false
	defer func() {
		if !started {
			warm.Lock()
			warm.starting[k]--
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
	warm.starting[k]--
	if warm.idle == nil {
		warm.idle = map[string][]*warmProc{}
	}
	warm.idle[k] = append(warm.idle[k], wp)
	warm.Unlock()
	expire := time.AfterFunc(warmIdle, func() {
		warm.Lock()
		mine := dropIdle(k, wp)
		warm.Unlock()
		if mine {
			w.Close()
		}
	})
	wp.done <- cmd.Wait()
	expire.Stop()
	warm.Lock()
	dropIdle(k, wp) // (it ended by itself)
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
