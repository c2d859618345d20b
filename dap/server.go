// Package dap is pyreplay's Debug Adapter Protocol front end: a Server
// speaks DAP over any io.ReadWriteCloser (stdio for VS Code, TCP with
// --listen) and drives one session.Engine per connection.
//
// Files by protocol area: server.go (transport, dispatch, handles),
// launch.go (initialize, launch, configuration, ending), breakpoints.go,
// execution.go (run, step, time travel, resume), inspect.go (threads,
// stack, scopes, variables, evaluate, exceptions, sources).
package dap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/session"
)

// Server serves DAP connections.
type Server struct {
	Log   *log.Logger // warnings (nil: none)
	Trace bool        // also log every message in and out
	// StallTimeout, over connections with read deadlines (TCP): how long a
	// client has to launch after connecting, and to finish a message it
	// began (0: no limit). See readLoop.
	StallTimeout time.Duration
	// Token, when set, must be the "token" launch argument: until a launch
	// carries it, every request but initialize and disconnect fails, and
	// nothing runs.
	Token string
}

// conn is one client connection and its debugging session.
type conn struct {
	srv  *Server
	rw   io.ReadWriteCloser
	dbg  *session.Engine
	logf func(string, ...any)

	wmu sync.Mutex
	seq int

	linesAt1, colsAt1 bool
	childSessions     bool          // the client takes startDebugging requests (a session per child process)
	tids              map[int64]int // thread ident -> the thread's id for the client (threads.go)
	child             childConfig   // what a child session inherits (launch.go)
	justMyCode        bool          // library frames are left out of stack traces (as debugpy)
	authorized        bool          // the launch carried the server's token (or none is needed)
	started           atomic.Bool   // launched: read by readLoop
	launched          bool
	configured        bool
	done              bool

	h handles
}

// Serve runs the protocol on rw until the client disconnects or goes
// away. Whatever program the session started is ended when it returns.
func (s *Server) Serve(rw io.ReadWriteCloser) error {
	c := newConn(s, rw)
	all := c.dbg.Events()
	defer func() {
		c.dbg.Close()
		// what the engine still says goes nowhere: its queue's goroutine
		// ends once it has handed everything over (one per session was
		// left blocked for the server's lifetime)
		for range all {
		}
	}()
	defer rw.Close()

	in := make(chan inMsg)
	quit := make(chan struct{})
	defer close(quit)
	go c.readLoop(in, quit)
	events := all
	for !c.done {
		select {
		case m := <-in:
			if m.err != nil {
				if errors.Is(m.err, io.EOF) || errors.Is(m.err, io.ErrClosedPipe) {
					if c.srv.Trace {
						c.logf("client went away")
					}
					return nil
				}
				var bpe *godap.BaseProtocolError
				if errors.As(m.err, &bpe) {
					// the framing is lost: nothing more can be read reliably
					c.logf("protocol error: %v", m.err)
					c.event("output", godap.OutputEventBody{Category: "important", Output: "pyreplay: unreadable message (" + m.err.Error() + "); closing\n"})
					return m.err
				}
				var ne net.Error
				if errors.As(m.err, &ne) && ne.Timeout() {
					c.logf("client stalled (nothing whole within %v); closing", c.srv.StallTimeout)
					return nil
				}
				c.logf("read: %v", m.err)
				return nil
			}
			c.handle(m.raw)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			c.engineEvent(ev)
		}
	}
	return nil
}

func newConn(s *Server, rw io.ReadWriteCloser) *conn {
	c := &conn{srv: s, rw: rw, dbg: session.NewEngine(), linesAt1: true, colsAt1: true, justMyCode: true}
	c.h.reset()
	c.logf = func(f string, a ...any) {
		if s.Log != nil {
			s.Log.Printf(f, a...)
		}
	}
	return c
}

// ------------------------------------------------------------------ writing

