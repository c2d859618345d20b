package dap_test

import (
	"github.com/pyreplay/pyreplay/internal/testutil"
	"strings"
	"testing"
	"time"
)

// A breakpoint, the stack, variables, stepping, time travel, continue to the end.
func TestLiveBreakpointStepAndBack(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, msg{"timeTravel": false}, map[string][]int{"basic.py": {20}}, nil) // (history by stops)
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
	// what the program printed before this stop came before its stopped event
	if !strings.Contains(c.output.String(), "acc 0\n") {
		t.Fatalf("output before the stop: %q", c.output.String())
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
	if !strings.Contains(c.output.String(), "done 10 3") {
		t.Fatalf("output: %q", c.output.String())
	}
}

// Stack, scopes, structured and paged variables, live evaluate.
func TestLiveInspect(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
	c.event("stopped")
	st := c.request("stackTrace", msg{"threadId": 1}).body()
	frames := st.list("stackFrames")
	if len(frames) != 2 || frames[0].str("name") != "main" || frames[1].str("name") != "<module>" {
		t.Fatalf("frames %v", frames)
	}
	if frames[0].num("column") != 9 || frames[1].num("line") != 27 {
		t.Fatalf("columns/lines: %v", frames)
	}
	if p := frames[0]["source"].(map[string]any)["path"]; p != f.prog {
		t.Fatalf("source path %v", p)
	}
	top := frames[0].num("id")
	scopes := c.request("scopes", msg{"frameId": top}).body().list("scopes")
	if len(scopes) != 2 || scopes[0].str("name") != "Locals" || scopes[1].str("name") != "Globals" {
		t.Fatalf("scopes %v", scopes)
	}
	loc := c.vars(scopes[0].num("variablesReference"))
	nums := loc["nums"]
	if nums.num("indexedVariables") != 250 {
		t.Fatalf("nums: %v", nums)
	}
	// a page beyond what the snapshot recorded comes from the live program
	page := c.request("variables", msg{"variablesReference": nums.num("variablesReference"), "filter": "indexed", "start": 200, "count": 3}).body().list("variables")
	if len(page) != 3 || page[0].str("name") != "[200]" || page[2].str("value") != "202" {
		t.Fatalf("page: %v", page)
	}
	data := c.vars(loc["data"].num("variablesReference"))
	point := c.vars(data["'point'"].num("variablesReference"))
	if point["x"].str("value") != "1" || point["y"].str("value") != "2" {
		t.Fatalf("point: %v", point)
	}
	glob := c.vars(scopes[1].num("variablesReference"))
	if _, ok := glob["add"]; !ok {
		t.Fatalf("globals: %v", glob)
	}
	ev := c.eval(top, "acc + 41", "hover")
	if ev.str("result") != "41" {
		t.Fatalf("evaluate: %v", ev)
	}
	ev = c.eval(top, "data['point']", "watch")
	kids := c.vars(ev.num("variablesReference"))
	if kids["x"].str("value") != "1" {
		t.Fatalf("evaluate children: %v", kids)
	}
	if msg := c.requestErr("evaluate", msg{"expression": "undefined_name", "frameId": top, "context": "repl"}); !strings.Contains(msg, "NameError") {
		t.Fatalf("evaluate error: %q", msg)
	}
	// a stale frame id fails loudly
	c.request("next", msg{"threadId": 1})
	c.event("stopped")
	if msg := c.requestErr("scopes", msg{"frameId": top}); !strings.Contains(msg, "stale") {
		t.Fatalf("stale frame: %q", msg)
	}
	c.request("disconnect", msg{"terminateDebuggee": true})
}

// stepIn, stepOut, and the step stops' snapshots.
func TestLiveStepInOut(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, msg{"timeTravel": false}, map[string][]int{"basic.py": {20}}, nil) // (stops, not lines: see linehistory_test.go)
	c.event("stopped")
	c.request("stepIn", msg{"threadId": 1})
	_, top := c.stopped()
	if top.str("name") != "add" || top.num("line") != 11 {
		t.Fatalf("stepIn: %v", top)
	}
	c.request("stepOut", msg{"threadId": 1})
	_, top = c.stopped()
	if top.str("name") != "main" || top.num("line") != 20 {
		t.Fatalf("stepOut: %v", top)
	}
	// back in time: add's frame, as it was
	c.request("stepBack", msg{"threadId": 1})
	_, top = c.stopped()
	loc := c.locals(top.num("id"))
	if top.str("name") != "add  [snap-2]" || loc["a"].str("value") != "0" || loc["b"].str("value") != "0" {
		t.Fatalf("stepBack: %v %v", top, loc)
	}
	c.request("terminate", nil)
	c.event("exited")
	c.event("terminated")
}

