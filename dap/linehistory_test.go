package dap_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/session"
)

// "lineHistory": the program dies with an uncaught exception and nothing
// stopped before it. Step Back visits exactly the previous line events of
// the failing function (its loop header included, over the calls it made),
// each with the locals CPython had at that line, from its first line back
// to the caller's; going forward walks that history back to the exception.
// A breakpoint set then in a function that has returned is reached by
// Reverse Continue at its latest hit and the one before, with the values
// then; Continue comes forward again to the exception.
func TestLineHistory(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "parse_fail.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true}, nil, nil)
			reason, top := c.stopped()
			if reason != "exception" || top.num("line") != 13 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			type want struct {
				fn        string
				line      int
				r, out, k string
			}
			wants := []want{
				{"parse", 12, "'c=x '", "[('a', 1), ('b', 2)]", "'b'"},
				{"parse", 11, "' b=2'", "[('a', 1), ('b', 2)]", "'b'"},
				{"parse", 13, "' b=2'", "[('a', 1)]", "'b'"},
				{"parse", 12, "' b=2'", "[('a', 1)]", "'a'"},
				{"parse", 11, "'a=1'", "[('a', 1)]", "'a'"},
				{"parse", 13, "'a=1'", "[]", "'a'"},
				{"parse", 12, "'a=1'", "[]", ""},
				{"parse", 11, "", "[]", ""},
				{"parse", 10, "", "", ""},
				{"main", 19, "", "", ""},
			}
			for i, w := range wants {
				c.request("stepBack", msg{"threadId": 1})
				_, top = c.stopped()
				loc := c.locals(top.num("id"))
				name := strings.SplitN(top.str("name"), " ", 2)[0]
				if name != w.fn || top.num("line") != w.line || loc["r"].str("value") != w.r || loc["out"].str("value") != w.out || loc["k"].str("value") != w.k {
					t.Fatalf("step back %d: %s:%d r=%s out=%s k=%s, want %+v\nOUTPUT:%s", i+1, name, top.num("line"),
						loc["r"].str("value"), loc["out"].str("value"), loc["k"].str("value"), w, c.output.String())
				}
			}
			if v := c.locals(top.num("id"))["rows"].str("value"); v != "['a=1', ' b=2', 'c=x ']" {
				t.Fatalf("main's rows at line 19: %s", v)
			}
			// more than the views: the Debug Console evaluates on the program
			// as it was at that line (made a recorded snapshot, once)
			if v := c.eval(top.num("id"), "sum(len(r) for r in rows) * 10", "repl").str("result"); v != "110" {
				t.Fatalf("evaluate on a line of the past: %q", v)
			}
			// on back to the program's first line: the start of the history says so
			lines := []int{}
			for n := 0; ; n++ {
				c.request("stepBack", msg{"threadId": 1})
				var ev msg
				ev, top = c.stoppedEvent()
				if strings.HasPrefix(ev.str("description"), "start of history") {
					break
				}
				lines = append(lines, top.num("line"))
				if n > 20 {
					t.Fatalf("no start of history after %v", lines)
				}
			}
			if fmt.Sprint(lines) != "[18 23 17 9 4 1]" || top.num("line") != 1 {
				t.Fatalf("back to the start: %v, then at %d", lines, top.num("line"))
			}
			// a module's line of the past: its scopes are a list (no locals)
			if sc, ok := c.request("scopes", msg{"frameId": top.num("id")}).body()["scopes"].([]any); !ok {
				t.Fatalf("scopes at the module's first line: %v", sc)
			}
			// forward again by line: over the module's statements, into
			// main() and on to its line 19, into parse(), then the same
			// lines as going back, up to the exception
			for i, kind := range []string{"next", "next", "next", "next", "stepIn", "next"} {
				c.request(kind, msg{"threadId": 1})
				_, top = c.stopped()
				if want := []int{4, 9, 17, 23, 18, 19}[i]; top.num("line") != want {
					t.Fatalf("forward %d (%s): at %d, want %d", i+1, kind, top.num("line"), want)
				}
			}
			for i := len(wants) - 2; i >= 0; i-- {
				kind := "next"
				if i == len(wants)-2 {
					kind = "stepIn"
				}
				c.request(kind, msg{"threadId": 1})
				_, top = c.stopped()
				if top.num("line") != wants[i].line {
					t.Fatalf("forward to %d: at %d", wants[i].line, top.num("line"))
				}
			}
			c.request("next", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 13 || strings.Contains(top.str("name"), "[") {
				t.Fatalf("back at the exception, live: %v", top)
			}
			// where a value came from: :history in the Debug Console
			h := c.eval(top.num("id"), ":history out", "repl").str("result")
			if !strings.Contains(h, "out took 3 value(s):") || !strings.Contains(h, "[('a', 1), ('b', 2)]  (from line 13)") ||
				!strings.Contains(h, "[]  (from line 10)") {
				t.Fatalf(":history out:\n%s", h)
			}
			// and there on request: the line that gave out its second value
			c.eval(top.num("id"), ":history out 2", "repl")
			_, at := c.stopped()
			if at.num("line") != 13 || c.locals(at.num("id"))["out"].str("value") != "[]" {
				t.Fatalf(":history out 2 went to %v", at)
			}
			c.request("next", msg{"threadId": 1})
			if _, at = c.stopped(); at.num("line") != 11 || c.locals(at.num("id"))["out"].str("value") != "[('a', 1)]" {
				t.Fatalf("next after :history out 2: %v", at)
			}
			c.request("continue", msg{"threadId": 1})
			if reason, _ := c.stopped(); reason != "exception" {
				t.Fatalf("continue to the present: %s", reason)
			}
			// a breakpoint in clean(), which has returned: its latest hit, then the one before
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 5}}})
			for _, r := range []string{"'c=x '", "' b=2'"} {
				c.request("reverseContinue", msg{"threadId": 1})
				reason, top = c.stopped()
				if reason != "breakpoint" || !strings.HasPrefix(top.str("name"), "clean") || top.num("line") != 5 {
					t.Fatalf("reverseContinue: %s %v", reason, top)
				}
				if v := c.eval(top.num("id"), "r", "watch").str("result"); v != r {
					t.Fatalf("evaluate r at the hit: %s, want %s", v, r)
				}
			}
			// forward: the later hit, then the exception
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 5 || c.eval(top.num("id"), "r", "watch").str("result") != "'c=x '" {
				t.Fatalf("continue to the later hit: %v", top)
			}
			c.request("continue", msg{"threadId": 1})
			reason, top = c.stopped()
			if reason != "exception" || top.num("line") != 13 {
				t.Fatalf("continue back to the exception: %s %v", reason, top)
			}
			// a condition is evaluated against the past: only the hit where it held
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 5, "condition": "r.startswith(' ')"}}})
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top = c.stopped()
			if v := c.eval(top.num("id"), "r", "watch").str("result"); reason != "breakpoint" || top.num("line") != 5 || v != "' b=2'" {
				t.Fatalf("reverseContinue to the conditional breakpoint: %s %v r=%s", reason, top, v)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			if reason, top = c.stopped(); reason != "exception" {
				t.Fatalf("continue from the past to the present: %s %v", reason, top)
			}
			c.request("continue", msg{"threadId": 1})
			c.expectExit(1)
		})
	}
}

