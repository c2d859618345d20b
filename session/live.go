package session

// A live process under the shim's control channel: start, handshake,
// stops, output, run commands, exit. The Engine (engine.go) drives it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/wire"
)

// Deadlines for talking to the live program.
var (
	StartTimeout   = 30 * time.Second // process start until the shim is ready
	CommandTimeout = 10 * time.Second // one command while stopped
)

// LiveStop is a stop the shim reported.
type LiveStop = wire.StoppedEvent

// ExceptionInfo describes the exception of an exception stop.
type ExceptionInfo = wire.ExceptionInfo

// liveSink receives what a Live process produces.
type liveSink interface {
	liveStopped(l *Live, s LiveStop)
	liveOutput(l *Live, category, text string)
	liveExited(l *Live, code int, shimErr string)
	liveChild(l *Live, c wire.ChildEvent)
}

// Live is one running program: started here (proc), or a live child of
// another session's program that this one attached to (proc nil, pid).
type Live struct {
	proc    *launch.Process
	pid     int
	ctl     *launch.Control
	sink    liveSink
	run     int64
	name    string
	outBase int64 // stdout bytes counted before this process (resume)
	errBase int64

	outN, errN atomic.Int64
	outCond    *sync.Cond
	outMu      sync.Mutex

	readers  sync.WaitGroup
	done     chan struct{}
	exitCode int         // as a shell reports it (128+N: killed by signal N)
	status   int         // as runs.exit_code keeps it (-N: killed by signal N)
	exitSaid atomic.Bool // an attached child sent its exit code (wire.ExitEvent)
	killed   atomic.Bool
}

// startLive starts python with cfg (its Control field is set here), waits
// for the shim to be ready, and returns; the program waits for Run.
func startLive(python string, cfg launch.Config, dir string, env []string, sink liveSink) (*Live, error) {
	ctl, err := launch.ListenControl()
	if err != nil {
		return nil, err
	}
	cfg.Control = ctl.Addr()
	p, err := launch.Prepare(python, cfg, env)
	if err != nil {
		ctl.Close()
		return nil, err
	}
	p.Cmd.Dir = dir
	p.Cmd.Stdin, p.Cmd.Stdout, p.Cmd.Stderr = nil, nil, nil
	stdout, err := p.Cmd.StdoutPipe()
	if err != nil {
		ctl.Close()
		return nil, err
	}
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		ctl.Close()
		return nil, err
	}
	l := &Live{proc: p, ctl: ctl, sink: sink, run: cfg.Run, name: programName(cfg), outBase: cfg.StdoutStart, errBase: cfg.StderrStart, done: make(chan struct{})}
	l.outCond = sync.NewCond(&l.outMu)
	if err := p.StartGroup(); err != nil {
		ctl.Close()
		p.Cleanup()
		return nil, fmt.Errorf("cannot start %s: %v", python, err)
	}
	l.readers.Add(2)
	var errTail tail
	go l.pump(stdout, "stdout", &l.outN, nil)
	go l.pump(stderr, "stderr", &l.errN, &errTail)
	exited := make(chan struct{})
	go func() {
		l.readers.Wait()
		err := p.Cmd.Wait()
		var res launch.Result
		if err != nil {
			var ee interface{ Sys() any }
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
					if ws.Signaled() {
						res.Signal, res.ExitCode = ws.Signal(), 128+int(ws.Signal())
					} else {
						res.ExitCode = ws.ExitStatus()
					}
				}
			}
		}
		// the client sees the shell's 128+N; the recording keeps -N, as
		// pyreplay record does
		l.exitCode, l.status = res.ExitCode, res.Status()
		close(exited)
	}()
	if err := ctl.Accept(StartTimeout, exited); err != nil {
		l.kill()
		<-exited
		return nil, l.startError(err, errTail.String())
	}
	// wait for "ready" (or the end)
	select {
	case ev, ok := <-ctl.Events():
		if !ok || ev.Name != wire.EventReady {
			l.kill()
			<-exited
			return nil, l.startError(errors.New("the program ended before it was ready"), errTail.String())
		}
	case <-exited:
		ctl.Close()
		return nil, l.startError(errors.New("the program ended before it was ready"), errTail.String())
	case <-time.After(StartTimeout):
		l.kill()
		<-exited
		return nil, fmt.Errorf("the program was not ready within %v", StartTimeout)
	}
	go l.events(exited)
	return l, nil
}

