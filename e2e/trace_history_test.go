package e2e

// Time travel's anchors in pyreplay record --trace and their bound
// (--history, the "history" launch attribute): periodic snapshots along
// the run, so that going back from a stop re-executes from the latest one
// before it; older ones pruned, and Step Back at the start of the history
// saying where it begins.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// ~1-2 s of calls, then a row that does not parse raises (line 14).
const traceCPU = `def work(k):
    n = 0
    for i in range(k):
        n += i % 7
    return n


def main():
    total = 0
    for step in range(8):
        total += work(1500000)
    for row in ["a=1", "b=x"]:
        key, value = row.split("=")
        total += int(value)
    print(total)


main()
`

// ~1.2 s of short sleeps between the lines of one frame, then a raise
// (line 9): its whole history can be stepped through by line.
const traceSleepy = `import time


def main():
    total = 0
    for step in range(40):
        time.sleep(0.03)
        total += step
    raise ValueError(total)


main()
`

// traceSnap is one entry of ls --json, with its resume verdict.
type traceSnap struct {
	ID     string  `json:"id"`
	Reason string  `json:"reason"`
	Label  string  `json:"label"`
	Line   int     `json:"line"`
	Time   float64 `json:"time"`
	Size   int64   `json:"size"`
	Resume string  `json:"resume"`
}

func traceLs(t *testing.T, dir, db string) []traceSnap {
	t.Helper()
	r := runPyreplay(t, dir, "ls", "--db", db, "--json")
	var out []traceSnap
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil || len(out) == 0 {
		t.Fatalf("ls --json: %+v", r)
	}
	return out
}

func countReason(list []traceSnap, reason string) int {
	n := 0
	for _, s := range list {
		if s.Reason == reason {
			n++
		}
	}
	return n
}

// back sends stepBack and returns the stopped event's description, the
// console output that came with it and the top frame's line.
func (c *dapConn) back(t *testing.T) (desc, out string, line int) {
	t.Helper()
	c.send("stepBack", map[string]any{"threadId": 1})
	collect := func(m map[string]any) {
		if m["type"] == "event" && m["event"] == "output" {
			out += fmt.Sprint(m["body"].(map[string]any)["output"])
		}
	}
	ev := c.wait("stopped", func(m map[string]any) bool {
		collect(m)
		if m["type"] == "response" && m["command"] == "stepBack" && m["success"] != true {
			t.Fatalf("stepBack: %v", m["message"])
		}
		return m["type"] == "event" && m["event"] == "stopped"
	})
	desc, _ = ev["body"].(map[string]any)["description"].(string)
	c.send("stackTrace", map[string]any{"threadId": 1})
	st := c.wait("stackTrace", func(m map[string]any) bool { collect(m); return isResponse("stackTrace")(m) })
	fr, _ := st["body"].(map[string]any)["stackFrames"].([]any)
	if len(fr) == 0 {
		t.Fatalf("stackTrace: %v", st)
	}
	return desc, out, int(fr[0].(map[string]any)["line"].(float64))
}

// replayAt opens a replay of db at snap with line history.
func replayAt(t *testing.T, db, snap string) *dapConn {
	t.Helper()
	c, stop := dapStdio(t)
	t.Cleanup(stop)
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"recording": db, "snapshot": snap, "lineHistory": true})
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("launch: %v", r["message"])
	}
	c.send("configurationDone", nil)
	c.wait("stopped", isEvent("stopped"))
	return c
}