// Going back never repeats the program's effects: the re-execution's
// writes go to private copies (a log file appended to keeps its content).
func TestLineHistoryNoEffects(t *testing.T) {
	for _, minor := range []string{"3.11", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "log_fail.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true}, nil, nil)
			c.stopped()
			log := filepath.Join(f.dir, "log.txt")
			before, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for i := 0; i < 3; i++ {
				c.request("stepBack", msg{"threadId": 1})
				_, top := c.stopped()
				lines = append(lines, top.num("line"))
			}
			if fmt.Sprint(lines) != "[8 7 6]" {
				t.Fatalf("step backs: %v\n%s", lines, c.output.String())
			}
			after, _ := os.ReadFile(log)
			if string(after) != string(before) {
				t.Fatalf("log.txt changed by going back: %q, was %q", after, before)
			}
			c.request("terminate", nil)
		})
	}
}

// The same through pyreplay record --trace and a replay: the recording's
// snapshot at the program's first line is what the past is re-executed from.
func TestLineHistoryReplay(t *testing.T) {
	for _, minor := range []string{"3.11", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "parse_fail.py", minor)
			r := testutil.Cmd{Dir: f.dir}.Pyreplay(t, "record", "--trace", "--python", f.py, "--db", f.db, "parse_fail.py")
			// (the first line's anchor, periodic ones if the run lasts, the exception)
			last := regexp.MustCompile(`recorded \d+ snapshots: snap-1\.\.(snap-\d+) in`).FindStringSubmatch(r.Stderr)
			if r.Code != 1 || last == nil {
				t.Fatalf("record --trace: %+v", r)
			}
			c := newClient(t)
			c.request("initialize", msg{"adapterID": "pyreplay"})
			c.request("launch", msg{"recording": f.db, "snapshot": last[1], "lineHistory": true})
			c.event("initialized")
			c.request("configurationDone", nil)
			c.stopped()
			var got []string
			for i := 0; i < 4; i++ {
				c.request("stepBack", msg{"threadId": 1})
				_, top := c.stopped()
				got = append(got, fmt.Sprintf("%d %s", top.num("line"), c.locals(top.num("id"))["r"].str("value")))
			}
			if want := "[12 'c=x ' 11 ' b=2' 13 ' b=2' 12 ' b=2']"; fmt.Sprint(got) != want {
				t.Fatalf("step backs in the replay: %v, want %s", got, want)
			}
		})
	}
}