// attachLive connects to a live child (pyshim children.py) waiting at addr
// for its debugger, and returns once it is ready; its program waits for
// Run. Its output goes where its parent sends it (not to this session);
// it ends its run in the recording itself, where exitOf reads its code.
func attachLive(addr string, sink liveSink, exitOf func(run int64) (int, bool)) (*Live, error) {
	ctl, err := launch.DialControl(addr, StartTimeout)
	if err != nil {
		return nil, err
	}
	l := &Live{ctl: ctl, sink: sink, done: make(chan struct{})}
	l.outCond = sync.NewCond(&l.outMu)
	select {
	case ev, ok := <-ctl.Events():
		var r wire.ReadyEvent
		if !ok || ev.Name != wire.EventReady || json.Unmarshal(ev.Raw, &r) != nil {
			ctl.Close()
			return nil, errors.New("the child process ended before it was ready")
		}
		l.pid, l.run, l.name = r.Pid, r.Run, fmt.Sprintf("python (pid %d)", r.Pid)
	case <-time.After(StartTimeout):
		ctl.Close()
		return nil, fmt.Errorf("the child process was not ready within %v", StartTimeout)
	}
	exited := make(chan struct{})
	go func() {
		// its end: the channel closes; the code is the one it recorded
		<-ctl.Closed()
		if l.exitSaid.Load() {
			close(exited)
			return
		}
		for i := 0; i < 100 && l.run > 0; i++ { // (a forked child's run is not known: its exit event, else 0)
			if code, done := exitOf(l.run); done {
				l.exitCode = code
				break
			}
			time.Sleep(30 * time.Millisecond)
		}
		close(exited)
	}()
	go l.events(exited)
	return l, nil
}

func (l *Live) startError(err error, stderr string) error {
	if msg := l.proc.ShimError(); msg != "" {
		l.proc.Cleanup()
		return errors.New(msg)
	}
	l.proc.Cleanup()
	if s := strings.TrimSpace(stderr); s != "" {
		return fmt.Errorf("%v: %s", err, s)
	}
	return err
}

// tail keeps the last few KB of a stream for error messages.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) add(p []byte) {
	t.mu.Lock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	t.mu.Unlock()
}

func (t *tail) String() string { t.mu.Lock(); defer t.mu.Unlock(); return string(t.b) }

// pump forwards a stream as output events. Small unbuffered writes
// ("tick", " ", "1", "\n") are coalesced: data goes out when it ends a
// line, when 64 KB are pending, or 15ms after it arrived.
func (l *Live) pump(r io.Reader, category string, n *atomic.Int64, t *tail) {
	defer l.readers.Done()
	type chunk struct {
		b   []byte
		err error
	}
	ch := make(chan chunk, 64)
	go func() {
		for {
			buf := make([]byte, 32*1024)
			k, err := r.Read(buf)
			ch <- chunk{buf[:k], err}
			if err != nil {
				return
			}
		}
	}()
	var pending []byte
	flush := func(all bool) {
		cut := len(pending)
		if !all {
			cut = validPrefix(pending)
		}
		if cut > 0 {
			l.sink.liveOutput(l, category, strings.ToValidUTF8(string(pending[:cut]), "\uFFFD"))
			pending = append([]byte(nil), pending[cut:]...)
			// counted once sent: a stop waits for the output before it
			l.outMu.Lock()
			n.Add(int64(cut))
			l.outCond.Broadcast()
			l.outMu.Unlock()
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case c := <-ch:
			if len(c.b) > 0 {
				if t != nil {
					t.add(c.b)
				}
				wasEmpty := len(pending) == 0
				pending = append(pending, c.b...)
				if pending[len(pending)-1] == '\n' || len(pending) >= 64*1024 {
					flush(false)
					timer.Stop()
				} else if wasEmpty {
					timer.Reset(15 * time.Millisecond)
				}
			}
			if c.err != nil {
				flush(true)
				l.outMu.Lock()
				n.Store(1 << 62)
				l.outCond.Broadcast()
				l.outMu.Unlock()
				return
			}
		case <-timer.C:
			flush(false)
		}
	}
}

// validPrefix is the length of the longest prefix of b that does not end
// inside a UTF-8 sequence.
func validPrefix(b []byte) int {
	end := len(b)
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			break
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				end = len(b) - i
			}
			break
		}
	}
	return end
}