// condition, hitCondition, logMessage.
func TestLiveConditionsAndLogpoints(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"program": f.prog, "python": f.py, "db": f.db})
	c.event("initialized")
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{
		{"line": 20, "condition": "i == 3"},
		{"line": 11, "hitCondition": ">=5"},
		{"line": 21, "logMessage": "log acc={acc} i={i}"},
	}})
	c.request("configurationDone", nil)
	_, top := c.stopped()
	if top.num("line") != 20 || c.locals(top.num("id"))["i"].str("value") != "3" {
		t.Fatalf("condition: %v", top)
	}
	if !strings.Contains(c.output.String(), "log acc=3 i=2") {
		t.Fatalf("logpoint output: %q", c.output.String())
	}
	for _, o := range c.outputs {
		if strings.HasPrefix(o.str("output"), "log acc=") && o.str("category") != "stdout" {
			t.Fatalf("a logpoint's output is in category %q, want stdout (as debugpy)", o.str("category"))
		}
	}
	c.request("continue", msg{"threadId": 1})
	_, top = c.stopped()
	if top.num("line") != 11 || c.locals(top.num("id"))["b"].str("value") != "4" {
		t.Fatalf("hitCondition: %v", top)
	}
	// a bad condition is reported, not fatal
	r := c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 21, "condition": "acc >"}}}).body()
	if bp := r.list("breakpoints")[0]; bp["verified"] == true || !strings.Contains(bp.str("message"), "'acc >'") {
		t.Fatalf("bad condition: %v", bp)
	}
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
}

// Exception breakpoints: raised (caught or not), then uncaught.
func TestLiveExceptions(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "raises.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, []string{"raised", "uncaught"})
			reason, top := c.stopped()
			if reason != "exception" || top.str("name") != "parse" || top.num("line") != 2 {
				t.Fatalf("raised: %s %v", reason, top)
			}
			info := c.request("exceptionInfo", msg{"threadId": 1}).body()
			if info.str("exceptionId") != "ValueError" || info.str("breakMode") != "always" || !strings.Contains(info.str("description"), "invalid literal") {
				t.Fatalf("exceptionInfo: %v", info)
			}
			c.request("continue", msg{"threadId": 1})
			reason, top = c.stopped() // "oops", raised
			if reason != "exception" || top.str("name") != "parse" {
				t.Fatalf("second raise: %s %v", reason, top)
			}
			c.request("setExceptionBreakpoints", msg{"filters": []string{"uncaught"}})
			c.request("continue", msg{"threadId": 1})
			reason, top = c.stopped()
			info = c.request("exceptionInfo", msg{"threadId": 1}).body()
			if reason != "exception" || info.str("breakMode") != "unhandled" || top.str("name") != "parse" {
				t.Fatalf("uncaught: %s %v %v", reason, top, info)
			}
			if v := c.eval(top.num("id"), "s", "hover"); v.str("result") != "'oops'" {
				t.Fatalf("evaluate at the uncaught stop: %v", v)
			}
			c.request("continue", msg{"threadId": 1})
			c.expectExit(1)
			if !strings.Contains(c.output.String(), "ValueError: invalid literal") || !strings.Contains(c.output.String(), "safe -1") {
				t.Fatalf("output: %q", c.output.String())
			}
		})
	}
}

// pause a running program, then terminate it.
func TestLivePause(t *testing.T) {
	f := setup(t, "slow.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, nil, nil)
	time.Sleep(300 * time.Millisecond)
	c.request("pause", msg{"threadId": 1})
	reason, top := c.stopped()
	if reason != "pause" || top.str("name") != "<module>" {
		t.Fatalf("pause: %s %v", reason, top)
	}
	n := c.eval(top.num("id"), "count", "watch").str("result")
	if n == "0" || n == "" {
		t.Fatalf("count at pause: %q", n)
	}
	c.request("terminate", nil)
	c.event("exited")
	c.event("terminated")
}

// pause while the program is blocked in a call (time.sleep): it stops at
// once, in the frame that made the call.
func TestLivePauseInCall(t *testing.T) {
	for _, minor := range []string{"3.9", "3.11", "3.13"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "sleepy.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, nil)
			time.Sleep(300 * time.Millisecond)
			t0 := time.Now()
			c.request("pause", msg{"threadId": 1})
			reason, top := c.stopped()
			if reason != "pause" || top.str("name") != "wait" || top.num("line") != 5 {
				t.Fatalf("pause: %s %v", reason, top)
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Fatalf("pause took %v", d)
			}
			c.request("terminate", nil)
			c.event("terminated")
		})
	}
}

