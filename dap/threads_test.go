package dap_test

import (
	"strings"
	"testing"
)

// A stop in a worker thread: threads lists every thread of the program by
// name (the stopped one first), each one's stack and locals can be read,
// and the stopped event does not claim the others stopped (they run on).
func TestThreadsListedAndInspectable(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "threads.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"threads.py": {22}}, nil)
			ev := c.event("stopped")
			if ev.body()["allThreadsStopped"] == true {
				t.Fatalf("allThreadsStopped with the other threads running: %v", ev.body())
			}
			var names []string
			ids := map[string]int{}
			for _, th := range c.request("threads", nil).body().list("threads") {
				names = append(names, th.str("name"))
				ids[th.str("name")] = th.num("id")
			}
			if len(names) != 3 || names[0] != "worker" || ids["worker"] != 1 || ids["waiter"] == 0 || ids["MainThread"] == 0 {
				t.Fatalf("threads: %v", names)
			}
			top := c.request("stackTrace", msg{"threadId": 1}).body().list("stackFrames")[0]
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
			if loc := c.locals(wf.num("id")); loc["tag"].str("value") != "'w'" {
				t.Fatalf("waiter's locals: %v", loc)
			}
			// the main thread: in join()
			st = c.request("stackTrace", msg{"threadId": ids["MainThread"]}).body().list("stackFrames")
			if len(st) < 2 || !strings.Contains(st[0].str("name"), "join") && !strings.Contains(st[0].str("name"), "_wait_for_tstate_lock") ||
				st[len(st)-1].str("name") != "<module>" || st[len(st)-1].num("line") != 32 {
				t.Fatalf("the main thread (in join, called from line 32): %v", st)
			}
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(0)
		})
	}
}
