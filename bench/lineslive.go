package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// lineHistoryLive measures time travel in a live session (pyreplay dap,
// time travel on by default) the way a user meets it: the program runs a
// few seconds, dies with an uncaught exception, and from that stop Step
// Back (the first re-executes from the latest anchor, 8-17 ms of
// the program's run earlier), then Reverse Continue to a breakpoint set
// now on a line that last ran just before the exception. Loop lengths
// vary per session so the exception falls at different distances from
// the anchor before it. Half the sessions step back at once, half after
// a second at the stop (a user reading it): the session makes the stop's
// line window in the background meanwhile. Likewise Reverse Continue:
// half at once after setting the breakpoint, half a second after (the
// session starts the re-execution it needs when the breakpoint is set).
func (r *Results) lineHistoryLive(py PyInfo) {
	prog := filepath.Join(r.root, "bench", "drivers", "line_history_live.py")
	sessions := 8
	if *flagQuick {
		sessions = 4
	}
	if *flagSessions > 0 {
		sessions = *flagSessions
	}
	var first, looked, later, reverse, reverseLooked []float64
	for s := 0; s < sessions; s++ {
		n := 2_000_000 + s*137_000
		think := time.Duration(s%2) * time.Second
		f, l, rc, err := r.liveStepBack(py, prog, n, think)
		if err != nil {
			r.note("lines live: %v", err)
			r.add(Figure{Section: "lines", Python: py.Minor, Case: "live session", Metric: "first step back", Unit: "ms", Stat: nanStat(), Note: "failed: " + firstLine(err.Error())})
			return
		}
		if think > 0 {
			looked = append(looked, f)
		} else {
			first = append(first, f)
		}
		later = append(later, l...)
		if think > 0 {
			reverseLooked = append(reverseLooked, rc)
		} else {
			reverse = append(reverse, rc)
		}
	}
	cs := fmt.Sprintf("live session, %d runs of 2M+ calls, uncaught exception", sessions)
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "first step back at once (re-executes from the anchor)", Unit: "ms", Stat: describe(first),
		Note: fmt.Sprintf("p95 %.0f ms", describe(first).P95)})
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "first step back 1 s after the stop", Unit: "ms", Stat: describe(looked),
		Note: fmt.Sprintf("p95 %.0f ms", describe(looked).P95)})
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "later step backs", Unit: "ms", Stat: medianStat(later)})
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "reverse continue at once to a breakpoint set now", Unit: "ms", Stat: describe(reverse),
		Note: fmt.Sprintf("p95 %.0f ms", describe(reverse).P95)})
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "reverse continue 1 s after setting the breakpoint", Unit: "ms", Stat: describe(reverseLooked),
		Note: fmt.Sprintf("p95 %.0f ms", describe(reverseLooked).P95)})
}

// liveStepBack runs one live session of prog N to its uncaught exception
// and, think after the stop, times the first Step Back, four more, and,
// back at the exception (Continue), a Reverse Continue to a breakpoint on
// score()'s line (each to the stopped event and the stack).
func (r *Results) liveStepBack(py PyInfo, prog string, n int, think time.Duration) (first float64, later []float64, reverse float64, err error) {
	const to = 5 * time.Minute
	db := filepath.Join(r.tmp, "lines-live.db")
	c, err := r.openSession(map[string]any{"program": prog, "args": []string{strconv.Itoa(n)}, "python": py.Path, "db": db},
		[]string{"uncaught"}, to)
	if err != nil {
		return 0, nil, 0, err
	}
	defer c.close()
	if _, err := c.call("stackTrace", map[string]any{"threadId": 1}, to); err != nil {
		return 0, nil, 0, err
	}
	time.Sleep(think)
	// (five: the window of the exception's stretch holds main's last six
	// lines; a sixth would step back over the whole loop's call, which a
	// Step Back refuses past 12 anchors)
	for i := 0; i < 5; i++ {
		d, err := timedStop(c, "stepBack", to)
		if err != nil {
			return 0, nil, 0, err
		}
		if i == 0 {
			first = d
		} else {
			later = append(later, d)
		}
	}
	// back to the exception (the present): Reverse Continue goes from there
	if _, err := timedStop(c, "continue", to); err != nil {
		return 0, nil, 0, err
	}
	if _, err := c.call("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{{"line": 13}}}, to); err != nil {
		return 0, nil, 0, err
	}
	time.Sleep(think)
	if reverse, err = timedStop(c, "reverseContinue", to); err != nil {
		return 0, nil, 0, err
	}
	_, _ = c.call("disconnect", map[string]any{}, 5*time.Second)
	return first, later, reverse, nil
}
