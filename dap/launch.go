package dap

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
)

// Capabilities is what pyreplay advertises in its initialize response.
func Capabilities() godap.Capabilities {
	return godap.Capabilities{
		SupportsConfigurationDoneRequest:  true,
		SupportsFunctionBreakpoints:       true,
		SupportsConditionalBreakpoints:    true,
		SupportsHitConditionalBreakpoints: true,
		SupportsLogPoints:                 true,
		SupportsSetVariable:               true,
		SupportsEvaluateForHovers:         true,
		SupportsStepBack:                  true,
		SupportsExceptionInfoRequest:      true,
		SupportsTerminateRequest:          true,
		SupportTerminateDebuggee:          true,
		SupportsDelayedStackTraceLoading:  true,
		SupportsClipboardContext:          true,
		ExceptionBreakpointFilters: []godap.ExceptionBreakpointsFilter{
			{Filter: "raised", Label: "Raised Exceptions", Description: "Stop where an exception is raised in your code, even if it is caught (traces the program on Python 3.8-3.11)"},
			{Filter: "uncaught", Label: "Uncaught Exceptions", Description: "Stop at an exception nothing catches, before the program ends", Default: true},
		},
	}
}

func (c *conn) onInitialize(req *request) (any, error) {
	var a godap.InitializeRequestArguments
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	// VS Code sends both true; the defaults (absent) are true as well
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(req.Arguments, &raw)
	if _, ok := raw["linesStartAt1"]; ok {
		c.linesAt1 = a.LinesStartAt1
	}
	if _, ok := raw["columnsStartAt1"]; ok {
		c.colsAt1 = a.ColumnsStartAt1
	}
	c.childSessions = a.SupportsStartDebuggingRequest
	return Capabilities(), nil
}

// LaunchArgs are pyreplay's launch attributes (debugpy's names where they
// apply, plus db, recording and snapshot).
type LaunchArgs struct {
	Program     string             `json:"program"`
	Module      string             `json:"module"`
	Args        []string           `json:"args"`
	Cwd         string             `json:"cwd"`
	Env         map[string]*string `json:"env"`
	Python      json.RawMessage    `json:"python"`
	StopOnEntry bool               `json:"stopOnEntry"`
	JustMyCode  *bool              `json:"justMyCode"`
	DB          string             `json:"db"`
	Recording   string             `json:"recording"`
	Snapshot    json.RawMessage    `json:"snapshot"`
	Console     string             `json:"console"`
	NoDebug     bool               `json:"noDebug"`
	Token       string             `json:"token"` // pyreplay dap --allow-remote's
	Trust       bool               `json:"trust"` // sign the replayed recording with the user's key (as pyreplay trust)
	// Criu: true images the stops exact resume refuses with CRIU (as
	// record --criu), "always" every stop; Resume from Here restores them.
	Criu json.RawMessage `json:"criu"`
	// AllowEdited: Resume from Here continues in the program's edited
	// source (as pyreplay resume --allow-edited).
	AllowEdited bool `json:"allowEdited"`
	// TimeTravel (default true for a program, false for a recording):
	// Step Back and Reverse Continue go by line, re-executing the program
	// from an earlier snapshot (session/linehistory.go); false moves
	// between the stops. LineHistory: true is the same as TimeTravel: true.
	TimeTravel  *bool `json:"timeTravel"`
	LineHistory bool  `json:"lineHistory"`
	// History bounds what time travel keeps of a live run: "30s", "2m",
	// "500MB" or "2m,500MB" (launch.ParseHistory; default 10s).
	History json.RawMessage `json:"history"`
	// SubProcess (default true, as debugpy's): the program's Python
	// children run under pyreplay too, each in a child session (DAP
	// startDebugging) when the client supports it, else recorded.
	SubProcess *bool `json:"subProcess"`
	// PyreplayChild (an attach made by startDebugging): the live child to
	// debug, {"control": "unix:PATH", "db": PATH}.
	PyreplayChild *struct {
		Control string `json:"control"`
		DB      string `json:"db"`
	} `json:"pyreplayChild"`
}