// A live session with line history snapshots the program periodically
// (anchors): going back from a stop re-executes from the latest one before
// it, not from the program's start.
func TestLineHistoryAnchors(t *testing.T) {
	f := setup(t, "long_fail.py", "3.12")
	c := newClient(t)
	c.launch(f, msg{"lineHistory": true}, nil, nil)
	reason, top := c.stopped()
	if reason != "exception" || top.num("line") != 16 {
		t.Fatalf("stop: %s %v", reason, top)
	}
	c.request("stepBack", msg{"threadId": 1})
	ev, top := c.stoppedEvent()
	desc := ev.str("description")
	if top.num("line") != 15 || !strings.Contains(desc, "re-executed from snap-") || regexp.MustCompile(`from snap-1\b`).MatchString(desc) {
		t.Fatalf("step back: %q at %d: want a re-execution from a periodic anchor, not the first line's snap-1", desc, top.num("line"))
	}
	c.request("terminate", nil)
}

// A stop between two line events (a step out's, back on the calling line)
// cannot be reached by re-executing to a line: Step Back says so and goes
// to the previous stop instead.
func TestLineHistoryFallsBackToStops(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, msg{"lineHistory": true}, map[string][]int{"basic.py": {20}}, nil)
	c.stopped()
	c.request("stepIn", msg{"threadId": 1})
	c.stopped()
	c.request("stepOut", msg{"threadId": 1})
	_, top := c.stopped()
	if top.num("line") != 20 {
		t.Fatalf("stepOut: %v", top)
	}
	c.request("stepBack", msg{"threadId": 1})
	_, top = c.stopped()
	if !strings.HasPrefix(top.str("name"), "add") || top.num("line") != 11 || !strings.Contains(c.output.String(), "cannot go back by line") {
		t.Fatalf("step back from a step out's stop: %v\n%s", top, c.output.String())
	}
	c.request("terminate", nil)
}

// Resume from Here on a line of the past: it is made a recorded snapshot
// (re-executed to a breakpoint at that line's hit), and a fresh process
// continues from there.
func TestLineHistoryResumeFromALine(t *testing.T) {
	f := setup(t, "straight.py", "3.12")
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"straight.py": {15}}, nil) // (time travel is on by default)
	c.stopped()
	c.request("stepBack", msg{"threadId": 1})
	ev, top := c.stoppedEvent()
	loc := c.locals(top.num("id"))
	if top.num("line") != 14 || loc["a"].str("value") != "6" || !strings.Contains(ev.str("description"), "re-executed") {
		t.Fatalf("step back: %v %v %v", ev, top, loc)
	}
	c.request("pyreplayResume", nil)
	c.event("continued")
	_, top = c.stopped()
	if top.num("line") != 14 || c.locals(top.num("id"))["a"].str("value") != "6" || strings.Contains(top.str("name"), "[") {
		t.Fatalf("resumed from line 14 of the past: %v", top)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(0)
	if !strings.Contains(c.output.String(), "6 15") {
		t.Fatalf("output of the resumed process: %q", c.output.String())
	}
}

