package dap_test

// A small DAP client for the tests: requests and events as JSON maps, with
// read deadlines everywhere.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/dap"
	"github.com/pyreplay/pyreplay/internal/testutil"
)

type msg map[string]any

func (m msg) body() msg {
	b, _ := m["body"].(map[string]any)
	return msg(b)
}

func (m msg) str(k string) string { s, _ := m[k].(string); return s }
func (m msg) num(k string) int    { f, _ := m[k].(float64); return int(f) }
func (m msg) list(k string) []msg {
	l, _ := m[k].([]any)
	out := make([]msg, 0, len(l))
	for _, x := range l {
		mm, _ := x.(map[string]any)
		out = append(out, msg(mm))
	}
	return out
}

type client struct {
	t       testing.TB
	conn    net.Conn
	seq     int
	in      chan msg
	mu      sync.Mutex
	queue   []msg // messages read but not yet consumed
	done    chan error
	output  strings.Builder
	outputs []msg // the output events' bodies, in order
}

// newClient serves one in-process connection over net.Pipe.
func newClient(t testing.TB) *client {
	a, b := net.Pipe()
	c := &client{t: t, conn: a, in: make(chan msg, 1024), done: make(chan error, 1)}
	srv := &dap.Server{}
	if os.Getenv("PYREPLAY_DAP_TEST_LOG") != "" {
		srv.Log, srv.Trace = newTestLogger(t), true
	}
	go func() { c.done <- srv.Serve(b) }()
	go c.read()
	t.Cleanup(func() {
		a.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Errorf("the server did not end within 10s of the client going away")
		}
	})
	return c
}

func (c *client) read() {
	r := bufio.NewReader(c.conn)
	for {
		b, err := godap.ReadBaseMessage(r)
		if err != nil {
			close(c.in)
			return
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Errorf("server sent invalid JSON: %s", b)
			continue
		}
		c.in <- m
	}
}

func (c *client) sendRaw(b []byte) {
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n", len(b))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(cmd string, args any) int {
	c.seq++
	m := msg{"seq": c.seq, "type": "request", "command": cmd}
	if args != nil {
		m["arguments"] = args
	}
	b, _ := json.Marshal(m)
	c.sendRaw(b)
	return c.seq
}

// next returns the first queued or incoming message matching pred.
func (c *client) next(what string, timeout time.Duration, pred func(msg) bool) msg {
	c.t.Helper()
	for i, m := range c.queue {
		if pred(m) {
			c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
			return m
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %s; output so far:\n%s", what, c.output.String())
			}
			if m.str("type") == "event" && m.str("event") == "output" {
				c.output.WriteString(m.body().str("output"))
				c.outputs = append(c.outputs, m.body())
			}
			if pred(m) {
				return m
			}
			c.queue = append(c.queue, m)
		case <-deadline:
			c.t.Fatalf("no %s within %v; unconsumed: %v; output:\n%s\n%s", what, timeout, summary(c.queue), c.output.String(), stuckReport())
			return nil
		}
	}
}

func summary(q []msg) string {
	var parts []string
	for _, m := range q {
		if m.str("type") == "event" {
			parts = append(parts, "event:"+m.str("event"))
		} else {
			parts = append(parts, m.str("type")+":"+m.str("command"))
		}
	}
	return strings.Join(parts, " ")
}

// request sends and waits for the response; it fails the test on an error
// response.
func (c *client) request(cmd string, args any) msg {
	c.t.Helper()
	r := c.requestAny(cmd, args)
	if r["success"] != true {
		c.t.Fatalf("%s failed: %s", cmd, r.str("message"))
	}
	return r
}

func (c *client) requestAny(cmd string, args any) msg {
	c.t.Helper()
	seq := c.send(cmd, args)
	return c.next("response to "+cmd, 20*time.Second, func(m msg) bool {
		return m.str("type") == "response" && m.num("request_seq") == seq
	})
}

func (c *client) requestErr(cmd string, args any) string {
	c.t.Helper()
	r := c.requestAny(cmd, args)
	if r["success"] == true {
		c.t.Fatalf("%s succeeded; expected an error", cmd)
	}
	return r.str("message")
}