type responseMsg struct {
	Seq        int    `json:"seq"`
	Type       string `json:"type"`
	RequestSeq int    `json:"request_seq"`
	Success    bool   `json:"success"`
	Command    string `json:"command"`
	Message    string `json:"message,omitempty"`
	Body       any    `json:"body,omitempty"`
}

type requestMsg struct {
	Seq       int    `json:"seq"`
	Type      string `json:"type"`
	Command   string `json:"command"`
	Arguments any    `json:"arguments"`
}

type eventMsg struct {
	Seq   int    `json:"seq"`
	Type  string `json:"type"`
	Event string `json:"event"`
	Body  any    `json:"body,omitempty"`
}

// write sends one message; seq is numbered here, from 1, and header and
// body go out in one write.
func (c *conn) write(build func(seq int) any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.seq++
	b, err := json.Marshal(build(c.seq))
	if err != nil {
		c.logf("marshal: %v", err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("Content-Length: ")
	buf.WriteString(strconv.Itoa(len(b)))
	buf.WriteString("\r\n\r\n")
	buf.Write(b)
	if c.srv.Trace {
		c.logf("-> %s", b)
	}
	if _, err := c.rw.Write(buf.Bytes()); err != nil {
		c.logf("write: %v", err)
	}
}

func (c *conn) respond(req *request, body any) {
	c.write(func(seq int) any {
		return responseMsg{Seq: seq, Type: "response", RequestSeq: req.Seq, Success: true, Command: req.Command, Body: body}
	})
}

func (c *conn) fail(req *request, err error) {
	msg := err.Error()
	c.write(func(seq int) any {
		return responseMsg{Seq: seq, Type: "response", RequestSeq: req.Seq, Success: false, Command: req.Command, Message: msg,
			Body: godap.ErrorResponseBody{Error: &godap.ErrorMessage{Id: 1, Format: msg, ShowUser: req.Command == "launch" || req.Command == "pyreplayResume"}}}
	})
}

func (c *conn) event(name string, body any) {
	c.write(func(seq int) any { return eventMsg{Seq: seq, Type: "event", Event: name, Body: body} })
}

// ------------------------------------------------------------------ dispatch

type request struct {
	Seq       int             `json:"seq"`
	Type      string          `json:"type"`
	Command   string          `json:"command"`
	Arguments json.RawMessage `json:"arguments"`
}

type reqError struct{ msg string }

func (e reqError) Error() string { return e.msg }

func errorf(f string, a ...any) error { return reqError{fmt.Sprintf(f, a...)} }

func (c *conn) handle(raw []byte) {
	if c.srv.Trace {
		c.logf("<- %s", raw)
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		c.fail(&request{Command: "unknown"}, fmt.Errorf("malformed message: %v", err))
		return
	}
	if req.Type != "request" {
		return // responses to reverse requests, stray events: nothing to do
	}
	if req.Command == "" {
		c.fail(&req, errors.New("malformed request: no command"))
		return
	}
	defer func() {
		if p := recover(); p != nil {
			c.logf("panic in %s: %v", req.Command, p)
			c.fail(&req, fmt.Errorf("internal error in %s: %v", req.Command, p))
		}
	}()
	if c.srv.Token != "" && !c.authorized && req.Command != "initialize" && req.Command != "disconnect" && req.Command != "launch" {
		c.fail(&req, errors.New("not authorized: this adapter needs a launch with its token first"))
		return
	}
	h, ok := handlers[req.Command]
	if !ok {
		if _, known := unsupported[req.Command]; known {
			c.fail(&req, fmt.Errorf("pyreplay does not support the %q request", req.Command))
		} else {
			c.fail(&req, fmt.Errorf("unknown request %q", req.Command))
		}
		return
	}
	if len(req.Arguments) == 0 || string(req.Arguments) == "null" {
		req.Arguments = json.RawMessage("{}")
	}
	body, err := h(c, &req)
	if err != nil {
		c.fail(&req, err)
		return
	}
	c.respond(&req, body)
	if after, ok := afterResponse[req.Command]; ok {
		after(c, &req)
	}
}

type handler func(c *conn, req *request) (any, error)

var handlers map[string]handler

// afterResponse runs once a request's response is out (initialized event
// after launch, ending after disconnect).
var afterResponse map[string]func(c *conn, req *request)

// unsupported lists the DAP requests pyreplay answers with an error.
var unsupported = map[string]struct{}{
	"restart": {}, "setExpression": {}, "restartFrame": {}, "goto": {},
	"gotoTargets": {}, "stepInTargets": {}, "completions": {}, "modules": {}, "loadedSources": {},
	"dataBreakpointInfo": {}, "setDataBreakpoints": {}, "setInstructionBreakpoints": {}, "readMemory": {},
	"writeMemory": {}, "disassemble": {}, "terminateThreads": {}, "breakpointLocations": {}, "locations": {},
	"runInTerminal": {}, "startDebugging": {},
}

func init() {
	handlers = map[string]handler{
		"initialize":              (*conn).onInitialize,
		"launch":                  (*conn).onLaunch,
		"attach":                  (*conn).onAttach,
		"configurationDone":       (*conn).onConfigurationDone,
		"disconnect":              (*conn).onDisconnect,
		"terminate":               (*conn).onTerminate,
		"cancel":                  (*conn).onCancel,
		"setBreakpoints":          (*conn).onSetBreakpoints,
		"setFunctionBreakpoints":  (*conn).onSetFunctionBreakpoints,
		"setExceptionBreakpoints": (*conn).onSetExceptionBreakpoints,
		"continue":                (*conn).onContinue,
		"next":                    (*conn).onNext,
		"stepIn":                  (*conn).onStepIn,
		"stepOut":                 (*conn).onStepOut,
		"stepBack":                (*conn).onStepBack,
		"reverseContinue":         (*conn).onReverseContinue,
		"pause":                   (*conn).onPause,
		"pyreplayResume":          (*conn).onResume,
		"threads":                 (*conn).onThreads,
		"stackTrace":              (*conn).onStackTrace,
		"scopes":                  (*conn).onScopes,
		"variables":               (*conn).onVariables,
		"evaluate":                (*conn).onEvaluate,
		"exceptionInfo":           (*conn).onExceptionInfo,
		"source":                  (*conn).onSource,
		"setVariable":             (*conn).onSetVariable,
	}
	afterResponse = map[string]func(c *conn, req *request){
		"launch":     (*conn).afterLaunch,
		"attach":     (*conn).afterLaunch,
		"disconnect": func(c *conn, req *request) { c.done = true },
	}
}

func decode(req *request, v any) error {
	if err := json.Unmarshal(req.Arguments, v); err != nil {
		return errorf("malformed arguments of %s: %v", req.Command, err)
	}
	return nil
}

// ------------------------------------------------------------------ engine events

func (c *conn) engineEvent(ev any) {
	switch e := ev.(type) {
	case session.StoppedEvent:
		c.h.reset()
		text := ""
		if e.Reason == "exception" {
			text = trimNL(e.Text)
		}
		// (the program's other threads run on at a live stop: said so)
		c.event("stopped", godap.StoppedEventBody{Reason: e.Reason, Description: e.Description, ThreadId: c.stoppedThread(),
			AllThreadsStopped: !e.OthersRunning, HitBreakpointIds: e.Breakpoints, Text: text})
		if e.Text != "" && e.Reason != "exception" {
			c.event("output", godap.OutputEventBody{Category: "console", Output: e.Text})
		}
	case session.ContinuedEvent:
		c.h.reset()
		c.event("continued", godap.ContinuedEventBody{ThreadId: c.stoppedThread(), AllThreadsContinued: true})
	case session.OutputEvent:
		c.event("output", godap.OutputEventBody{Category: e.Category, Output: e.Text})
	case session.ExitedEvent:
		c.event("exited", godap.ExitedEventBody{ExitCode: e.Code})
	case session.TerminatedEvent:
		c.event("terminated", godap.TerminatedEventBody{})
	case session.ChildEvent:
		c.startChild(e)
	}
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
