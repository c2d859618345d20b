package dap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// The past is shown from snapshots: evaluating there never reaches the
// live program, and only recorded values (and their parts) evaluate.
func TestPastEvaluateFromSnapshot(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, msg{"timeTravel": false}, map[string][]int{"basic.py": {20}}, nil) // (history by stops)
	c.event("stopped")
	c.request("continue", msg{"threadId": 1})
	c.event("stopped")
	c.request("continue", msg{"threadId": 1})
	_, top := c.stopped()
	if v := c.eval(top.num("id"), "acc", "watch").str("result"); v != "1" {
		t.Fatalf("live acc %q", v)
	}
	// a side effect in the live program...
	c.eval(top.num("id"), "data['name'] = 'changed'", "repl")
	c.request("reverseContinue", msg{"threadId": 1})
	reason, top := c.stopped()
	if reason != "breakpoint" {
		t.Fatalf("reverseContinue reason %q", reason)
	}
	// ...is not seen in the past
	for expr, want := range map[string]string{"acc": "0", "i": "1", "data['name']": "'pyreplay'", "data[\"point\"].x": "1", "nums[-1]": "249"} {
		if expr == "nums[-1]" {
			continue // only the first 100 items are recorded
		}
		if v := c.eval(top.num("id"), expr, "watch").str("result"); v != want {
			t.Fatalf("past %s = %q, want %q", expr, v, want)
		}
	}
	// any expression evaluates on a copy of the past (the snapshot's state,
	// loaded afresh each time in a separate process)
	for expr, want := range map[string]string{
		"acc + 1":                          "1",
		"nums[200]":                        "200",
		"data['name'].upper()":             "'PYREPLAY'",
		"add(acc, 10)":                     "10",
		"nums.append(1) or len(nums)":      "251",
		"len(nums)":                        "250",
		"data['point'].__class__.__name__": "'Point'",
	} {
		if v := c.eval(top.num("id"), expr, "repl").str("result"); v != want {
			t.Fatalf("past %s = %q, want %q", expr, v, want)
		}
	}
	if msg := c.requestErr("evaluate", msg{"expression": "undefined_name", "frameId": top.num("id"), "context": "repl"}); !strings.Contains(msg, "NameError") || !strings.Contains(msg, "as recorded") {
		t.Fatalf("past error: %q", msg)
	}
	// a page beyond the recorded items says so, in the past
	nums := c.locals(top.num("id"))["nums"]
	page := c.request("variables", msg{"variablesReference": nums.num("variablesReference"), "filter": "indexed", "start": 200, "count": 3}).body().list("variables")
	if len(page) != 1 || !strings.Contains(page[0].str("value"), "not recorded") {
		t.Fatalf("past page: %v", page)
	}
	c.request("reverseContinue", msg{"threadId": 1})
	_, top = c.stopped()
	if v := c.eval(top.num("id"), "i", "watch").str("result"); v != "0" {
		t.Fatalf("first stop i=%q", v)
	}
	c.request("reverseContinue", msg{"threadId": 1}) // at the first already: stays
	_, top = c.stopped()
	if v := c.eval(top.num("id"), "i", "watch").str("result"); v != "0" {
		t.Fatalf("first stop again i=%q", v)
	}
	// forward through history to the live stop, where evaluation is live again
	c.request("next", msg{"threadId": 1})
	c.stopped()
	c.request("next", msg{"threadId": 1})
	_, top = c.stopped()
	if v := c.eval(top.num("id"), "data['name']", "watch").str("result"); v != "'changed'" {
		t.Fatalf("live again: %q", v)
	}
	c.request("disconnect", nil)
}