// Going back traces only the stop's frames' code and the breakpoints':
// Step Back walks the failing frame and its caller; a breakpoint set
// later in a function that is on no stop's stack re-executes with it
// traced, and its hit shows the whole stack of callers (a caller outside
// the traced code as it was at the call).
func TestLineHistoryScope(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "history_callers.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, nil)
			reason, top := c.stopped()
			if reason != "exception" || top.num("line") != 6 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			var lines []int
			for i := 0; i < 3; i++ {
				c.request("stepBack", msg{"threadId": 1})
				_, top = c.stopped()
				lines = append(lines, top.num("line"))
			}
			if fmt.Sprint(lines) != "[21 20 19]" {
				t.Fatalf("step back from the exception: %v, want [21 20 19]", lines)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 12}}})
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top = c.stopped()
			loc := c.locals(top.num("id"))
			if reason != "breakpoint" || top.num("line") != 12 || loc["s"].str("value") != "Decimal('1.00')" || !strings.Contains(loc["item"].str("value"), "'2'") {
				t.Fatalf("reverseContinue into total(): %s %v s=%s item=%s", reason, top, loc["s"].str("value"), loc["item"].str("value"))
			}
			st := c.request("stackTrace", msg{"threadId": 1}).body().list("stackFrames")
			var names []string
			for _, s := range st {
				names = append(names, strings.SplitN(s.str("name"), " ", 2)[0])
			}
			// (3.8-3.11 run the comprehension in a frame of its own)
			got := strings.Replace(strings.Join(names, ","), "main.<locals>.<listcomp>", "<listcomp>", 1)
			if got != "total,main,<module>" && got != "total,<listcomp>,main,<module>" {
				t.Fatalf("stack at the hit: %s", got)
			}
			if v := c.locals(st[len(st)-2].num("id"))["orders"].str("value"); !strings.Contains(v, "'0.25'") {
				t.Fatalf("main's orders at the hit: %s", v)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			if reason, _ = c.stopped(); reason != "exception" {
				t.Fatalf("continue to the present: %s", reason)
			}
			c.request("continue", msg{"threadId": 1})
			c.expectExit(1)
		})
	}
}

// A window keeps only its last line events (made small here): going back
// crosses into earlier windows, each a re-execution up to the first event
// of the one after it, and meets exactly the events one window holding
// them all would: Reverse Continue to every hit of breakpoints set after
// the code ran, Step Back through a loop frame, Continue forward across
// the windows back to the exception; hit conditions counted from the
// program's start.
func TestLineHistoryAcrossWindows(t *testing.T) {
	defer func(e, f int) { session.WindowEvents, session.WindowForkEvery = e, f }(session.WindowEvents, session.WindowForkEvery)
	session.WindowEvents, session.WindowForkEvery = 25, 40
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "ledger.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true}, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 24 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			cents := func(k int) string { return fmt.Sprint(100 + 7*k) }
			at := func(what string, line int, k int, top msg) {
				t.Helper()
				if got := c.locals(top.num("id"))["cents"].str("value"); top.num("line") != line || got != cents(k) {
					t.Fatalf("%s: line %d cents=%s, want line %d cents=%s", what, top.num("line"), got, line, cents(k))
				}
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 8}, {"line": 15}}})
			// backwards through the hits: tax's line, then post's call of it, entry by entry
			k := 119
			for i := 0; i < 30; i++ {
				c.request("reverseContinue", msg{"threadId": 1})
				reason, top := c.stopped()
				if reason != "breakpoint" {
					t.Fatalf("reverseContinue %d: %s", i+1, reason)
				}
				if i%2 == 0 {
					at(fmt.Sprintf("reverseContinue %d", i+1), 8, k, top)
				} else {
					at(fmt.Sprintf("reverseContinue %d", i+1), 15, k, top)
					k--
				}
			}
			// Step Back in post's frame, over its calls of tax: the loop header
			// (cents still the entry before) and the line before it
			for i := 0; i < 12; i++ {
				c.request("stepBack", msg{"threadId": 1})
				_, top := c.stopped()
				if i%2 == 0 {
					at(fmt.Sprintf("step back %d", i+1), 14, k, top)
				} else {
					at(fmt.Sprintf("step back %d", i+1), 15, k, top)
					k--
				}
			}
			// forward to every later hit of tax's line, then the exception
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 8}}})
			for k++; k < 120; k++ {
				c.request("continue", msg{"threadId": 1})
				reason, top := c.stopped()
				if reason != "breakpoint" {
					t.Fatalf("continue to entry %d: %s %v", k, reason, top)
				}
				at("continue", 8, k, top)
			}
			c.request("continue", msg{"threadId": 1})
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 24 {
				t.Fatalf("continue back to the exception: %s %v", reason, top)
			}
			// hit conditions count the hits from the program's start, as a
			// breakpoint set before it ran would have
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 8, "hitCondition": ">=118"}}})
			for _, k := range []int{119, 118, 117} {
				c.request("reverseContinue", msg{"threadId": 1})
				reason, top := c.stopped()
				if reason != "breakpoint" {
					t.Fatalf("reverseContinue to hit %d: %s", k+1, reason)
				}
				at(fmt.Sprintf("reverseContinue to hit %d (>=118)", k+1), 8, k, top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 8, "hitCondition": "50"}}})
			c.request("reverseContinue", msg{"threadId": 1})
			if reason, top := c.stopped(); reason != "breakpoint" {
				t.Fatalf("reverseContinue to hit 50: %s", reason)
			} else {
				at("reverseContinue to hit 50", 8, 49, top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 24 {
				t.Fatalf("continue back to the exception again: %s %v", reason, top)
			}
			c.request("continue", msg{"threadId": 1})
			c.expectExit(1)
		})
	}
}

