package launch

// The control channel to a running shim (pyshim/pyreplay_shim/control.py):
// JSON lines over a Unix socket that Go listens on and the shim connects
// to. Go sends {"id", "cmd", ...}; the shim answers {"reply": id, "ok",
// "body" | "error"} and sends events {"event": ...} on its own.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/wire"
)

// Control is Go's end of the channel.
type Control struct {
	dir  string
	ln   net.Listener
	conn net.Conn

	wmu sync.Mutex
	mu  sync.Mutex
	id  int64
	pen map[int64]chan reply

	events chan Event
	closed chan struct{}
	once   sync.Once
}

// Event is a message the shim sent on its own (wire.EventReady, ...); Raw
// decodes into the wire type of its Name.
type Event struct {
	Name string
	Raw  json.RawMessage
}

type reply struct {
	OK    bool            `json:"ok"`
	Body  json.RawMessage `json:"body"`
	Error string          `json:"error"`
}

// ErrChannelClosed is returned by Call once the shim is gone.
var ErrChannelClosed = errors.New("the program is no longer running")

// maxSocketPath: the longest socket path ListenControl makes in the
// scratch directory (a Unix socket's path has at most 107 bytes).
const maxSocketPath = 100

// ListenControl creates a private Unix socket for one shim to connect to,
// in this process's scratch directory unless its path would be too long
// there (then in the default temporary directory).
func ListenControl() (*Control, error) {
	parent := scratch.Dir()
	// (os.MkdirTemp's random part has at most 10 digits)
	if len(filepath.Join(parent, "pyreplay-ctl-0123456789", "s")) > maxSocketPath {
		parent = ""
	}
	dir, err := os.MkdirTemp(parent, "pyreplay-ctl-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot create the control socket: %v", err)
	}
	return &Control{dir: dir, ln: ln, pen: map[int64]chan reply{}, events: make(chan Event, 256), closed: make(chan struct{})}, nil
}

// Addr is the address to put in Config.Control.
func (c *Control) Addr() string { return "unix:" + filepath.Join(c.dir, "s") }

// Accept waits for the shim to connect, until timeout or until gone is closed
// (the process ended first).
func (c *Control) Accept(timeout time.Duration, gone <-chan struct{}) error {
	type res struct {
		conn net.Conn
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		conn, err := c.ln.Accept()
		ch <- res{conn, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.err
		}
		c.conn = r.conn
		c.ln.Close()
		os.RemoveAll(c.dir)
		go c.read()
		return nil
	case <-gone:
		c.ln.Close()
		return errors.New("the program ended before it connected")
	case <-time.After(timeout):
		c.ln.Close()
		return fmt.Errorf("the program did not connect within %v", timeout)
	}
}

// DialControl connects to a shim that listens (a live child waiting for
// its debugger at "unix:PATH", pyshim children.py).
func DialControl(addr string, timeout time.Duration) (*Control, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return nil, fmt.Errorf("unsupported control address %q", addr)
	}
	// (the child binds its socket once its interpreter is up: a while
	// after its parent announced it)
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("unix", path, timeout)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		conn, err = net.DialTimeout("unix", path, time.Until(deadline))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the child process at %s (it waits a while for its debugger, then runs without): %v", path, err)
	}
	c := &Control{conn: conn, pen: map[int64]chan reply{}, events: make(chan Event, 256), closed: make(chan struct{})}
	go c.read()
	return c, nil
}

// Events delivers the shim's events; it is closed when the channel closes.
func (c *Control) Events() <-chan Event { return c.events }

// Closed is closed when the connection ends.
func (c *Control) Closed() <-chan struct{} { return c.closed }

func (c *Control) read() {
	defer c.shut()
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var head wire.Head
		line := append([]byte(nil), sc.Bytes()...)
		if Tap != nil {
			Tap(line)
		}
		if json.Unmarshal(line, &head) != nil {
			continue
		}
		if head.Reply != nil {
			var r reply
			_ = json.Unmarshal(line, &r)
			c.mu.Lock()
			ch := c.pen[*head.Reply]
			delete(c.pen, *head.Reply)
			c.mu.Unlock()
			if ch != nil {
				ch <- r
			}
			continue
		}
		if head.Event != "" {
			c.events <- Event{Name: head.Event, Raw: line}
		}
	}
}

func (c *Control) shut() {
	c.once.Do(func() {
		close(c.closed)
		close(c.events)
		c.mu.Lock()
		for id, ch := range c.pen {
			close(ch)
			delete(c.pen, id)
		}
		c.mu.Unlock()
	})
}