// lines says whether line history is on: live by default, replays when asked.
func (a LaunchArgs) lines(live bool) bool {
	if a.TimeTravel != nil {
		return *a.TimeTravel
	}
	return a.LineHistory || live
}

// historyArg reads "history": a string launch.ParseHistory reads.
func historyArg(raw json.RawMessage) (launch.History, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return launch.History{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return launch.History{}, errorf("\"history\" is a string such as \"30s\", \"2m\", \"500MB\" or \"2m,500MB\", not %s", raw)
	}
	h, err := launch.ParseHistory(s)
	if err != nil {
		return h, errorf("\"history\": %v", err)
	}
	return h, nil
}

// criuArg reads "criu": true, false, "always" (or "refused", "off").
func criuArg(raw json.RawMessage) (*launch.Criu, error) {
	mode := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if mode == "null" {
		mode = ""
	}
	return launch.NewCriu(mode)
}

// launchArgs reads a launch or attach request's arguments, once per
// session, and checks the server's token (pyreplay dap --allow-remote).
func (c *conn) launchArgs(req *request) (LaunchArgs, error) {
	var a LaunchArgs
	if c.launched {
		return a, errorf("this session has already launched")
	}
	if err := decode(req, &a); err != nil {
		return a, err
	}
	if c.srv.Token != "" && subtle.ConstantTimeCompare([]byte(a.Token), []byte(c.srv.Token)) != 1 {
		return a, errorf("this adapter accepts remote clients and needs its token: add \"token\" (printed by pyreplay dap at start) to the launch configuration")
	}
	c.authorized = true
	return a, nil
}

func (c *conn) onLaunch(req *request) (any, error) {
	a, err := c.launchArgs(req)
	if err != nil {
		return nil, err
	}
	c.dbg.SetAllowEdited(a.AllowEdited)
	if a.Recording != "" {
		snap := int64(0)
		if s := strings.Trim(strings.TrimSpace(string(a.Snapshot)), `"`); s != "" && s != "null" {
			n, err := recording.ParseSnapID(s)
			if err != nil {
				return nil, err
			}
			snap = n
		}
		if a.Trust {
			if err := trustRecording(a.Recording); err != nil {
				return nil, err
			}
		}
		if err := c.dbg.OpenRecording(a.Recording, session.OpenOptions{Snap: snap, LineHistory: a.lines(false)}); err != nil {
			return nil, err
		}
		c.launched = true
		c.started.Store(true)
		return nil, nil
	}
	python, err := pythonArg(a.Python)
	if err != nil {
		return nil, err
	}
	c.justMyCode = a.JustMyCode == nil || *a.JustMyCode
	crOpt, err := criuArg(a.Criu)
	if err != nil {
		return nil, err
	}
	hist, err := historyArg(a.History)
	if err != nil {
		return nil, err
	}
	o := session.LaunchOptions{Target: launch.Target{Script: a.Program}, Args: a.Args, Cwd: a.Cwd, Python: python,
		DB: a.DB, StopOnEntry: a.StopOnEntry, NoDebug: a.NoDebug, JustMyCode: c.justMyCode, Env: map[string]string{},
		Criu: crOpt, LineHistory: a.lines(true) && !a.NoDebug, History: hist,
		ChildSessions: c.childSessions, NoSubProcess: a.SubProcess != nil && !*a.SubProcess}
	if a.Module != "" {
		o.Target = launch.Target{Module: a.Module}
	}
	for k, v := range a.Env {
		if v != nil {
			o.Env[k] = *v
		}
	}
	if a.Console != "" && a.Console != "internalConsole" {
		c.event("output", godap.OutputEventBody{Category: "console",
			Output: fmt.Sprintf("pyreplay: console %q is not supported; the program's output appears here and its stdin is empty\n", a.Console)})
	}
	if err := c.dbg.Launch(o); err != nil {
		return nil, err
	}
	c.child = childConfig{python: python, justMyCode: c.justMyCode, timeTravel: o.LineHistory, db: c.dbg.RecordingPath(), token: a.Token}
	c.launched = true
	c.started.Store(true)
	return nil, nil
}