// A re-execution's forked copies (made small here, so that one is made
// every few entries) see the files the run writes as they were at their
// fork: the copy that records the last events reads back the journal it
// wrote, not one the counting run already filled, and reaches the stop.
func TestLineHistoryForkedFiles(t *testing.T) {
	defer func(e, f int) { session.WindowEvents, session.WindowForkEvery = e, f }(session.WindowEvents, session.WindowForkEvery)
	session.WindowEvents, session.WindowForkEvery = 30, 50
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "journal.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true}, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 26 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.request("stepBack", msg{"threadId": 1})
			_, top := c.stopped()
			if got := c.locals(top.num("id"))["rows"].str("value"); top.num("line") != 25 || !strings.HasPrefix(got, "['écriture-0;0', ") {
				t.Fatalf("step back: line %d rows=%s", top.num("line"), got)
			}
			// the last entry written, in run()'s callee
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 6}}})
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top := c.stopped()
			if got := c.locals(top.num("id"))["entry"].str("value"); reason != "breakpoint" || top.num("line") != 6 || got != "('écriture-399', 11)" {
				t.Fatalf("reverse continue: %s line %d entry=%s", reason, top.num("line"), got)
			}
			c.request("terminate", nil)
		})
	}
}

// A stop after a with-block closed the file run() wrote (line 15) is the
// anchor of the stretch up to the next stop (line 23): a re-execution
// resumes it, the closed file as the program had it (its name, mode and
// encoding; opened for writing, it is not one of the files the re-execution
// writes in private), and steps back from line 23 to the line before it
// in main(): the with statement's exit (3.10+) or the read inside it.
func TestLineHistoryFromClosedFile(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			// (a periodic anchor taken between the two stops would be the
			// stretch's anchor instead: the session is run again)
			for attempt := 1; ; attempt++ {
				f := setup(t, "journal.py", minor)
				c := newClient(t)
				c.launch(f, msg{"lineHistory": true}, map[string][]int{"journal.py": {15, 23}}, nil)
				ev, top := c.stoppedEvent()
				if got := c.locals(top.num("id"))["journal"].str("value"); top.num("line") != 15 || got != "<_io.TextIOWrapper name='journal.txt' mode='w' encoding='utf-8'>" {
					t.Fatalf("first stop: line %d journal=%s", top.num("line"), got)
				}
				at15 := strings.TrimSuffix(ev.str("description"), " (live)")
				c.request("continue", msg{"threadId": 1})
				if reason, top := c.stopped(); reason != "breakpoint" || top.num("line") != 23 {
					t.Fatalf("second stop: %s %v", reason, top)
				}
				c.request("stepBack", msg{"threadId": 1})
				ev, top = c.stoppedEvent()
				desc := ev.str("description")
				if !strings.Contains(desc, "re-executed from "+at15) && strings.Contains(desc, "re-executed from") && attempt < 3 {
					c.request("terminate", nil)
					continue
				}
				loc := c.locals(top.num("id"))
				// (the with statement's line again as it exits, from 3.10 on)
				want := 21
				if minor == "3.8" || minor == "3.9" {
					want = 22
				}
				if top.num("line") != want || !strings.Contains(desc, "re-executed from "+at15) ||
					loc["journal"].str("value") != "<_io.TextIOWrapper name='journal.txt' mode='r' encoding='utf-8'>" {
					t.Fatalf("step back from line 23: %q line %d journal=%v\n%s", desc, top.num("line"), loc["journal"], c.output.String())
				}
				c.request("terminate", nil)
				return
			}
		})
	}
}

