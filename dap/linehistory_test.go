package dap_test

import (
	"strings"
	"testing"
)

// "lineHistory": the program dies with an uncaught exception and nothing
// stopped before it: Step Back visits exactly the previous line events of
// the failing function (its loop header included), each with the locals
// CPython had at that line, from its first line back to the caller's;
// going forward walks that history back to the exception.
func TestLineHistoryStepBack(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "parse_fail.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true}, nil, nil)
			reason, top := c.stopped()
			if reason != "exception" || top.num("line") != 8 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			type want struct {
				fn        string
				line      int
				r, out, k string
			}
			wants := []want{
				{"parse", 7, "'c=x'", "[('a', 1), ('b', 2)]", "'b'"},
				{"parse", 6, "'b=2'", "[('a', 1), ('b', 2)]", "'b'"},
				{"parse", 8, "'b=2'", "[('a', 1)]", "'b'"},
				{"parse", 7, "'b=2'", "[('a', 1)]", "'a'"},
				{"parse", 6, "'a=1'", "[('a', 1)]", "'a'"},
				{"parse", 8, "'a=1'", "[]", "'a'"},
				{"parse", 7, "'a=1'", "[]", ""},
				{"parse", 6, "", "[]", ""},
				{"parse", 5, "", "", ""},
				{"main", 14, "", "", ""},
			}
			for i, w := range wants {
				c.request("stepBack", msg{"threadId": 1})
				_, top = c.stopped()
				loc := c.locals(top.num("id"))
				name := strings.SplitN(top.str("name"), " ", 2)[0]
				if name != w.fn || top.num("line") != w.line || loc["r"].str("value") != w.r || loc["out"].str("value") != w.out || loc["k"].str("value") != w.k {
					t.Fatalf("step back %d: %s:%d r=%s out=%s k=%s, want %+v", i+1, name, top.num("line"),
						loc["r"].str("value"), loc["out"].str("value"), loc["k"].str("value"), w)
				}
			}
			if v := c.locals(top.num("id"))["rows"].str("value"); v != "['a=1', 'b=2', 'c=x']" {
				t.Fatalf("main's rows at line 14: %s", v)
			}
			// forward again: the same lines, up to the exception
			for i := len(wants) - 2; i >= 0; i-- {
				c.request("next", msg{"threadId": 1})
				_, top = c.stopped()
				if top.num("line") != wants[i].line {
					t.Fatalf("forward to %d: at %d", wants[i].line, top.num("line"))
				}
			}
			c.request("next", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 8 || strings.Contains(top.str("name"), "[") {
				t.Fatalf("back at the exception, live: %v", top)
			}
			c.request("continue", msg{"threadId": 1})
			c.expectExit(1)
		})
	}
}
