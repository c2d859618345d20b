package dap_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Stepping through a generator, over recursion, out of a raise, and into
// another module of the program.
func TestSteppingFlow(t *testing.T) {
	for _, minor := range []string{"3.10", "3.11", "3.12"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "flow.py", minor)
			testutil.CopyFixture(t, "dap/helper.py", f.dir)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"flow.py": {24}, "helper.py": {5}}, nil)
			_, top := c.stopped()
			if top.num("line") != 24 {
				t.Fatalf("start: %v", top)
			}
			expect := func(cmd, name string, line int) {
				t.Helper()
				c.request(cmd, msg{"threadId": 1})
				_, top := c.stopped()
				if top.str("name") != name || top.num("line") != line {
					t.Fatalf("%s: in %s at %d, want %s at %d\n%s", cmd, top.str("name"), top.num("line"), name, line, c.output.String())
				}
			}
			expect("stepIn", "countdown", 5)
			expect("next", "countdown", 6)
			expect("next", "main", 25) // the yield hands a value to the loop
			expect("next", "main", 24)
			expect("stepIn", "countdown", 7) // back into the generator after its yield
			expect("stepOut", "main", 24)    // back on the for line the generator yields to (as debugpy)
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 26}}})
			c.request("continue", msg{"threadId": 1})
			c.stopped()
			expect("next", "main", 27) // over the whole recursion
			expect("next", "main", 28)
			expect("next", "main", 29) // risky raised: on to the handler
			expect("next", "main", 30)
			c.request("continue", msg{"threadId": 1})
			reason, top := c.stopped()
			if reason != "breakpoint" || top.str("name") != "scale" || top.num("line") != 5 {
				t.Fatalf("breakpoint in helper.py: %s %v", reason, top)
			}
			if p := top["source"].(map[string]any)["path"]; p != filepath.Join(f.dir, "helper.py") {
				t.Fatalf("helper source %v", p)
			}
			sc := c.request("scopes", msg{"frameId": top.num("id")}).body().list("scopes")
			if g := c.vars(sc[1].num("variablesReference")); g["SCALE"].str("value") != "10" {
				t.Fatalf("helper globals: %v", g)
			}
			if v := c.eval(top.num("id"), "x * SCALE", "repl").str("result"); v != "1030" {
				t.Fatalf("evaluate in helper: %q", v)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": filepath.Join(f.dir, "helper.py")}, "breakpoints": []msg{}})
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(0)
		})
	}
}

// asyncio: next over an await goes on in the same coroutine at its next
// line (as debugpy), the loop header included; stepIn enters the awaited
// coroutine; justMyCode hides asyncio's frames.
func TestAsyncioStepping(t *testing.T) {
	for _, minor := range []string{"3.8", "3.10", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "aio.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"aio.py": {14}}, nil)
			_, top := c.stopped()
			st := c.request("stackTrace", msg{"threadId": 1}).body().list("stackFrames")
			var names []string
			for _, s := range st {
				names = append(names, s.str("name"))
			}
			// the coroutines with the task that runs them (asyncio.run's: Task-1)
			if got := strings.Join(names, ", "); got != "worker  (task Task-1), main  (task Task-1), <module>" {
				t.Fatalf("stack with justMyCode: %s", got)
			}
			var lines []int
			for i := 0; i < 5; i++ {
				c.request("next", msg{"threadId": 1})
				_, top = c.stopped()
				if !strings.HasPrefix(top.str("name"), "worker") {
					t.Fatalf("next %d left the coroutine: %v", i, top)
				}
				lines = append(lines, top.num("line"))
			}
			if fmt.Sprint(lines) != "[15 13 14 15 13]" {
				t.Fatalf("next over awaits: %v, want [15 13 14 15 13]", lines)
			}
			c.request("next", msg{"threadId": 1})
			c.stopped()
			c.request("stepIn", msg{"threadId": 1})
			_, top = c.stopped()
			if !strings.HasPrefix(top.str("name"), "fetch") || top.num("line") != 7 {
				t.Fatalf("stepIn into the awaited coroutine: %v", top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(0)
			if !strings.Contains(c.output.String(), "total 6 ticks 3") {
				t.Fatalf("output: %q", c.output.String())
			}
		})
	}
}
