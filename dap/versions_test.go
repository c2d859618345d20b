package dap_test

import (
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// The core live flow on every installed CPython (hooks and tracing on
// 3.8-3.11, sys.monitoring on 3.12+).
func TestLiveEveryPython(t *testing.T) {
	for _, py := range testutil.Pythons(t) {
		py := py
		t.Run(py.Minor, func(t *testing.T) {
			f := setup(t, "basic.py", py.Minor)
			c := newClient(t)
			c.launch(f, msg{"timeTravel": false}, map[string][]int{"basic.py": {20}}, nil) // (history by stops)
			reason, top := c.stopped()
			if reason != "breakpoint" || top.num("line") != 20 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.request("stepIn", msg{"threadId": 1})
			_, top = c.stopped()
			if top.str("name") != "add" || top.num("line") != 11 {
				t.Fatalf("stepIn: %v", top)
			}
			c.request("next", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 12 {
				t.Fatalf("next: %v", top)
			}
			// stepOut: back on the calling line, the result not assigned
			// yet (as debugpy), then on to the next line
			c.request("stepOut", msg{"threadId": 1})
			_, top = c.stopped()
			if top.str("name") != "main" || top.num("line") != 20 || c.locals(top.num("id"))["acc"].str("value") != "0" {
				t.Fatalf("stepOut: %v", top)
			}
			c.request("next", msg{"threadId": 1})
			_, top = c.stopped()
			if top.str("name") != "main" || top.num("line") != 21 || c.locals(top.num("id"))["acc"].str("value") != "0" {
				t.Fatalf("next after stepOut: %v", top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 11, "condition": "b == 3"}}})
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 11 || c.locals(top.num("id"))["b"].str("value") != "3" {
				t.Fatalf("added conditional breakpoint: %v", top)
			}
			// stepping is over: no trace function is left running
			if v := c.eval(top.num("id"), "__import__('sys').gettrace()", "watch").str("result"); v != "None" {
				t.Fatalf("trace function left after stepping: %s", v)
			}
			// history matches breakpoints by place (conditions are not
			// re-evaluated in the past): the stepIn stop in add, then the first
			c.request("reverseContinue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 11 || c.locals(top.num("id"))["b"].str("value") != "0" {
				t.Fatalf("reverseContinue: %v", top)
			}
			c.request("reverseContinue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 20 {
				t.Fatalf("reverseContinue to the first: %v", top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(3)
		})
	}
}