// waitOutput waits until the output written before a stop has been read
// (so that it reaches the client before the stop), at most 500ms.
func (l *Live) waitOutput(out, errb int64) {
	deadline := time.Now().Add(500 * time.Millisecond)
	t := time.AfterFunc(500*time.Millisecond, func() {
		l.outMu.Lock()
		l.outCond.Broadcast()
		l.outMu.Unlock()
	})
	defer t.Stop()
	l.outMu.Lock()
	for (l.outN.Load() < out-l.outBase || l.errN.Load() < errb-l.errBase) && time.Now().Before(deadline) {
		l.outCond.Wait()
	}
	l.outMu.Unlock()
}

func (l *Live) events(exited chan struct{}) {
	for ev := range l.ctl.Events() {
		switch ev.Name {
		case wire.EventStopped:
			var s LiveStop
			if json.Unmarshal(ev.Raw, &s) == nil {
				if l.proc != nil { // (an attached child's output is not this session's to read)
					l.waitOutput(s.Stdout, s.Stderr)
				}
				l.sink.liveStopped(l, s)
			}
		case wire.EventOutput:
			var o wire.OutputEvent
			if json.Unmarshal(ev.Raw, &o) == nil {
				l.sink.liveOutput(l, o.Category, o.Text)
			}
		case wire.EventChild:
			var c wire.ChildEvent
			if json.Unmarshal(ev.Raw, &c) == nil {
				l.sink.liveChild(l, c)
			}
		case wire.EventExit:
			var x wire.ExitEvent
			if json.Unmarshal(ev.Raw, &x) == nil && l.proc == nil {
				l.exitCode, l.status = x.Code, x.Code
				l.exitSaid.Store(true)
			}
		}
	}
	// the channel closed: the program is ending (or was killed)
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		l.kill()
		<-exited
	}
	shimErr := ""
	if l.proc != nil {
		shimErr = l.proc.ShimError()
		l.proc.Cleanup()
	}
	close(l.done)
	l.sink.liveExited(l, l.exitCode, shimErr)
}

// Call sends a command to the stopped program and waits for the reply.
func (l *Live) Call(cmd string, args any, out any) error {
	return l.ctl.Call(cmd, args, out, CommandTimeout)
}

// EvalTimeout bounds an evaluation in the live program; then it is
// interrupted (KeyboardInterrupt-like, inside the evaluation only).
var EvalTimeout = 10 * time.Second

// CallInterruptible sends a command that runs program code (evaluate):
// past EvalTimeout the program gets SIGINT, which the shim turns into an
// error of that evaluation alone.
func (l *Live) CallInterruptible(cmd string, args any, out any) error {
	return l.ctl.CallInterruptible(cmd, args, out, EvalTimeout, 3*time.Second, func() {
		_ = syscall.Kill(l.Pid(), syscall.SIGINT) // (the program alone, not its group)
	})
}

// Send sends a command without waiting (pause, run commands).
func (l *Live) Send(cmd string, args any) error { return l.ctl.Send(cmd, args) }

// Done is closed once the process has ended and been reported.
func (l *Live) Done() <-chan struct{} { return l.done }

// Name is the program's name (for the process event).
func (l *Live) Name() string {
	if len(l.name) > 0 && (l.proc == nil || l.proc.Cmd.Args != nil) {
		return l.name
	}
	return "python"
}

// Pid is the process id.
func (l *Live) Pid() int {
	if l.proc == nil {
		return l.pid
	}
	return l.proc.Cmd.Process.Pid
}

// signal sends sig to the program (its process group when started here).
func (l *Live) signal(sig syscall.Signal) {
	if l.proc != nil {
		l.proc.Kill(sig)
	} else if l.pid > 0 {
		_ = syscall.Kill(l.pid, sig)
	}
}

func (l *Live) kill() {
	l.killed.Store(true)
	l.signal(syscall.SIGKILL)
	l.ctl.Close()
}

// Terminate ends the program: SIGTERM, then SIGKILL after grace.
func (l *Live) Terminate(grace time.Duration) {
	l.killed.Store(true)
	l.signal(syscall.SIGTERM)
	select {
	case <-l.done:
		return
	case <-time.After(grace):
	}
	l.kill()
}

// Kill ends the program now and waits (bounded) until it is gone.
func (l *Live) Kill() {
	l.kill()
	select {
	case <-l.done:
	case <-time.After(5 * time.Second):
	}
}

func programName(cfg launch.Config) string {
	if name := (launch.Target{Script: cfg.Program, Module: cfg.Module}).String(); name != "" {
		return name
	}
	return "python"
}

var _ = os.Getpid
