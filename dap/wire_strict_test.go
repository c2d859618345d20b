package dap_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/wire"
)

// The typed wire contract (issue 12): every line the shim sends on the
// control channel, and every snapshot it writes to the recording, decodes
// into the wire types with unknown fields disallowed. A field the shim adds
// without a Go field (or a Go field renamed) fails here.
func TestWireStrictDecode(t *testing.T) {
	var mu sync.Mutex
	var lines [][]byte
	launch.Tap = func(line []byte) {
		mu.Lock()
		lines = append(lines, append([]byte(nil), line...))
		mu.Unlock()
	}
	defer func() { launch.Tap = nil }()
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		t.Run(minor, func(t *testing.T) {
			mu.Lock()
			lines = nil
			mu.Unlock()
			// a breakpoint, a log point, live pages and evaluations, an error
			f := setup(t, "basic.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"basic.py": {20}}, nil)
			_, top := c.stopped()
			loc := c.locals(top.num("id"))
			c.request("variables", msg{"variablesReference": loc["nums"].num("variablesReference"), "filter": "indexed", "start": 200, "count": 3})
			c.eval(top.num("id"), "acc + 41", "hover")
			ev := c.eval(top.num("id"), "data['point']", "watch")
			c.vars(ev.num("variablesReference"))
			c.requestErr("evaluate", msg{"expression": "undefined_name", "frameId": top.num("id"), "context": "repl"})
			c.request("next", msg{"threadId": 1})
			c.stopped()
			c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 20, "logMessage": "acc={acc}"}}})
			c.request("continue", msg{"threadId": 1})
			c.expectExit(3)
			// an exception stop, and the uncaught one
			g := setup(t, "raises.py", minor)
			c2 := newClient(t)
			c2.launch(g, nil, nil, []string{"raised", "uncaught"})
			c2.stopped()
			c2.request("setExceptionBreakpoints", msg{"filters": []string{"uncaught"}})
			c2.request("continue", msg{"threadId": 1})
			c2.stopped()
			c2.request("continue", msg{"threadId": 1})
			c2.expectExit(1)

			mu.Lock()
			got := append([][]byte(nil), lines...)
			mu.Unlock()
			checkControlLines(t, got)
			checkSnapshots(t, f.db)
			checkSnapshots(t, g.db)
		})
	}
}

func checkControlLines(t *testing.T, lines [][]byte) {
	t.Helper()
	seen := map[string]int{}
	for _, line := range lines {
		var head wire.Head
		if err := json.Unmarshal(line, &head); err != nil {
			t.Errorf("not JSON: %s", line)
			continue
		}
		if head.Reply != nil {
			var r struct {
				wire.Reply
				Body json.RawMessage `json:"body,omitempty"`
			}
			if err := testutil.Strict(line, &r); err != nil {
				t.Errorf("reply: %v: %s", err, cut(line))
				continue
			}
			if !r.OK {
				seen["error"]++
				continue
			}
			ok := false
			for name, v := range map[string]any{"empty": &struct{}{}, "breakpoints": &wire.BreakpointsReply{},
				"evaluate": &wire.EvaluateReply{}, "children": &wire.ChildrenReply{}, "refresh": &wire.RefreshReply{}} {
				if testutil.Strict(r.Body, v) == nil {
					ok = true
					if name != "empty" || string(bytes.TrimSpace(r.Body)) == "{}" {
						seen["reply "+name]++
					}
				}
			}
			if !ok {
				t.Errorf("reply body of no known type: %s", cut(line))
			}
			continue
		}
		var v any
		switch head.Event {
		case wire.EventReady:
			v = &wire.ReadyEvent{}
		case wire.EventStopped:
			v = &wire.StoppedEvent{}
		case wire.EventOutput:
			v = &wire.OutputEvent{}
		case wire.EventChild:
			v = &wire.ChildEvent{}
		case wire.EventExit:
			v = &wire.ExitEvent{}
		default:
			t.Errorf("unknown message: %s", cut(line))
			continue
		}
		if err := testutil.Strict(line, v); err != nil {
			t.Errorf("%s event: %v: %s", head.Event, err, cut(line))
		}
		seen[head.Event]++
	}
	for _, want := range []string{wire.EventReady, wire.EventStopped, wire.EventOutput, "error",
		"reply evaluate", "reply children", "reply breakpoints"} {
		if seen[want] == 0 {
			t.Errorf("no %q message seen (seen: %v)", want, seen)
		}
	}
}

func checkSnapshots(t *testing.T, db string) {
	t.Helper()
	if len(testutil.StrictSnapshots(t, db)) == 0 {
		t.Errorf("%s: no snapshots", db)
	}
}

func cut(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}
