package dap_test

import (
	"path/filepath"
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
			expect("stepOut", "main", 24) // back on the for line the generator yields to (as debugpy)
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