// Replaying a recording: no process; next/stepBack, continue/reverseContinue
// by breakpoints; then resume from a past snapshot into a live process.
func TestReplayAndResume(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	r := testutil.Cmd{Dir: f.dir}.Pyreplay(t, "record", "--db", f.db, "--python", f.py, "-b", "basic.py:20", "-b", "basic.py:11@3", "basic.py")
	if r.Code != 3 {
		t.Fatalf("record: %d %s", r.Code, r.Stderr)
	}
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"recording": f.db, "snapshot": "snap-2"})
	c.event("initialized")
	c.request("configurationDone", nil)
	reason, top := c.stopped()
	if reason != "entry" || top.num("line") != 20 || c.locals(top.num("id"))["i"].str("value") != "1" {
		t.Fatalf("replay opens at snap-2: %s %v", reason, top)
	}
	c.request("next", msg{"threadId": 1})
	_, top = c.stopped()
	if top.num("line") != 20 || c.locals(top.num("id"))["i"].str("value") != "2" {
		t.Fatalf("next snapshot: %v", top)
	}
	c.request("next", msg{"threadId": 1})
	_, top = c.stopped()
	if top.str("name") != "add  [snap-4]" {
		t.Fatalf("next snapshot (add): %v", top)
	}
	c.request("stepBack", msg{"threadId": 1})
	c.request("stepBack", msg{"threadId": 1})
	c.stopped()
	_, top = c.stopped()
	if c.locals(top.num("id"))["i"].str("value") != "1" {
		t.Fatalf("stepBack twice: %v", top)
	}
	// with a breakpoint only in add, continue goes to the snapshot in add
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 11}}})
	c.request("continue", msg{"threadId": 1})
	_, top = c.stopped()
	if !strings.HasPrefix(top.str("name"), "add") {
		t.Fatalf("continue to add: %v", top)
	}
	c.request("reverseContinue", msg{"threadId": 1}) // none earlier in add: the first
	_, top = c.stopped()
	if !strings.Contains(top.str("name"), "snap-1") {
		t.Fatalf("reverseContinue to the first: %v", top)
	}
	// resume from snap-1 (i == 0 at line 20): a live process, same breakpoints
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 21}}})
	res := c.request("pyreplayResume", msg{}).body()
	if res.str("snapshot") != "snap-1" {
		t.Fatalf("resume: %v", res)
	}
	c.event("continued")
	reason, top = c.stopped()
	if reason != "entry" || top.num("line") != 20 || top.str("name") != "main" {
		t.Fatalf("resumed stop: %s %v", reason, top)
	}
	c.request("continue", msg{"threadId": 1})
	reason, top = c.stopped()
	loc := c.locals(top.num("id"))
	if reason != "breakpoint" || top.num("line") != 21 || loc["acc"].str("value") != "0" {
		t.Fatalf("resumed, at 21: %s %v %v", reason, top, loc)
	}
	if v := c.eval(top.num("id"), "acc + 100", "repl").str("result"); v != "100" {
		t.Fatalf("live evaluate in the resumed process: %q", v)
	}
	// time travel across the branch point: the replayed snapshot is the past
	c.request("stepBack", msg{"threadId": 1})
	c.stopped()
	c.request("stepBack", msg{"threadId": 1})
	_, top = c.stopped()
	if !strings.Contains(top.str("name"), "snap-1") {
		t.Fatalf("stepBack to the branch point: %v", top)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
	if !strings.Contains(c.output.String(), "done 10 3") {
		t.Fatalf("resumed output: %q", c.output.String())
	}
}

// Resume from a past stop of a live session: the old process ends, the new
// one is debugged.
func TestResumeFromPastLiveStop(t *testing.T) {
	f := setup(t, "basic.py", "3.12")
	c := newClient(t)
	c.launch(f, msg{"timeTravel": false}, map[string][]int{"basic.py": {20}}, nil) // (history by stops)
	c.event("stopped")
	c.request("continue", msg{"threadId": 1})
	c.event("stopped")
	c.request("continue", msg{"threadId": 1})
	c.event("stopped")
	c.request("stepBack", msg{"threadId": 1})
	_, top := c.stopped()
	if c.locals(top.num("id"))["i"].str("value") != "1" {
		t.Fatalf("past stop: %v", top)
	}
	c.request("pyreplayResume", nil)
	c.event("continued")
	reason, top := c.stopped()
	if (reason != "breakpoint" && reason != "entry") || c.locals(top.num("id"))["i"].str("value") != "1" {
		t.Fatalf("resumed: %s %v", reason, top)
	}
	c.request("continue", msg{"threadId": 1})
	_, top = c.stopped()
	if c.locals(top.num("id"))["i"].str("value") != "2" {
		t.Fatalf("next hit in the resumed process: %v", top)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
	c.request("continue", msg{"threadId": 1})
	c.expectExit(3)
}

// Latency of a live step and of a step back (reported, loosely bounded).
func TestStepLatency(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
	c.stopped()
	var step, back time.Duration
	const n = 5
	for i := 0; i < n; i++ {
		t0 := time.Now()
		c.request("next", msg{"threadId": 1})
		c.stopped()
		step += time.Since(t0)
	}
	for i := 0; i < n; i++ {
		t0 := time.Now()
		c.request("stepBack", msg{"threadId": 1})
		c.stopped()
		back += time.Since(t0)
	}
	t.Logf("live next + stackTrace: %v; stepBack + stackTrace: %v (mean of %d)", step/n, back/n, n)
	if step/n > 2*time.Second || back/n > time.Second {
		t.Fatalf("too slow: next %v, stepBack %v", step/n, back/n)
	}
	c.request("disconnect", nil)
}

// A recording replayed after its source file is gone: the recorded text is
// served by the source request. Also threads, cancel and stack paging.
func TestReplayRecordedSource(t *testing.T) {
	f := setup(t, "basic.py", "3.11")
	r := testutil.Cmd{Dir: f.dir}.Pyreplay(t, "record", "--db", f.db, "--python", f.py, "-b", "basic.py:11", "basic.py")
	if r.Code != 3 {
		t.Fatalf("record: %d %s", r.Code, r.Stderr)
	}
	if err := os.Remove(f.prog); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"recording": f.db})
	c.event("initialized")
	c.request("configurationDone", nil)
	c.event("stopped")
	th := c.request("threads", nil).body().list("threads")
	if len(th) != 1 || th[0].num("id") != 1 {
		t.Fatalf("threads: %v", th)
	}
	st := c.request("stackTrace", msg{"threadId": 1, "startFrame": 1, "levels": 1}).body()
	frames := st.list("stackFrames")
	if st.num("totalFrames") != 3 || len(frames) != 1 || frames[0].str("name") != "main" {
		t.Fatalf("paged stack: %v", st)
	}
	src := frames[0]["source"].(map[string]any)
	ref, _ := src["sourceReference"].(float64)
	if ref == 0 || src["path"] != nil {
		t.Fatalf("source of a deleted file: %v", src)
	}
	text := c.request("source", msg{"sourceReference": int(ref), "source": src}).body().str("content")
	if !strings.Contains(text, "def add(a, b):") {
		t.Fatalf("recorded source: %q", text)
	}
	c.request("cancel", msg{"requestId": 1})
	c.request("terminate", nil)
	c.event("terminated")
}