// record --trace takes the anchors a live session takes: several periodic
// snapshots along a run of a second or two, listed by ls; a replay steps
// back by line from the exception re-executing from the latest of them,
// not from the program's first line.
func TestTraceAnchors(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		writeProg(t, dir, "prog.py", traceCPU)
		db := filepath.Join(dir, "rec.db")
		r := runRecord(t, py, dir, db, "", "--trace", "prog.py")
		if r.Code != 1 || !strings.Contains(r.Stderr, "ValueError") {
			t.Fatalf("record --trace: %+v", r)
		}
		list := traceLs(t, dir, db)
		first, last := list[0], list[len(list)-1]
		if first.Reason != "entry" || first.Label != "anchor" || first.Line != 1 || last.Reason != "exception" {
			t.Fatalf("want the first line's entry anchor first and the exception last: %+v", list)
		}
		if n := countReason(list, "periodic"); n < 5 {
			t.Fatalf("%d periodic anchors over a run of %.1f s, want several: %+v", n, last.Time-first.Time, list)
		}
		// the latest two exact anchors: the latest may have been taken at
		// line 14 itself (anchors every 8-17 ms), its window then begins
		// after line 13, which the one before holds
		var latest []string
		for _, s := range list {
			if s.Reason == "periodic" && s.Resume == "exact" {
				latest = append(latest, s.ID)
			}
		}
		if len(latest) > 2 {
			latest = latest[len(latest)-2:]
		}
		c := replayAt(t, db, last.ID)
		desc, _, line := c.back(t)
		from := desc[strings.LastIndex(desc, " ")+1:]
		if line != 13 || !strings.Contains(desc, "re-executed from ") || !slices.Contains(latest, from) {
			t.Fatalf("step back from the exception: line %d %q, want line 13 re-executed from the latest anchors %v (not %s, the first line)",
				line, desc, latest, first.ID)
		}
	})
}

// --history bounds the anchors: those older than it are pruned, and with
// them the first line's anchor; a replay's Step Back at the oldest kept
// one says where the history begins and how to keep more. Bad bounds are
// refused on one line.
func TestTraceHistoryBound(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		writeProg(t, dir, "prog.py", traceSleepy)
		db := filepath.Join(dir, "rec.db")
		r := runRecord(t, py, dir, db, "", "--trace", "--history", "300ms", "prog.py")
		if r.Code != 1 || !strings.Contains(r.Stderr, "ValueError") {
			t.Fatalf("record --trace --history 300ms: %+v", r)
		}
		list := traceLs(t, dir, db)
		oldest, last := list[0], list[len(list)-1]
		if countReason(list, "entry") != 0 || oldest.Reason != "periodic" || last.Reason != "exception" {
			t.Fatalf("want the periodic anchors of the last 300ms only (the first line's pruned): %+v", list)
		}
		// (the run sleeps 1.2 s: anchors of its first half would be older)
		if back := last.Time - oldest.Time; back > 0.8 || countReason(list, "periodic") > 12 {
			t.Fatalf("the oldest anchor kept is %.2f s before the exception (%d anchors), want about 0.3 s: %+v",
				back, countReason(list, "periodic"), list)
		}
		c := replayAt(t, db, oldest.ID)
		desc, out, _ := c.back(t)
		want := fmt.Sprintf("it begins at %s (main at prog.py:", oldest.ID)
		if !strings.HasPrefix(desc, "start of history: ") || !strings.Contains(out, "this is the start of the history: "+want) ||
			!strings.Contains(out, "s before "+last.ID) || !strings.Contains(out, "--history") {
			t.Fatalf("step back at the oldest anchor: %q\n%s", desc, out)
		}

		// from the exception, by line, back to that start
		c = replayAt(t, db, last.ID)
		for i := 0; ; i++ {
			desc, out, _ := c.back(t)
			if strings.HasPrefix(desc, "start of history: ") {
				if !strings.Contains(out, want) {
					t.Fatalf("at the start of the history: %q\n%s", desc, out)
				}
				break
			}
			if out != "" || i > 80 {
				t.Fatalf("step back %d: %q %q, want lines of the past down to the start of the history", i+1, desc, out)
			}
		}

		// a size: the anchors' stored state, the oldest going first
		sdb := filepath.Join(dir, "size.db")
		if r := runRecord(t, py, dir, sdb, "", "--trace", "--history", "10s,20kB", "prog.py"); r.Code != 1 {
			t.Fatalf("record --trace --history 10s,20kB: %+v", r)
		}
		list = traceLs(t, dir, sdb)
		size := int64(0)
		for _, s := range list {
			if s.Reason == "periodic" {
				size += s.Size
			}
		}
		if n := countReason(list, "periodic"); n == 0 || (n > 1 && size > 20<<10) || countReason(list, "entry") != 0 {
			t.Fatalf("--history 10s,20kB: %d anchors, %d bytes in all: %+v", n, size, list)
		}

		for _, args := range [][]string{{"--trace", "--history", "5x"}, {"--trace", "--history", "0s"}, {"--history", "1m"},
			{"--trace", "--history", "1m", "--max-snapshots", "3"}} {
			r := runRecord(t, py, dir, db, "", append(args, "prog.py")...)
			if r.Code != 2 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "--history") || r.Stdout != "" {
				t.Errorf("record %v: %+v, want one line on stderr and exit 2", args, r)
			}
		}
	})
}