// onAttach takes the child session startDebugging asked for: a live Python
// child of another session's program, waiting for its debugger.
func (c *conn) onAttach(req *request) (any, error) {
	a, err := c.launchArgs(req)
	if err != nil {
		return nil, err
	}
	if a.PyreplayChild == nil || a.PyreplayChild.Control == "" {
		return nil, errorf("attach is for the child processes of a pyreplay session (it starts them itself); to debug a program, launch it")
	}
	python, err := pythonArg(a.Python)
	if err != nil {
		return nil, err
	}
	c.justMyCode = a.JustMyCode == nil || *a.JustMyCode
	o := session.AttachOptions{Control: a.PyreplayChild.Control, DB: a.PyreplayChild.DB, Python: python,
		JustMyCode: c.justMyCode, LineHistory: a.lines(true)}
	if err := c.dbg.Attach(o); err != nil {
		return nil, err
	}
	c.child = childConfig{python: python, justMyCode: c.justMyCode, timeTravel: o.LineHistory, db: o.DB, token: a.Token}
	c.launched = true
	c.started.Store(true)
	return nil, nil
}

// childConfig is what a child session of this one is configured with:
// this session's interpreter, settings, recording and token.
type childConfig struct {
	python, db, token      string
	justMyCode, timeTravel bool
}

// startChild asks the client for a session of the child the program
// started (it waits for it: onAttach).
func (c *conn) startChild(e session.ChildEvent) {
	if !c.childSessions {
		return
	}
	name := fmt.Sprintf("python (pid %d)", e.Pid)
	if len(e.Argv) > 1 {
		name = fmt.Sprintf("%s (pid %d)", strings.Join(e.Argv[1:], " "), e.Pid)
	}
	ch := c.child
	cfg := map[string]any{"type": "pyreplay", "request": "attach", "name": name,
		"pyreplayChild": map[string]any{"control": e.Control, "db": ch.db},
		"justMyCode":    ch.justMyCode, "timeTravel": ch.timeTravel}
	if ch.python != "" {
		cfg["python"] = ch.python
	}
	if ch.token != "" {
		cfg["token"] = ch.token
	}
	c.write(func(seq int) any {
		return requestMsg{Seq: seq, Type: "request", Command: "startDebugging",
			Arguments: godap.StartDebuggingRequestArguments{Request: "attach", Configuration: cfg}}
	})
}

// pythonArg accepts "python": "/path" or ["/path", ...] (debugpy allows both).
func pythonArg(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil && len(l) > 0 {
		if len(l) > 1 {
			return "", errorf("\"python\" with interpreter arguments (%s) is not supported; give the interpreter alone", strings.Join(l[1:], " "))
		}
		return l[0], nil
	}
	return "", errorf("\"python\" must be the path of a Python interpreter")
}

func (c *conn) afterLaunch(req *request) {
	if l := c.dbg.LiveProcess(); l != nil {
		method := "launch"
		if req.Command == "attach" {
			method = "attach"
		}
		c.event("process", godap.ProcessEventBody{Name: l.Name(), SystemProcessId: l.Pid(), IsLocalProcess: true, StartMethod: method})
	}
	c.event("initialized", nil)
}

func (c *conn) onConfigurationDone(req *request) (any, error) {
	if !c.launched {
		return nil, errorf("configurationDone before launch")
	}
	if c.configured {
		return nil, nil
	}
	c.configured = true
	return nil, c.dbg.Start()
}

func (c *conn) onDisconnect(req *request) (any, error) {
	c.dbg.Close() // ends the program, whatever terminateDebuggee says: no orphans
	return nil, nil
}

func (c *conn) onTerminate(req *request) (any, error) {
	c.dbg.Terminate()
	return nil, nil
}

func (c *conn) onCancel(req *request) (any, error) {
	return nil, nil // requests are answered in order and bounded; nothing to cancel
}

// snapArg accepts "snap-N", "N" or a number.
func snapArg(raw json.RawMessage) (int64, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	return recording.ParseSnapID(s)
}

// trustRecording signs a recording with the user's key ("trust": true).
func trustRecording(path string) error {
	key, err := trust.UserKey()
	if err != nil {
		return err
	}
	store, err := recording.Create(path)
	if err != nil {
		return err
	}
	defer store.Close()
	_, _, err = store.Trust(key)
	return err
}
