package dap_test

import (
	"strconv"
	"testing"
)

// Reverse Continue to a breakpoint set after the stop on a hot line (run
// 30,000 times before the exception) reaches its last run, then the one
// before; a breakpoint with a condition that held far back in the loop
// (beyond the few events a Reverse Continue's window keeps before the
// last hit) is reached with its values then, and Step Back and Continue
// go on from there as they would anywhere.
func TestLineHistoryReverseHotLine(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12"} { // (settrace, sys.monitoring)
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "hotloop.py", minor)
			c := newClient(t)
			c.launchToException(f, 24)
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 9}}})
			c.reverseContinueTo(9, "i", "29999", "29998")
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 15, "condition": "i == n - 700"}}})
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top := c.stopped()
			if reason != "breakpoint" || top.num("line") != 15 {
				t.Fatalf("reverseContinue to the conditional breakpoint: %s %v", reason, top)
			}
			want := 0 // checksum's total before i == 29300
			for j := 0; j < 29300; j++ {
				want += j * j % 7
			}
			loc := c.locals(top.num("id"))
			if loc["i"].str("value") != "29300" || loc["total"].str("value") != strconv.Itoa(want) {
				t.Fatalf("at the conditional hit: i %s total %s (want 29300, %d)", loc["i"].str("value"), loc["total"].str("value"), want)
			}
			// (the loop's header: its line event comes before i is the next)
			loc = c.stepBackTo(14)
			if loc["i"].str("value") != "29299" || loc["total"].str("value") != strconv.Itoa(want) {
				t.Fatalf("a step back from the hit: i %s total %s", loc["i"].str("value"), loc["total"].str("value"))
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			if reason, top = c.stopped(); reason != "exception" || top.num("line") != 24 {
				t.Fatalf("continue from the past to the present: %s %v", reason, top)
			}
			c.request("terminate", nil)
		})
	}
}