// A live session's "history": its anchors older than that are pruned,
// and Step Back walking the past by line ends at their start, saying
// where it begins; a bad "history" fails the launch.
func TestDAPHistoryBound(t *testing.T) {
	for _, minor := range []string{"3.11", "3.12", "3.13"} {
		t.Run(minor, func(t *testing.T) {
			py := testutil.PythonFor(t, minor)
			dir := t.TempDir()
			prog := writeProg(t, dir, "prog.py", traceSleepy)
			db := filepath.Join(dir, "rec.db")
			c, stop := dapStdio(t)
			defer stop()
			c.send("initialize", map[string]any{"adapterID": "pyreplay"})
			c.wait("initialize", isResponse("initialize"))
			c.send("launch", map[string]any{"program": prog, "python": py, "db": db, "cwd": dir, "history": "2 minutes"})
			if r := c.wait("launch", isResponse("launch")); r["success"] == true || !strings.Contains(fmt.Sprint(r["message"]), `"history"`) {
				t.Fatalf("launch with a bad history: %v", r)
			}
			c, stop2 := dapStdio(t)
			defer stop2()
			c.send("initialize", map[string]any{"adapterID": "pyreplay"})
			c.wait("initialize", isResponse("initialize"))
			c.send("launch", map[string]any{"program": prog, "python": py, "db": db, "cwd": dir, "history": "300ms"})
			if r := c.wait("launch", isResponse("launch")); r["success"] != true {
				t.Fatalf("launch: %v", r["message"])
			}
			c.send("setExceptionBreakpoints", map[string]any{"filters": []string{"uncaught"}})
			c.send("configurationDone", nil)
			ev := c.wait("stopped", isEvent("stopped"))
			if ev["body"].(map[string]any)["reason"] != "exception" {
				t.Fatalf("stop: %v", ev)
			}
			list := traceLs(t, dir, db)
			if countReason(list, "entry") != 0 || list[0].Reason != "periodic" {
				t.Fatalf("want the periodic anchors of the last 300ms only (the first line's pruned): %+v", list)
			}
			start := time.Now()
			for i := 0; ; i++ {
				desc, out, _ := c.back(t)
				if strings.HasPrefix(desc, "start of history: ") {
					if want := fmt.Sprintf("this is the start of the history: it begins at %s (main at prog.py:", list[0].ID); !strings.Contains(out, want) ||
						!strings.Contains(out, `"history"`) || !strings.Contains(out, "it keeps 300ms") {
						t.Fatalf("at the start of the history: %q\n%s\nwant %q", desc, out, want)
					}
					break
				}
				if out != "" || i > 80 {
					t.Fatalf("step back %d: %q %q, want lines of the past down to the start of the history", i+1, desc, out)
				}
			}
			t.Logf("%s: stepped back to the start of the history in %v", minor, time.Since(start).Round(time.Millisecond))
			c.send("terminate", nil)
		})
	}
}

