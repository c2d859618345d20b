package dap_test

import (
	"strings"
	"testing"
)

// A breakpoint, the stack, variables, stepping, time travel, continue to the end.
func TestLiveBreakpointStepAndBack(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
	reason, top := c.stopped()
	if reason != "breakpoint" || top.num("line") != 20 {
		t.Fatalf("stopped %s at %v", reason, top)
	}
	loc := c.locals(top.num("id"))
	if loc["acc"].str("value") != "0" || loc["i"].str("value") != "0" {
		t.Fatalf("locals %v", loc)
	}
	c.request("next", msg{"threadId": 1})
	reason, top = c.stopped()
	if reason != "step" || top.num("line") != 21 {
		t.Fatalf("after next: %s at line %d", reason, top.num("line"))
	}
	c.request("stepBack", msg{"threadId": 1})
	_, top = c.stopped()
	if top.num("line") != 20 {
		t.Fatalf("after stepBack: line %d", top.num("line"))
	}
	// no breakpoint between here and the live stop: continue runs live again
	c.request("continue", msg{"threadId": 1})
	_, top = c.stopped()
	loc = c.locals(top.num("id"))
	if top.num("line") != 20 || loc["i"].str("value") != "1" {
		t.Fatalf("second hit: line %d locals %v", top.num("line"), loc)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
	if !strings.Contains(c.output.String(), "done 10 3") {
		t.Fatalf("output: %q", c.output.String())
	}
}