// Tap, when set (by tests), sees every line the shim sends, as sent.
var Tap func(line []byte)

// Send writes a command without waiting for its reply.
func (c *Control) Send(cmd string, args any) error {
	_, err := c.send(cmd, args, false)
	return err
}

func (c *Control) send(cmd string, args any, wait bool) (chan reply, error) {
	if c.conn == nil {
		return nil, ErrChannelClosed
	}
	select {
	case <-c.closed:
		return nil, ErrChannelClosed
	default:
	}
	// args: nil or a value that marshals to a JSON object (wire.*Args)
	msg := map[string]any{}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, fmt.Errorf("control command %q: arguments are not a JSON object", cmd)
		}
		for k, v := range fields {
			msg[k] = v
		}
	}
	c.mu.Lock()
	c.id++
	id := c.id
	var ch chan reply
	if wait {
		ch = make(chan reply, 1)
		c.pen[id] = ch
	}
	c.mu.Unlock()
	msg["id"] = id
	msg["cmd"] = cmd
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	c.wmu.Lock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err = c.conn.Write(append(b, '\n'))
	c.wmu.Unlock()
	if err != nil {
		c.mu.Lock()
		delete(c.pen, id)
		c.mu.Unlock()
		return nil, ErrChannelClosed
	}
	return ch, nil
}

// Call sends a command and waits for its reply (body decoded into out, if
// not nil) for at most timeout.
func (c *Control) Call(cmd string, args any, out any, timeout time.Duration) error {
	ch, err := c.send(cmd, args, true)
	if err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return ErrChannelClosed
		}
		if !r.OK {
			return errors.New(r.Error)
		}
		if out != nil && len(r.Body) > 0 {
			return json.Unmarshal(r.Body, out)
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("the program did not answer %q within %v", cmd, timeout)
	}
}

// CallInterruptible is Call, but when timeout passes it calls interrupt
// (which should make the shim abandon the command) and waits up to grace
// more for the reply.
func (c *Control) CallInterruptible(cmd string, args any, out any, timeout, grace time.Duration, interrupt func()) error {
	ch, err := c.send(cmd, args, true)
	if err != nil {
		return err
	}
	wait := func(d time.Duration) (reply, bool, error) {
		select {
		case r, ok := <-ch:
			if !ok {
				return r, true, ErrChannelClosed
			}
			return r, true, nil
		case <-time.After(d):
			return reply{}, false, nil
		}
	}
	r, got, err := wait(timeout)
	if !got {
		interrupt()
		r, got, err = wait(grace)
		if !got {
			return fmt.Errorf("the program did not answer %q within %v", cmd, timeout+grace)
		}
	}
	if err != nil {
		return err
	}
	if !r.OK {
		return errors.New(r.Error)
	}
	if out != nil && len(r.Body) > 0 {
		return json.Unmarshal(r.Body, out)
	}
	return nil
}

// Close closes the connection (the shim then exits) and the listener.
func (c *Control) Close() {
	if c.ln != nil {
		c.ln.Close()
		os.RemoveAll(c.dir)
	}
	if c.conn != nil {
		c.conn.Close()
	} else {
		c.shut()
	}
}

// StartGroup starts the process in a process group of its own, killed with
// its parent (Linux), so that ending it ends its children too.
func (p *Process) StartGroup() error {
	if p.Cmd.SysProcAttr == nil {
		p.Cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	p.Cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(p.Cmd.SysProcAttr)
	if err := p.Cmd.Start(); err != nil {
		return err
	}
	p.checkpoints()
	p.serveCriu()
	return nil
}

// Kill ends the process group with sig.
func (p *Process) Kill(sig syscall.Signal) {
	if p.Cmd.Process == nil {
		return
	}
	pid := p.Cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(pid, sig)
}

// ShimError is the problem the shim reported in its status file, if any.
func (p *Process) ShimError() string {
	b, err := os.ReadFile(p.statusPath)
	if err != nil {
		return ""
	}
	var st struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &st) == nil {
		return st.Error
	}
	return ""
}

// Cleanup removes the configuration and status files.
func (p *Process) Cleanup() {
	if p.stopCkpt != nil {
		p.stopCkpt()
	}
	os.Remove(p.configPath)
	os.Remove(p.statusPath)
	for _, f := range []*os.File{p.criuChild, p.criuConn} {
		if f != nil {
			f.Close()
		}
	}
	p.criuChild, p.criuConn = nil, nil
	if p.criu != nil {
		SweepImages(p.db)
	}
}
