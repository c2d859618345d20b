package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/pyreplay/pyreplay/recording"
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
	var first, looked, later, reverse, reverseLooked, dist []float64
	for s := 0; s < sessions; s++ {
		n := 2_000_000 + s*137_000
		think := time.Duration(s%2) * time.Second
		f, l, rc, d, err := r.liveStepBack(py, prog, n, think)
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
			if *flagKeep && (len(reverse) == 0 || rc > slices.Max(reverse)) {
				r.keepSlowest(s, rc, d)
			}
			reverse = append(reverse, rc)
			dist = append(dist, d)
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
	// (the figure above swings with how far back the anchor before the
	// exception was: the run a re-execution counts again)
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "its anchor's distance before the exception", Unit: "ms", Stat: describe(dist),
		Note: fmt.Sprintf("p95 %.1f ms; %s", describe(dist).P95, perDistance(reverse, dist))})
	r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "reverse continue 1 s after setting the breakpoint", Unit: "ms", Stat: describe(reverseLooked),
		Note: fmt.Sprintf("p95 %.0f ms", describe(reverseLooked).P95)})
}

// perDistance fits latency = a + b·distance over the Reverse Continues at
// once (least squares): a is what a re-execution costs whatever the
// anchor's distance, b how many times slower than the program's own run
// it counts that distance again.
func perDistance(lat, dist []float64) string {
	n := float64(len(lat))
	if len(lat) < 3 || len(lat) != len(dist) {
		return "too few sessions to fit"
	}
	var sx, sy, sxx, sxy float64
	for i := range lat {
		sx, sy, sxx, sxy = sx+dist[i], sy+lat[i], sxx+dist[i]*dist[i], sxy+dist[i]*lat[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return "one distance only"
	}
	b := (n*sxy - sx*sy) / den
	return fmt.Sprintf("reverse continue at once ≈ %.0f ms + %.1f × the distance", (sy-b*sx)/n, b)
}

// anchorDistance is how long, in the recording at db, the program's run
// went on from the last anchor before its uncaught exception's stop to
// that stop (ms, by the snapshots' times).
func anchorDistance(db string) (float64, error) {
	st, err := recording.Open(db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	all, err := st.List(0)
	if err != nil {
		return 0, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Reason != "exception" {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if a := all[j]; a.Run == all[i].Run && (a.Reason == "periodic" || (a.Reason == "entry" && a.Label == "anchor")) {
				return (all[i].Time - a.Time) * 1000, nil
			}
		}
		break
	}
	return 0, fmt.Errorf("no anchor before an uncaught exception in %s", db)
}

// liveStepBack runs one live session of prog N to its uncaught exception
// and, think after the stop, times the first Step Back, four more, and,
// back at the exception (Continue), a Reverse Continue to a breakpoint on
// score()'s line (each to the stopped event and the stack); dist is the
// anchor's distance before the exception (anchorDistance).
func (r *Results) liveStepBack(py PyInfo, prog string, n int, think time.Duration) (first float64, later []float64, reverse, dist float64, err error) {
	const to = 5 * time.Minute
	db := filepath.Join(r.tmp, "lines-live.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		_ = os.Remove(f) // (the session before's: anchorDistance reads this one's)
	}
	c, err := r.openSession(map[string]any{"program": prog, "args": []string{strconv.Itoa(n)}, "python": py.Path, "db": db},
		[]string{"uncaught"}, to)
	if err != nil {
		return 0, nil, 0, 0, err
	}
	defer c.close()
	if _, err := c.call("stackTrace", map[string]any{"threadId": 1}, to); err != nil {
		return 0, nil, 0, 0, err
	}
	time.Sleep(think)
	// (five: the window of the exception's stretch holds main's last six
	// lines; a sixth would step back over the whole loop's call, which a
	// Step Back refuses past 12 anchors)
	for i := 0; i < 5; i++ {
		d, err := timedStop(c, "stepBack", to)
		if err != nil {
			return 0, nil, 0, 0, err
		}
		if i == 0 {
			first = d
		} else {
			later = append(later, d)
		}
	}
	// back to the exception (the present): Reverse Continue goes from there
	if _, err := timedStop(c, "continue", to); err != nil {
		return 0, nil, 0, 0, err
	}
	if _, err := c.call("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{{"line": 13}}}, to); err != nil {
		return 0, nil, 0, 0, err
	}
	time.Sleep(think)
	if reverse, err = timedStop(c, "reverseContinue", to); err != nil {
		return 0, nil, 0, 0, err
	}
	_, _ = c.call("disconnect", map[string]any{}, 5*time.Second)
	c.close()
	dist, err = anchorDistance(db)
	return first, later, reverse, dist, err
}

// keepSlowest keeps (-keep) the recording of the slowest at-once Reverse
// Continue so far as lines-live-slowest.db beside the last session's: what
// a slow one's anchors were is read from it (the next session removes
// lines-live.db).
func (r *Results) keepSlowest(session int, rc, dist float64) {
	db := filepath.Join(r.tmp, "lines-live.db")
	to := filepath.Join(r.tmp, "lines-live-slowest.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(to + suffix)
		_ = os.Rename(db+suffix, to+suffix)
	}
	logf("lines live: session %d, Reverse Continue at once %.0f ms, its anchor %.1f ms before the exception: kept as %s", session+1, rc, dist, to)
}