// noDebug: breakpoints are ignored, the program just runs.
func TestNoDebug(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, msg{"noDebug": true}, map[string][]int{"basic.py": {20}}, nil)
	c.expectExit(3)
}

// justMyCode false: stepIn enters the standard library (shown, without locals).
func TestJustMyCodeFalse(t *testing.T) {
	for _, jmc := range []bool{true, false} {
		f := setup(t, "lib.py", "3.11")
		c := newClient(t)
		c.launch(f, msg{"justMyCode": jmc}, map[string][]int{"lib.py": {3}}, nil)
		c.stopped()
		c.request("stepIn", msg{"threadId": 1})
		_, top := c.stopped()
		src := top["source"].(map[string]any)["path"].(string)
		if jmc && (top.num("line") != 4 || src != f.prog) {
			t.Fatalf("justMyCode: stepIn went to %v", top)
		}
		if !jmc && (top.str("name") != "dedent" || !strings.HasSuffix(src, "textwrap.py") || top.str("presentationHint") != "subtle") {
			t.Fatalf("justMyCode false: stepIn went to %v", top)
		}
		c.request("disconnect", nil)
	}
}

// setVariable at the live stop (a local, an item of a dict), a Debug
// Console expression with a side effect (Locals show it: invalidated, the
// stop snapshotted again), a console call returning None shows nothing;
// the program runs on with the values set.
func TestLiveSetVariableAndSideEffects(t *testing.T) {
	for _, py := range testutil.Pythons(t) {
		py := py
		t.Run(py.Minor, func(t *testing.T) { setVariableAndSideEffects(t, py.Minor) })
	}
}

func setVariableAndSideEffects(t *testing.T, minor string) {
	f := setup(t, "basic.py", minor)
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
	_, top := c.stopped()
	fid := top.num("id")
	if r := c.eval(fid, "nums.append(999)", "repl"); r.str("result") != "" {
		t.Fatalf("a console call returning None shows %q, want nothing", r.str("result"))
	}
	c.event("invalidated")
	loc := c.locals(fid)
	if loc["nums"].num("indexedVariables") != 251 {
		t.Fatalf("Locals after nums.append(999): %v", loc["nums"])
	}
	sc := c.request("scopes", msg{"frameId": fid}).body().list("scopes")
	r := c.request("setVariable", msg{"variablesReference": sc[0].num("variablesReference"), "name": "acc", "value": "40 + 1"}).body()
	if r.str("value") != "41" {
		t.Fatalf("setVariable acc: %v", r)
	}
	loc = c.locals(fid)
	if loc["acc"].str("value") != "41" {
		t.Fatalf("Locals after setVariable: %v", loc["acc"])
	}
	r = c.request("setVariable", msg{"variablesReference": loc["data"].num("variablesReference"), "name": "'name'", "value": "'changed'"}).body()
	if r.str("value") != "'changed'" {
		t.Fatalf("setVariable data['name']: %v", r)
	}
	if v := c.eval(fid, "data['name'], acc, len(nums)", "watch").str("result"); v != "('changed', 41, 251)" {
		t.Fatalf("the program's values after setVariable: %s", v)
	}
	// the past cannot be set
	c.request("continue", msg{"threadId": 1})
	_, top = c.stopped()
	if v := c.locals(top.num("id"))["acc"].str("value"); v != "41" {
		t.Fatalf("the program ran on with acc = %s, want 41", v)
	}
	c.request("stepBack", msg{"threadId": 1})
	_, top = c.stopped()
	sc = c.request("scopes", msg{"frameId": top.num("id")}).body().list("scopes")
	if e := c.requestErr("setVariable", msg{"variablesReference": sc[0].num("variablesReference"), "name": "acc", "value": "0"}); !strings.Contains(e, "live stop only") {
		t.Fatalf("setVariable in the past: %q", e)
	}
	c.request("terminate", nil)
	c.event("exited")
	c.event("terminated")
}