// Stepping back through main() crosses the periodic anchors taken inside
// score(), a hot function of five lines: each stretch before an anchor is
// re-executed tracing main's code and score's at the anchor's line alone,
// and main's line events come back exactly, with its locals then, to its
// first line and its caller's.
func TestLineHistoryAcrossAnchors(t *testing.T) {
	defer func(n int) { session.FrameCrossings = n }(session.FrameCrossings)
	session.FrameCrossings = 1000 // (a loaded machine takes more anchors in the same run)
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "crunch.py", minor)
			c := newClient(t)
			// a few tenths of a second: several anchors
			n := 600000
			if minor >= "3.12" {
				n = 1500000
			}
			c.launch(f, msg{"lineHistory": true, "args": []string{fmt.Sprint(n)}}, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 27 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			first := 0 // sum(score(i) for i in range(n // 2))
			for i := 0; i < n/2; i++ {
				b := i * 3 % 7
				if b > 3 {
					b--
				}
				first += b
			}
			want := []int{26, 25, 27, 26, 25, 27, 26, 25, 24, 23, 22, 31}
			var got []int
			for i := range want {
				c.request("stepBack", msg{"threadId": 1})
				ev, top := c.stoppedEvent()
				got = append(got, top.num("line"))
				switch top.num("line") {
				case 24:
					loc := c.locals(top.num("id"))
					if loc["first"].str("value") != fmt.Sprint(first) || loc["t"] != nil {
						t.Fatalf("step back %d at 24: first=%v t=%v", i+1, loc["first"], loc["t"])
					}
				case 23:
					loc := c.locals(top.num("id"))
					if loc["n"].str("value") != fmt.Sprint(n) || loc["first"] != nil {
						t.Fatalf("step back %d at 23: n=%v first=%v", i+1, loc["n"], loc["first"])
					}
				case 31:
					if !strings.Contains(ev.str("description"), "re-executed") {
						t.Fatalf("step back to the caller: %q", ev.str("description"))
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("step backs: %v, want %v\n%s", got, want, c.output.String())
			}
			c.request("terminate", nil)
		})
	}
}

// A hit condition counts the hits since the program's start: once the
// history no longer reaches it (a short "history" dropped the first line's
// anchor), Reverse Continue to such a breakpoint is refused with a message
// saying so, and the cursor stays; without the hit condition it goes.
func TestLineHistoryHitConditionBeyondHistory(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "crunch.py", minor)
			c := newClient(t)
			c.launch(f, msg{"lineHistory": true, "history": "100ms", "args": []string{"3000000"}}, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 27 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 26, "hitCondition": "2"}}})
			if msg := c.requestErr("reverseContinue", msg{"threadId": 1}); !strings.Contains(msg, "hit condition") || !strings.Contains(msg, "history begins at snap-") {
				t.Fatalf("reverseContinue with a hit condition beyond the history: %q", msg)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 26}}})
			c.request("reverseContinue", msg{"threadId": 1})
			if reason, top := c.stopped(); reason != "breakpoint" || top.num("line") != 26 {
				t.Fatalf("reverseContinue: %s %v", reason, top)
			}
			c.request("terminate", nil)
		})
	}
}