func (c *client) event(name string) msg {
	c.t.Helper()
	return c.next("event "+name, 20*time.Second, func(m msg) bool {
		return m.str("type") == "event" && m.str("event") == name
	})
}

// stopped waits for a stopped event and returns (reason, top frame).
func (c *client) stopped() (string, msg) {
	c.t.Helper()
	ev := c.event("stopped")
	st := c.request("stackTrace", msg{"threadId": threadOf(ev)})
	frames := st.body().list("stackFrames")
	if len(frames) == 0 {
		c.t.Fatalf("stopped with an empty stack")
	}
	return ev.body().str("reason"), frames[0]
}

// stoppedEvent is the next stopped event's body and the top frame.
func (c *client) stoppedEvent() (msg, msg) {
	c.t.Helper()
	ev := c.event("stopped")
	frames := c.request("stackTrace", msg{"threadId": threadOf(ev)}).body().list("stackFrames")
	if len(frames) == 0 {
		c.t.Fatalf("stopped with an empty stack")
	}
	return ev.body(), frames[0]
}

// threadOf is the thread a stopped event names (1, the main thread, when
// it names none).
func threadOf(ev msg) int {
	if id := ev.body().num("threadId"); id != 0 {
		return id
	}
	return 1
}

func (c *client) topLine() int {
	c.t.Helper()
	st := c.request("stackTrace", msg{"threadId": 1})
	return st.body().list("stackFrames")[0].num("line")
}

// locals returns the top frame's locals as name -> value.
func (c *client) locals(frameID int) map[string]msg {
	c.t.Helper()
	sc := c.request("scopes", msg{"frameId": frameID}).body().list("scopes")
	if len(sc) == 0 {
		c.t.Fatalf("no scopes")
	}
	return c.vars(sc[0].num("variablesReference"))
}

func (c *client) vars(ref int) map[string]msg {
	c.t.Helper()
	out := map[string]msg{}
	for _, v := range c.request("variables", msg{"variablesReference": ref}).body().list("variables") {
		out[v.str("name")] = v
	}
	return out
}

func (c *client) eval(frameID int, expr, ctx string) msg {
	c.t.Helper()
	return c.request("evaluate", msg{"expression": expr, "frameId": frameID, "context": ctx}).body()
}

// ------------------------------------------------------------------ set-up

type fixture struct {
	dir  string
	db   string
	prog string
	py   string
}

func setup(t testing.TB, name, minor string) fixture {
	t.Helper()
	dir := t.TempDir()
	prog := testutil.CopyFixture(t, "dap/"+name, dir)
	return fixture{dir: dir, db: filepath.Join(dir, "rec.db"), prog: prog, py: testutil.PythonFor(t, minor)}
}

// launch initializes and launches f.prog with line breakpoints (file name ->
// lines) and filters, then sends configurationDone.
func (c *client) launch(f fixture, extra msg, bps map[string][]int, filters []string) {
	c.t.Helper()
	init := c.request("initialize", msg{"adapterID": "pyreplay", "linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path"})
	if init.body()["supportsStepBack"] != true {
		c.t.Fatalf("supportsStepBack not advertised: %v", init.body())
	}
	args := msg{"program": f.prog, "cwd": f.dir, "python": f.py, "db": f.db}
	for k, v := range extra {
		args[k] = v
	}
	c.request("launch", args)
	c.event("initialized")
	for file, lines := range bps {
		var bl []msg
		for _, l := range lines {
			bl = append(bl, msg{"line": l})
		}
		c.request("setBreakpoints", msg{"source": msg{"path": filepath.Join(f.dir, file)}, "breakpoints": bl})
	}
	if filters == nil {
		filters = []string{"uncaught"}
	}
	c.request("setExceptionBreakpoints", msg{"filters": filters})
	c.request("configurationDone", nil)
}

func (c *client) expectExit(code int) {
	c.t.Helper()
	ev := c.event("exited")
	if got := ev.body().num("exitCode"); got != code {
		c.t.Fatalf("exit code %d, want %d; output:\n%s", got, code, c.output.String())
	}
	c.event("terminated")
}

var _ = io.EOF
