package dap_test

import (
	"testing"
)

// A generator's frame is one frame of the history across its yields:
// stepping back from its first line after a resumption reaches its
// previous yield (with its values then), not the line that resumed it.
func TestLineHistoryGeneratorYields(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "gensteps.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"gensteps.py": {8}}, nil)
			c.stopped()
			c.request("continue", msg{"threadId": 1})
			if _, top := c.stopped(); top.num("line") != 8 {
				t.Fatalf("second hit: %v", top)
			}
			c.stepBackTo(7)
			loc := c.stepBackTo(9)
			if v := loc["total"].str("value"); v != "1" {
				t.Fatalf("total at the previous yield: %s", v)
			}
			c.stepBackTo(8)
			c.request("terminate", nil)
		})
	}
}

// Two generators of one function, suspended at a stop (an anchor of the
// history) and resumed after it: stepping back from one's first line
// after its resumption reaches its own previous yield, before the
// anchor, with its values then (not the other's, not its caller's line).
// The breakpoints are cleared first: the generator's code is traced
// before the anchor because the window after it resumed its frame.
func TestLineHistoryGeneratorAcrossAnchor(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "gentwo.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"gentwo.py": {8, 18}}, nil)
			// 8 (small, x 1), 8 (big, x 10), 8 (small, x 2), 18, 8 (big, x 20)
			c.stopped()
			var top msg
			for _, want := range []int{8, 8, 18, 8} {
				c.request("continue", msg{"threadId": 1})
				if _, top = c.stopped(); top.num("line") != want {
					t.Fatalf("stopped at %v, not line %d", top, want)
				}
			}
			if x := c.locals(top.num("id"))["x"].str("value"); x != "20" {
				t.Fatalf("x at the last stop: %s", x)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.stepBackTo(7)
			loc := c.stepBackTo(9)
			if v, x := loc["total"].str("value"), loc["x"].str("value"); v != "10" || x != "10" {
				t.Fatalf("big's previous yield: total %s, x %s (want 10, 10)", v, x)
			}
			loc = c.stepBackTo(8)
			if v := loc["total"].str("value"); v != "0" {
				t.Fatalf("big's first line 8: total %s", v)
			}
			c.request("terminate", nil)
		})
	}
}

// A generator dropped unfinished is closed when it goes (its finally block
// prints then), in a re-execution of the past as in the run: going back by
// line from the exception reaches the loop's lines with their values (a
// re-execution that held the generator's frame would print at another
// moment, and not recognise the stop).
func TestLineHistoryDroppedGenerator(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} { // (frames before 3.11, 3.11's, sys.monitoring)
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "abandon.py", minor)
			c := newClient(t)
			c.launchToException(f, 26)
			for _, want := range []struct {
				line  int
				total string
			}{{23, "3"}, {25, "3"}, {24, "2"}, {23, "2"}} {
				if v := c.stepBackTo(want.line)["total"].str("value"); v != want.total {
					t.Fatalf("total at line %d: %s, want %s", want.line, v, want.total)
				}
			}
			// the generator's own code traced: its frames are the history's
			c.request("continue", msg{"threadId": 1})
			if reason, _ := c.stopped(); reason != "exception" {
				t.Fatalf("continue to the present: %s", reason)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 9}}})
			c.reverseContinueTo(9, "i", "1", "0") // (its last yields)
			c.request("terminate", nil)
		})
	}
}

// A stop at a raised exception that the program catches (the "raised"
// filter): its frame goes on and changes its locals after the stop, and
// going back by line from the stop still reaches its earlier lines (the
// stop is recognised by the locals it had there).
func TestLineHistoryCaughtException(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "caught.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, []string{"raised"})
			reason, top := c.stopped()
			if reason != "exception" || top.num("line") != 9 {
				t.Fatalf("the raised exception: %s %v", reason, top)
			}
			loc := c.stepBackTo(8)
			if loc["r"].str("value") != "'x'" || loc["good"].str("value") != "[1]" {
				t.Fatalf("at line 8: r %s, good %s", loc["r"].str("value"), loc["good"].str("value"))
			}
			c.stepBackTo(7)
			c.request("terminate", nil)
		})
	}
}