// The acceptance's walk, live and in a replay of record --trace: Step
// Backs from the exception, Continue in the past to a breakpoint set then
// in a returned function, Reverse Continue to the hit before, evaluate
// there, the breakpoints changed (the cursor's own line no longer one),
// Reverse Continue past the first hit to the history's start (said), and
// Continue forward over the lines visited before (no stops of their own)
// back to the exception.
func TestLineHistoryRoundTrip(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		for _, replay := range []bool{false, true} {
			minor, replay := minor, replay
			t.Run(fmt.Sprintf("%s/replay=%v", minor, replay), func(t *testing.T) {
				f, c := parseFailSession(t, minor, replay)
				at := func(what string, line int, r string) msg {
					t.Helper()
					_, top := c.stopped()
					if got := c.locals(top.num("id"))["r"].str("value"); top.num("line") != line || got != r {
						t.Fatalf("%s: line %d r=%s, want line %d r=%s\n%s", what, top.num("line"), got, line, r, c.output.String())
					}
					return top
				}
				at("stop", 13, "'c=x '")
				for i, want := range []struct {
					line int
					r    string
				}{{12, "'c=x '"}, {11, "' b=2'"}, {13, "' b=2'"}, {12, "' b=2'"}} {
					c.request("stepBack", msg{"threadId": 1})
					at(fmt.Sprintf("step back %d", i+1), want.line, want.r)
				}
				c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 5}}})
				c.request("continue", msg{"threadId": 1})
				at("continue in the past", 5, "' b=2'")
				c.request("reverseContinue", msg{"threadId": 1})
				top := at("reverse continue", 5, "'a=1'")
				if got := c.eval(top.num("id"), "r.strip() * 2", "repl").str("result"); got != "'a=1a=1'" {
					t.Fatalf("evaluate in the past: %s", got)
				}
				// a hover of a global's attribute: more than the line's views
				if got := c.eval(top.num("id"), "clean.__name__", "hover").str("result"); got != "'clean'" {
					t.Fatalf("hover in the past: %s", got)
				}
				c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 13}}})
				c.request("reverseContinue", msg{"threadId": 1})
				ev, top := c.stoppedEvent()
				if top.num("line") == 13 || !strings.Contains(ev.str("description")+c.output.String(), "start of the history") {
					t.Fatalf("reverse continue before the first hit: %v %v\n%s", ev, top, c.output.String())
				}
				c.request("continue", msg{"threadId": 1})
				at("continue 1", 13, "'a=1'")
				c.request("continue", msg{"threadId": 1})
				at("continue 2", 13, "' b=2'")
				c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
				c.request("continue", msg{"threadId": 1})
				at("continue to the exception", 13, "'c=x '")
				c.request("terminate", nil)
			})
		}
	}
}

// Going forward from the past walks the same line events: next over a
// call, the loop's header, step in to the callee's first line, next in
// it, step out to the caller's next line, which is the exception's own:
// the present again (live) or the recorded stop (replay).
func TestLineHistoryStepForward(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		for _, replay := range []bool{false, true} {
			minor, replay := minor, replay
			t.Run(fmt.Sprintf("%s/replay=%v", minor, replay), func(t *testing.T) {
				_, c := parseFailSession(t, minor, replay)
				c.stopped()
				for i := 0; i < 4; i++ {
					c.request("stepBack", msg{"threadId": 1})
					c.stopped()
				}
				var got []string
				for _, kind := range []string{"next", "next", "next", "stepIn", "next", "stepOut"} {
					c.request(kind, msg{"threadId": 1})
					_, top := c.stopped()
					got = append(got, fmt.Sprintf("%s:%d %s", kind, top.num("line"), c.locals(top.num("id"))["r"].str("value")))
				}
				want := "[next:13 ' b=2' next:11 ' b=2' next:12 'c=x ' stepIn:5 'c=x ' next:6 'c=x ' stepOut:13 'c=x ']"
				if fmt.Sprint(got) != want {
					t.Fatalf("forward from the past: %v\nwant %s", got, want)
				}
				if !replay {
					// the present: continuing runs the program to its end
					c.request("continue", msg{"threadId": 1})
					c.event("terminated")
				}
			})
		}
	}
}

// A Step Back over a call that ran across more anchors than a step goes
// back past is refused with a message saying so (an error response), and
// the cursor stays: not a long wait, nor a silent stay.
func TestLineHistoryStepBackOverALongCall(t *testing.T) {
	defer func(n int) { session.FrameCrossings = n }(session.FrameCrossings)
	session.FrameCrossings = 2 // (however loaded the machine, work() spans more anchors)
	f := setup(t, "crunch.py", "3.12")
	c := newClient(t)
	c.launch(f, msg{"lineHistory": true, "args": []string{"6000000"}}, nil, nil)
	if reason, top := c.stopped(); reason != "exception" || top.num("line") != 27 {
		t.Fatalf("stop: %s %v", reason, top)
	}
	for i := 0; i < 8; i++ { // back to main's first line after the second call of work()
		c.request("stepBack", msg{"threadId": 1})
		c.stopped()
	}
	if msg := c.requestErr("stepBack", msg{"threadId": 1}); !strings.Contains(msg, "before a call that ran across more than") {
		t.Fatalf("step back over a long call: %q", msg)
	}
	if c.topLine() != 25 {
		t.Fatalf("the cursor moved: at %d", c.topLine())
	}
	c.request("terminate", nil)
}