// A resumed live process rebuilds its stack by running each caller's call
// line again: breakpoints there are no hits (the rebuild is not the
// program's execution). Resuming inside add with breakpoints on its
// callers' lines stops first in add, then at the caller's next iteration.
func TestResumeLiveSkipsTheRebuild(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12"} {
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "basic.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"basic.py": {11}}, nil)
			c.event("stopped")
			c.request("continue", msg{"threadId": 1})
			_, top := c.stopped()
			if top.num("line") != 11 || c.locals(top.num("id"))["a"].str("value") != "0" {
				t.Fatalf("second stop in add: %v", top)
			}
			// the module's and main's call lines hold breakpoints now
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 11}, {"line": 20}, {"line": 27}}})
			c.request("pyreplayResume", nil)
			c.event("continued")
			_, top = c.stopped()
			if top.num("line") != 11 || top.str("name") != "add" {
				t.Fatalf("resumed: first stop at %v, want in add at line 11 (not a caller's line during the rebuild)", top)
			}
			c.request("continue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 20 || c.locals(top.num("id"))["i"].str("value") != "2" {
				t.Fatalf("after the resumed add: %v, want main at line 20 with i == 2", top)
			}
		})
	}
}

// Evaluating at a past stop loads that stop's state in a separate process:
// a file the live program still has open for writing is reopened there as
// the program had it (its repr), but read-only, never cut back to the
// position it had then; writing to it fails; the live program's file and
// output are whole.
func TestPastEvaluateLeavesOpenFiles(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "report_writer.py", minor)
			c := newClient(t)
			c.launch(f, msg{"timeTravel": false}, map[string][]int{"report_writer.py": {12, 15}}, nil)
			c.stopped()
			c.request("continue", msg{"threadId": 1})
			_, top := c.stopped()
			if top.num("line") != 15 {
				t.Fatalf("second stop at %v", top)
			}
			c.request("reverseContinue", msg{"threadId": 1})
			_, top = c.stopped()
			if top.num("line") != 12 {
				t.Fatalf("past stop at %v", top)
			}
			want := map[string]string{
				"out.tell()": "168",
				"repr(out)":  `"<_io.TextIOWrapper name='report.txt' mode='w' encoding='utf-8'>"`,
			}
			for expr, w := range want {
				if v := c.eval(top.num("id"), expr, "repl").str("result"); v != w {
					t.Fatalf("past %s = %s, want %s", expr, v, w)
				}
			}
			whole := func(after string) {
				t.Helper()
				if b, err := os.ReadFile(filepath.Join(f.dir, "report.txt")); err != nil || len(b) != 968 || strings.Contains(string(b), "x") {
					t.Fatalf("the live program's file after %s in the past: %d bytes %v", after, len(b), err)
				}
			}
			whole("evaluating")
			if e := c.requestErr("evaluate", msg{"expression": "out.write('x' * 9000) and out.flush()", "frameId": top.num("id"), "context": "repl"}); !strings.Contains(e, "not writable") && !strings.Contains(e, "Bad file descriptor") {
				t.Fatalf("writing in the past: %q", e)
			}
			whole("writing")
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(0)
			if out := c.output.String(); !strings.Contains(out, "read back 61 lines") {
				t.Fatalf("output: %q", out)
			}
		})
	}
}
