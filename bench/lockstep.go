package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pinning runs a group's programs on one CPU (taskset), when it exists.
var pinning = func() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}()

// A member is one program of a lockstep group: started once, it runs one
// timed turn of its work each time it is told to (bench/workloads/_harness.py
// speaks the other side over two FIFOs).
type member struct {
	key      string
	goF      *os.File // the bench writes "g" (a turn) or "q" (stop)
	doneF    *os.File // the program answers "ready", "WALL CPU" per turn, "end"
	lines    chan string
	exited   chan error // receives once, when the process (or adapter) ends
	stderr   bytes.Buffer
	cmd      *exec.Cmd
	started  time.Time
	startup  float64   // seconds from starting the process to "ready"
	cpu      []float64 // per turn, the fastest of its runs of the work
	wall     []float64
	cpuSum   []float64 // per turn, all its runs
	wallSum  []float64
	finished bool
	session  *dapClient // a program launched by pyreplay dap (timetravel.go), through this adapter (cmd nil)
	db       string     // its recording
}

func newMember(dir, key string) (*member, error) {
	m := &member{key: key, lines: make(chan string, 64), exited: make(chan error, 1)}
	goPath, donePath := filepath.Join(dir, key+".go"), filepath.Join(dir, key+".done")
	for _, p := range []string{goPath, donePath} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			return nil, err
		}
	}
	var err error
	// read-write opens of a FIFO do not wait for the other end
	if m.goF, err = os.OpenFile(goPath, os.O_RDWR, 0); err != nil {
		return nil, err
	}
	if m.doneF, err = os.OpenFile(donePath, os.O_RDWR, 0); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(m.doneF)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		close(m.lines)
	}()
	return m, nil
}

func (m *member) env() []string {
	return []string{"BENCH_GO=" + m.goF.Name(), "BENCH_DONE=" + m.doneF.Name()}
}

// start runs name args (pinned to cpu when >= 0) as this member.
func (m *member) start(dir string, cpu int, env []string, name string, args ...string) error {
	if cpu >= 0 && pinning {
		args = append([]string{"-c", strconv.Itoa(cpu), name}, args...)
		name = "taskset"
	}
	m.cmd = exec.Command(name, args...)
	m.cmd.Dir = dir
	m.cmd.Env = append(append(cleanEnv(), m.env()...), env...)
	m.cmd.Stderr = &m.stderr
	m.started = time.Now()
	if err := m.cmd.Start(); err != nil {
		return err
	}
	live.Store(m, m.cmd.Process)
	go func() {
		err := m.cmd.Wait()
		live.Delete(m)
		m.exited <- err
	}()
	return nil
}

// live are the processes the bench started and that are still running:
// killed when the bench is interrupted.
var live sync.Map

func init() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		live.Range(func(_, p any) bool {
			p.(*os.Process).Kill()
			return true
		})
		logf("interrupted (%v)", s)
		os.Exit(2)
	}()
}

// line waits for the program's next line.
func (m *member) line(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-m.lines:
		if !ok {
			return "", fmt.Errorf("%s: its pipe closed", m.key)
		}
		return l, nil
	case err := <-m.exited:
		m.exited <- err
		// a line written just before the end
		select {
		case l, ok := <-m.lines:
			if ok {
				return l, nil
			}
		case <-time.After(100 * time.Millisecond):
		}
		return "", fmt.Errorf("%s ended (%v)\n%s", m.key, err, tail(m.stderr.String(), 1200))
	case <-t.C:
		return "", fmt.Errorf("%s: nothing within %s\n%s", m.key, timeout, tail(m.stderr.String(), 1200))
	}
}

func (m *member) ready(timeout time.Duration) error {
	l, err := m.line(timeout)
	if err != nil {
		return err
	}
	if l != "ready" {
		return fmt.Errorf("%s: expected ready, got %q", m.key, l)
	}
	m.startup = time.Since(m.started).Seconds()
	return nil
}

// turn runs one timed turn.
func (m *member) turn(timeout time.Duration) error {
	if _, err := m.goF.Write([]byte("g")); err != nil {
		return err
	}
	l, err := m.line(timeout)
	if err != nil {
		return err
	}
	// WALL CPU per run of the work in the turn
	f := strings.Fields(l)
	if len(f) == 0 || len(f)%2 != 0 {
		return fmt.Errorf("%s: bad turn line %q", m.key, l)
	}
	minW, minC, sumW, sumC := math.Inf(1), math.Inf(1), 0.0, 0.0
	for i := 0; i < len(f); i += 2 {
		w, err1 := strconv.ParseFloat(f[i], 64)
		c, err2 := strconv.ParseFloat(f[i+1], 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%s: bad turn line %q", m.key, l)
		}
		minW, minC, sumW, sumC = math.Min(minW, w), math.Min(minC, c), sumW+w, sumC+c
	}
	m.wall, m.cpu, m.cpuSum, m.wallSum = append(m.wall, minW), append(m.cpu, minC), append(m.cpuSum, sumC), append(m.wallSum, sumW)
	return nil
}

// stop tells the program to finish (it passes its breakpoint line) and
// waits for "end" and, when the bench started it, for its exit.
func (m *member) stop(timeout time.Duration) error {
	if _, err := m.goF.Write([]byte("q")); err != nil {
		return err
	}
	l, err := m.line(timeout)
	if err != nil {
		return err
	}
	if l != "end" {
		return fmt.Errorf("%s: expected end, got %q", m.key, l)
	}
	m.finished = true
	if m.session != nil {
		return m.endSession(timeout)
	}
	if m.cmd == nil {
		return nil
	}
	select {
	case err := <-m.exited:
		m.exited <- err
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", m.key, err, tail(m.stderr.String(), 1200))
		}
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %s", m.key, timeout)
	}
	return nil
}

// close kills the process if it is still running and closes the FIFOs.
func (m *member) close() {
	if m.session != nil {
		m.session.close()
	} else if m.cmd != nil && m.cmd.Process != nil {
		select {
		case err := <-m.exited:
			m.exited <- err
		default:
			m.cmd.Process.Kill()
			<-m.exited
		}
	}
	m.goF.Close()
	m.doneF.Close()
}

// pairedRatios are x's turn over base's turn of the same round, per round
// from the warm-up on.
func pairedRatios(x, base []float64, warm int) []float64 {
	var out []float64
	for i := warm; i < len(x) && i < len(base); i++ {
		if base[i] > 0 {
			out = append(out, x[i]/base[i])
		}
	}
	return out
}

// cpus are the CPUs groups run on: each group on one, two groups at once
// when there are two CPUs (-serial: one group at a time, on CPU 1); -1
// without taskset.
func groupCPUs(n int) []int {
	switch {
	case !pinning:
		return []int{-1}
	case *flagSerial || n < 2:
		return []int{n - 1}
	}
	return []int{0, 1}
}

// parallel calls f(i, cpu) for i in [0, n), one worker per CPU of groupCPUs.
func parallel(n int, f func(i, cpu int)) {
	queue := make(chan int)
	var wg sync.WaitGroup
	for _, cpu := range groupCPUs(runtime.NumCPU()) {
		wg.Add(1)
		go func(cpu int) {
			defer wg.Done()
			for i := range queue {
				f(i, cpu)
			}
		}(cpu)
	}
	for i := 0; i < n; i++ {
		queue <- i
	}
	close(queue)
	wg.Wait()
}
