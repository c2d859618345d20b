package dap_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/session"
)

func TestMalformedAndUnknownRequests(t *testing.T) {
	c := newClient(t)
	c.sendRaw([]byte(`{"seq": 1, "type": "request", "command": `))
	r := c.next("response to garbage", 5*time.Second, func(m msg) bool { return m.str("type") == "response" })
	if r["success"] != false || !strings.Contains(r.str("message"), "malformed") {
		t.Fatalf("garbage: %v", r)
	}
	if m := c.requestErr("fooBar", nil); !strings.Contains(m, "unknown request") {
		t.Fatalf("unknown: %q", m)
	}
	if m := c.requestErr("goto", msg{"threadId": 1, "targetId": 1}); !strings.Contains(m, "does not support") {
		t.Fatalf("unsupported: %q", m)
	}
	if m := c.requestErr("stackTrace", msg{"threadId": 1}); !strings.Contains(m, "not stopped") {
		t.Fatalf("stackTrace before launch: %q", m)
	}
	if m := c.requestErr("variables", msg{"variablesReference": 999}); !strings.Contains(m, "stale") {
		t.Fatalf("bad reference: %q", m)
	}
	if m := c.requestErr("launch", msg{"program": 42}); !strings.Contains(m, "malformed arguments") {
		t.Fatalf("bad arguments: %q", m)
	}
	// still serving
	c.request("initialize", msg{"adapterID": "pyreplay"})
}

func TestLaunchErrors(t *testing.T) {
	f := setup(t, "broken.py", "3.11")
	cases := map[string]struct {
		args msg
		want string
	}{
		"missing":   {msg{"program": filepath.Join(f.dir, "nope.py"), "python": f.py, "db": f.db}, "does not exist"},
		"syntax":    {msg{"program": f.prog, "python": f.py, "db": f.db}, "syntax error in"},
		"nothing":   {msg{"python": f.py}, "needs \"program\""},
		"python":    {msg{"program": f.prog, "python": "/no/such/python"}, "no usable Python"},
		"recording": {msg{"recording": f.prog}, "not a pyreplay recording"},
		"norec":     {msg{"recording": filepath.Join(f.dir, "none.db")}, "no recording at"},
		"snapshot":  {msg{"recording": f.db, "snapshot": "snap-x"}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClient(t)
			c.request("initialize", msg{"adapterID": "pyreplay"})
			m := c.requestErr("launch", tc.args)
			if !strings.Contains(m, tc.want) {
				t.Fatalf("launch error %q, want %q", m, tc.want)
			}
		})
	}
}

// The client going away mid-run ends the program: no orphan.
func TestClientDisappears(t *testing.T) {
	f := setup(t, "slow.py", "3.11")
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"program": f.prog, "python": f.py, "db": f.db})
	pid := c.event("process").body().num("systemProcessId")
	c.event("initialized")
	c.request("configurationDone", nil)
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the program is not running: %v", err)
	}
	c.conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after the client went away", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Breakpoints changed while stopped and while running, in code already
// running (3.8-3.11: recompiled functions and traced frames; 3.12+:
// sys.monitoring events restarted), plus function breakpoints and entry.
func TestBreakpointChanges(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "basic.py", minor)
			c := newClient(t)
			c.launch(f, msg{"stopOnEntry": true}, nil, nil)
			reason, top := c.stopped()
			if reason != "entry" || top.num("line") != 1 {
				t.Fatalf("entry: %s %v", reason, top)
			}
			c.request("setFunctionBreakpoints", msg{"breakpoints": []msg{{"name": "main"}}})
			c.request("continue", msg{"threadId": 1})
			reason, top = c.stopped()
			// at its first line, on every version (as pdb's)
			if reason != "function breakpoint" || top.str("name") != "main" || top.num("line") != 16 {
				t.Fatalf("function breakpoint: %s %v", reason, top)
			}
			c.request("setFunctionBreakpoints", msg{"breakpoints": []msg{}})
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 20}}})
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 20 {
				t.Fatalf("line 20: %v", top)
			}
			// add(): defined before the breakpoint existed
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 11}}})
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.str("name") != "add" || top.num("line") != 11 {
				t.Fatalf("added breakpoint in add: %v", top)
			}
			// main(): running, on the stack
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 21}}})
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.str("name") != "main" || top.num("line") != 21 {
				t.Fatalf("added breakpoint in a running frame: %v", top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(3)
		})
	}
}

// A breakpoint set while the program runs (in the running module frame).
func TestBreakpointWhileRunning(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "slow.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, nil)
			time.Sleep(300 * time.Millisecond)
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 5}}})
			reason, top := c.stopped()
			if reason != "breakpoint" || top.num("line") != 5 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.request("disconnect", nil)
		})
	}
}

// -m module, args, env and cwd reach the program.
func TestLaunchModule(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	os.WriteFile(filepath.Join(f.dir, "envmod.py"), []byte("import os, sys\nprint('argv', sys.argv[1:], os.environ.get('PYREPLAY_T'), os.getcwd())\n"), 0o644)
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"module": "envmod", "args": []string{"a", "b"}, "cwd": f.dir, "env": msg{"PYREPLAY_T": "yes"}, "python": f.py, "db": f.db})
	c.event("initialized")
	c.request("configurationDone", nil)
	c.expectExit(0)
	if want := "argv ['a', 'b'] yes " + f.dir; !strings.Contains(c.output.String(), want) {
		t.Fatalf("output %q, want %q", c.output.String(), want)
	}
}

// An evaluation that never ends is interrupted at its deadline; the
// program stays stopped and usable.
func TestEvaluateDeadline(t *testing.T) {
	old := session.EvalTimeout
	session.EvalTimeout = 500 * time.Millisecond
	defer func() { session.EvalTimeout = old }()
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
	_, top := c.stopped()
	if m := c.requestErr("evaluate", msg{"expression": "exec('while True: pass')", "frameId": top.num("id"), "context": "repl"}); !strings.Contains(m, "interrupted") {
		t.Fatalf("endless evaluation: %q", m)
	}
	if v := c.eval(top.num("id"), "acc + 1", "repl").str("result"); v != "1" {
		t.Fatalf("after the interruption: %q", v)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
}
