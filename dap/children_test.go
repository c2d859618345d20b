package dap_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// startDebugging answers the adapter's startDebugging request and returns
// its arguments and the child session's configuration.
func (c *client) startDebugging() (args, cfg map[string]any) {
	c.t.Helper()
	rr := c.next("startDebugging request", 20*time.Second, func(m msg) bool {
		return m.str("type") == "request" && m.str("command") == "startDebugging"
	})
	resp, _ := json.Marshal(msg{"seq": 1000, "type": "response", "request_seq": rr.num("seq"), "success": true, "command": "startDebugging"})
	c.sendRaw(resp)
	args, _ = rr["arguments"].(map[string]any)
	cfg, _ = args["configuration"].(map[string]any)
	return args, cfg
}

// A Python child the program starts becomes a child session (as debugpy's
// subProcess): the adapter asks the client with a startDebugging request,
// the child waits for the session that attaches, stops at that session's
// breakpoint with its own values, and both end with their own exit codes.
func TestChildSession(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "spawner.py", minor)
			child := testutil.CopyFixture(t, "dap/spawned.py", f.dir)
			c := newClient(t)
			c.request("initialize", msg{"adapterID": "pyreplay", "linesStartAt1": true, "columnsStartAt1": true,
				"pathFormat": "path", "supportsStartDebuggingRequest": true})
			c.request("launch", msg{"program": f.prog, "cwd": f.dir, "python": f.py, "db": f.db})
			c.event("initialized")
			c.request("configurationDone", nil)
			args, cfg := c.startDebugging()
			if args["request"] != "attach" || !strings.Contains(cfg["name"].(string), "spawned.py") {
				t.Fatalf("startDebugging arguments: %v", args)
			}

			k := newClient(t)
			k.request("initialize", msg{"adapterID": "pyreplay", "linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path"})
			k.request("attach", cfg)
			if ev := k.event("process"); ev.body().str("startMethod") != "attach" {
				t.Fatalf("child process event: %v", ev.body())
			}
			k.event("initialized")
			k.request("setBreakpoints", msg{"source": msg{"path": child}, "breakpoints": []msg{{"line": 7}}})
			k.request("configurationDone", nil)
			for i, want := range []string{"0", "1"} {
				reason, top := k.stopped()
				loc := k.locals(top.num("id"))
				if reason != "breakpoint" || top.num("line") != 7 || filepath.Base(top["source"].(map[string]any)["path"].(string)) != "spawned.py" ||
					loc["i"].str("value") != want || loc["word"].str("value") != "'naïve'" {
					t.Fatalf("child stop %d: %s %v i=%s word=%s", i+1, reason, top, loc["i"].str("value"), loc["word"].str("value"))
				}
				if i == 0 {
					k.request("continue", msg{"threadId": 1})
				}
			}
			k.request("setBreakpoints", msg{"source": msg{"path": child}, "breakpoints": []msg{}})
			k.request("continue", msg{"threadId": 1})
			k.expectExit(4)
			c.expectExit(0)
			if !strings.Contains(c.output.String(), "child said: n|na|naï exit 4") {
				t.Fatalf("parent output: %q", c.output.String())
			}
		})
	}
}

// A child made by os.fork (multiprocessing's fork method) becomes a child
// session the same way: it waits, right after the fork, for the session
// that attaches.
func TestForkedChildSession(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "forker.py", minor)
			c := newClient(t)
			c.request("initialize", msg{"adapterID": "pyreplay", "linesStartAt1": true, "columnsStartAt1": true,
				"pathFormat": "path", "supportsStartDebuggingRequest": true})
			c.request("launch", msg{"program": f.prog, "cwd": f.dir, "python": f.py, "db": f.db})
			c.event("initialized")
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 10}}})
			c.request("configurationDone", nil)
			_, cfg := c.startDebugging()

			k := newClient(t)
			k.request("initialize", msg{"adapterID": "pyreplay", "linesStartAt1": true, "columnsStartAt1": true, "pathFormat": "path"})
			k.request("attach", cfg)
			k.event("initialized")
			k.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 10, "condition": "i == 2"}}})
			k.request("configurationDone", nil)
			reason, top := k.stopped()
			loc := k.locals(top.num("id"))
			if reason != "breakpoint" || top.num("line") != 10 || loc["i"].str("value") != "2" || loc["total"].str("value") != "1" {
				t.Fatalf("forked child stop: %s %v i=%s total=%s", reason, top, loc["i"].str("value"), loc["total"].str("value"))
			}
			k.request("continue", msg{"threadId": 1})
			k.expectExit(3) // (multiprocessing ends it with os._exit(3))
			c.expectExit(0)
			if !strings.Contains(c.output.String(), "child total 14") || !strings.Contains(c.output.String(), "exit 3") {
				t.Fatalf("parent output: %q", c.output.String())
			}
		})
	}
}