// A caller's values at a line of the past are the program's then, not the
// ones at the caller's own last line: add() has just appended to fill()'s
// list, and fill()'s frame shows it (with its globals), from the line
// made a recorded snapshot when the caller's scopes are asked for.
func TestLineHistoryCallerValues(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "basket.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 19 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 7}}})
			c.request("reverseContinue", msg{"threadId": 1})
			if reason, top := c.stopped(); reason != "breakpoint" || top.num("line") != 7 {
				t.Fatalf("reverse continue: %s %v", reason, top)
			}
			frames, _ := c.request("stackTrace", msg{"threadId": 1}).body()["stackFrames"].([]any)
			var caller msg
			for _, fr := range frames {
				if m := msg(fr.(map[string]any)); strings.HasPrefix(m.str("name"), "fill") {
					caller = m
				}
			}
			if caller == nil {
				t.Fatalf("no fill() frame in %v", frames)
			}
			if got := c.locals(caller.num("id"))["items"].str("value"); got != "['pain', 'café', 'thé']" {
				t.Fatalf("fill()'s items at add()'s last line: %s", got)
			}
			scopes, _ := c.request("scopes", msg{"frameId": caller.num("id")}).body()["scopes"].([]any)
			if len(scopes) != 2 {
				t.Fatalf("fill()'s scopes at a line of the past: %v", scopes)
			}
			c.request("terminate", nil)
		})
	}
}

// parseFailSession debugs parse_fail.py to its uncaught exception: live
// (time travel on by default), or as a replay of its record --trace
// recording with "lineHistory" (its stop not yet consumed).
func parseFailSession(t *testing.T, minor string, replay bool) (fixture, *client) {
	t.Helper()
	f := setup(t, "parse_fail.py", minor)
	c := newClient(t)
	if !replay {
		c.launch(f, nil, nil, nil)
		return f, c
	}
	r := testutil.Cmd{Dir: f.dir}.Pyreplay(t, "record", "--trace", "--python", f.py, "--db", f.db, "parse_fail.py")
	last := regexp.MustCompile(`recorded \d+ snapshots: snap-1\.\.(snap-\d+) in`).FindStringSubmatch(r.Stderr)
	if r.Code != 1 || last == nil {
		t.Fatalf("record --trace: %+v", r)
	}
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"recording": f.db, "snapshot": last[1], "lineHistory": true})
	c.event("initialized")
	c.request("setExceptionBreakpoints", msg{"filters": []string{"uncaught"}})
	c.request("configurationDone", nil)
	return f, c
}

// Going back never writes the program's files, also through pathlib,
// whose accessor on 3.8-3.10 bound os.open / io.open when it was
// imported: the re-execution writes its private copy (and reads it back,
// reaching the stop), and the real report.txt keeps what was added to it
// after the run.
func TestLineHistoryPathlibWrites(t *testing.T) {
	for _, minor := range []string{"3.8", "3.10", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			// (a periodic anchor taken between report()'s write and its
			// read-back cannot be gone back from by line: the file has
			// changed since, which the refusal says; the session is run
			// again, up to three times)
			for attempt := 1; !pathlogSession(t, minor); attempt++ {
				if attempt == 3 {
					t.Fatalf("three sessions in a row had an anchor between the write and the read-back")
				}
			}
		})
	}
}

// pathlogSession is one session of TestLineHistoryPathlibWrites: false
// when going back by line was refused because report.txt changed after
// the anchor it would re-execute from.
func pathlogSession(t *testing.T, minor string) bool {
	f := setup(t, "pathlog.py", minor)
	c := newClient(t)
	defer c.request("terminate", nil)
	c.launch(f, nil, nil, nil)
	if reason, top := c.stopped(); reason != "exception" || top.num("line") != 20 {
		t.Fatalf("stop: %s %v", reason, top)
	}
	report := filepath.Join(f.dir, "report.txt")
	fh, err := os.OpenFile(report, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString("MARK\n")
	fh.Close()
	for i, want := range []int{19, 17, 16} {
		c.request("stepBack", msg{"threadId": 1})
		_, top := c.stopped()
		if i == 0 && top.num("line") == 20 && strings.Contains(c.output.String(), "report.txt (its content then: it changed after the snapshot") {
			t.Logf("an anchor between the write and the read-back: %s", c.output.String())
			return false
		}
		if top.num("line") != want {
			t.Fatalf("step back %d: line %d, want %d\n%s", i+1, top.num("line"), want, c.output.String())
		}
	}
	if b, _ := os.ReadFile(report); string(b) != "rows\né\nü\nß\nMARK\n" {
		t.Fatalf("report.txt after going back: %q", b)
	}
	return true
}