// One anchor whose pickling takes 0.4 s (a value's __reduce__ sleeps,
// once), 0.3 s into a 1.9 s run that ends with an uncaught exception.
const traceSlowAnchor = `import time


class Slow:
    slept = False

    def __reduce__(self):
        if not Slow.slept:
            Slow.slept = True
            time.sleep(0.4)
        return (Slow, ())


def work(k):
    n = 0
    for i in range(k):
        n += i % 7
    return n


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        work(2000)


marker = None
spin(0.3)
marker = Slow()
spin(1.2)
raise ValueError("the end")
`

// TestAnchorsAfterASlowOne: one slow anchor does not silence the next
// ones. The budget paces anchors by the median pause of the last few
// (periodic.py): paced by the last pause alone, a 0.4 s one held the
// next back for 0.4 s / budget, 0.9-1.3 s (a live session once went a
// second without an anchor before its exception, and going back from it
// re-executed all of that second: 3-6 s).
func TestAnchorsAfterASlowOne(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		writeProg(t, dir, "prog.py", traceSlowAnchor)
		db := filepath.Join(dir, "rec.db")
		if r := runRecord(t, py, dir, db, "", "--trace", "prog.py"); r.Code != 1 || !strings.Contains(r.Stderr, "the end") {
			t.Fatalf("record --trace: %+v", r)
		}
		// the periodic anchors' times, then the exception's
		var times []float64
		var end float64
		for _, s := range traceLs(t, dir, db) {
			switch s.Reason {
			case "periodic":
				times = append(times, s.Time)
			case "exception":
				end = s.Time
			}
		}
		slices.Sort(times)
		if len(times) < 5 || end == 0 {
			t.Fatalf("%d periodic anchors and the exception at %v in a 1.9 s run, want several and it", len(times), end)
		}
		times = append(times, end)
		// (the anchors kept: the newest 40, one per 50 ms before them)
		for i := 1; i < len(times); i++ {
			if gap := times[i] - times[i-1]; gap > 0.8 {
				at := make([]string, len(times))
				for k, x := range times {
					at[k] = fmt.Sprintf("%.2f", x-times[0])
				}
				t.Fatalf("no anchor for %.2f s after the one %.2f s into the run (the slow one pauses 0.4 s; anchors, then the exception, at %s s)",
					gap, times[i-1]-times[0], strings.Join(at, " "))
			}
		}
	})
}

// traceDeepThreads: a thread that keeps asking for the GIL, switched to
// every 0.1 ms, and a main thread whose every call runs 3000 frames deep
// (an anchor's arming walks them all).
const traceDeepThreads = `import sys
import threading

stop = False


def spin():
    n = 0
    while not stop:
        n += 1


def down(depth, work):
    if depth:
        return down(depth - 1, work)
    total = 0
    for i in range(work):
        total += i % 7
    return total


t = threading.Thread(target=spin)
t.start()
sys.setrecursionlimit(5000)
sys.setswitchinterval(0.0001)
total = 0
for k in range(120):
    total += down(3000, 2000)
stop = True
t.join()
print("total", total)
`

// TestAnchorsWithThreads: a program whose other thread takes the GIL while
// an anchor's pending call arms the main thread (3.8-3.11) runs to its
// end. The tick thread queued a second call meanwhile, which CPython made
// in the same make_pending_calls, its signal left set: on 3.11 the traced
// call's first instruction handled it again and again, and the program
// hung at 100% CPU (8 runs in 10 of this one).
func TestAnchorsWithThreads(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		writeProg(t, dir, "prog.py", traceDeepThreads)
		runs := 2 // (3.12+ asks with sys.monitoring, no pending call: once)
		if py.Minor >= "3.12" {
			runs = 1
		}
		for run := 1; run <= runs; run++ {
			db := filepath.Join(dir, fmt.Sprintf("rec%d.db", run))
			// (a hang ends at runRecord's timeout, and fails there)
			if r := runRecord(t, py, dir, db, "", "--trace", "prog.py"); r.Code != 0 || r.Stdout != "total 719400\n" {
				t.Fatalf("record --trace, run %d: %+v", run, r)
			}
		}
	})
}
