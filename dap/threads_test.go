package dap_test

import (
	"strings"
	"testing"
	"time"
)

// A stop in a worker thread: threads lists every thread of the program by
// name (the stopped one first), each one's stack and locals can be read,
// and the stopped event does not claim the others stopped (they run on).
func TestThreadsListedAndInspectable(t *testing.T) {
	for _, minor := range []string{"3.8", "3.10", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "threads.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"threads.py": {22}}, nil)
			ev := c.event("stopped")
			held := minor != "3.8" // 3.9+: the other threads pause at their next line
			if (ev.body()["allThreadsStopped"] == true) != held {
				t.Fatalf("allThreadsStopped on %s: %v", minor, ev.body())
			}
			var names []string
			ids := map[string]int{}
			for _, th := range c.request("threads", nil).body().list("threads") {
				names = append(names, th.str("name"))
				ids[th.str("name")] = th.num("id")
			}
			// (the stopped thread first; ids stay with their threads: MainThread 1)
			if len(names) != 3 || names[0] != "worker" || ids["worker"] != threadOf(ev) || ids["MainThread"] != 1 ||
				ids["waiter"] == 0 || ids["worker"] == ids["waiter"] {
				t.Fatalf("threads: %v %v (stopped in %d)", names, ids, threadOf(ev))
			}
			top := c.request("stackTrace", msg{"threadId": ids["worker"]}).body().list("stackFrames")[0]
			if top.str("name") != "worker" || top.num("line") != 22 || c.locals(top.num("id"))["x"].str("value") != "1" {
				t.Fatalf("the stopped thread: %v", top)
			}
			// the waiter thread: its loop in waiter(), with its locals
			st := c.request("stackTrace", msg{"threadId": ids["waiter"]}).body().list("stackFrames")
			var wf msg
			for _, fr := range st {
				if strings.HasPrefix(fr.str("name"), "waiter") {
					wf = fr
				}
			}
			if wf == nil {
				t.Fatalf("no waiter frame in %v", st)
			}
			loc := c.locals(wf.num("id"))
			if loc["tag"].str("value") != "'w'" {
				t.Fatalf("waiter's locals: %v", loc)
			}
			if held {
				// provably held: 200 ms later (the stop snapshotted again by a
				// console evaluation) its loop has not gone round once more
				time.Sleep(200 * time.Millisecond)
				c.eval(top.num("id"), "x", "repl")
				c.event("invalidated")
				st = c.request("stackTrace", msg{"threadId": ids["waiter"]}).body().list("stackFrames")
				for _, fr := range st {
					if strings.HasPrefix(fr.str("name"), "waiter") {
						if now := c.locals(fr.num("id"))["count"].str("value"); now != loc["count"].str("value") {
							t.Fatalf("the waiter ran on while stopped: count %s, then %s", loc["count"].str("value"), now)
						}
					}
				}
			}
			// the main thread: in join()
			st = c.request("stackTrace", msg{"threadId": ids["MainThread"]}).body().list("stackFrames")
			// (in t2.start() or t2.join(), in threading's code: held there on 3.9+)
			if bottom := st[len(st)-1]; len(st) < 2 || st[0].str("presentationHint") != "subtle" ||
				bottom.str("name") != "<module>" || (bottom.num("line") != 31 && bottom.num("line") != 32) {
				t.Fatalf("the main thread (in threading's code, from line 31 or 32): %v", st)
			}
			// a held thread does not step on its own (nor steps the stopped one instead)
			if e := c.requestErr("next", msg{"threadId": ids["MainThread"]}); !strings.Contains(e, "is held at its next line") {
				t.Fatalf("next in a held thread: %q", e)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": ids["worker"]})
			c.expectExit(0)
		})
	}
}

// Two threads at one breakpoint: a stop for each, named after its thread,
// none lost; on 3.9+ the other threads are held while one is stopped
// (allThreadsStopped), and the program ends as without pyreplay.
func TestTwoThreadsOneBreakpoint(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "two_workers.py", minor)
			c := newClient(t)
			c.request("initialize", msg{"adapterID": "pyreplay"})
			c.request("launch", msg{"program": f.prog, "cwd": f.dir, "python": f.py, "db": f.db})
			c.event("initialized")
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 8, "condition": "i == 1"}}})
			c.request("configurationDone", nil)
			seen := map[string]bool{}
			idOf := map[string]int{}
			for k := 0; k < 2; k++ {
				ev := c.event("stopped")
				ths := c.request("threads", nil).body().list("threads")
				name := ths[0].str("name")
				if ths[0].num("id") != threadOf(ev) {
					t.Fatalf("stop %d: the stopped event names thread %d, threads lists %v first", k+1, threadOf(ev), ths[0])
				}
				for _, th := range ths {
					if was, ok := idOf[th.str("name")]; ok && was != th.num("id") {
						t.Fatalf("thread %s was %d, now %d", th.str("name"), was, th.num("id"))
					}
					idOf[th.str("name")] = th.num("id")
				}
				top := c.request("stackTrace", msg{"threadId": threadOf(ev)}).body().list("stackFrames")[0]
				loc := c.locals(top.num("id"))
				if top.num("line") != 8 || loc["i"].str("value") != "1" || "worker-"+strings.Trim(loc["tag"].str("value"), "'") != name {
					t.Fatalf("stop %d in %s: %v %v", k+1, name, top, loc)
				}
				if held := ev.body()["allThreadsStopped"] == true; held != (minor != "3.8") {
					t.Fatalf("stop %d: allThreadsStopped %v on %s", k+1, held, minor)
				}
				seen[name] = true
				c.request("continue", msg{"threadId": threadOf(ev)})
			}
			if !seen["worker-a"] || !seen["worker-b"] {
				t.Fatalf("stops in %v, want both workers", seen)
			}
			c.expectExit(0)
			if !strings.Contains(c.output.String(), "[('a', 3), ('b', 3)]") {
				t.Fatalf("output: %q", c.output.String())
			}
		})
	}
}
