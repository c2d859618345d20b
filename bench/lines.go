package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// lineHistory measures time travel by line through a recording (record
// --trace, a replay with "lineHistory"): the recording's cost against a
// plain run, and Step Back latency from the uncaught exception, the first
// one (which re-executes the run from its first line, traced) and the next
// ones (from the window the first made), for runs of growing length.
func (r *Results) lineHistory(py PyInfo) {
	prog := filepath.Join(r.root, "bench", "drivers", "line_history.py")
	type lcase struct {
		n     int
		every string // --every: anchors along the run (a live session takes them every 250 ms)
	}
	for _, lc := range []lcase{{1_000, ""}, {10_000, ""}, {100_000, ""}, {1_000_000, ""}, {1_000_000, "100ms"}} {
		n := lc.n
		cs := fmt.Sprintf("%d loop iterations before the exception", n)
		extra := []string{}
		if lc.every != "" {
			cs += ", --every " + lc.every
			extra = []string{"--every", lc.every}
		}
		db := filepath.Join(r.tmp, fmt.Sprintf("lines-%d-%s.db", n, lc.every))
		t0 := time.Now()
		if p := run(procTimeout, r.tmp, nil, py.Path, prog, strconv.Itoa(n)); !strings.Contains(p.stderr, "ValueError") {
			r.note("lines: plain run: %v %s", p.err, p.stderr)
			return
		}
		plain := ms(time.Since(t0))
		t0 = time.Now()
		args := append(append([]string{"record", "--trace"}, extra...), "--db", db, "--python", py.Path, prog, strconv.Itoa(n))
		if p := run(procTimeout, r.tmp, nil, r.bin, args...); !strings.Contains(p.stderr, "recorded ") {
			r.note("lines: record --trace: %v %s", p.err, p.stderr)
			return
		}
		rec := ms(time.Since(t0))
		r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "record --trace, wall", Unit: "ms", Stat: describe([]float64{rec}),
			Note: fmt.Sprintf("the plain run %.0f ms (one process start each; the snapshots: the first line, the exception)", plain)})
		first, later, err := r.stepBackLines(db)
		if err != nil {
			r.note("lines: %v", err)
			r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "first step back", Unit: "ms", Stat: nanStat(), Note: "failed: " + firstLine(err.Error())})
			continue
		}
		r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "first step back (re-executes the run)", Unit: "ms", Stat: describe([]float64{first})})
		r.add(Figure{Section: "lines", Python: py.Minor, Case: cs, Metric: "later step backs", Unit: "ms", Stat: medianStat(later)})
	}
}

// stepBackLines replays db at its exception with line history and times
// Step Back (to the stopped event and the stack): the first, then ten more.
func (r *Results) stepBackLines(db string) (first float64, later []float64, err error) {
	list, err := r.ls(db)
	if err != nil || len(list) == 0 {
		return 0, nil, fmt.Errorf("no snapshots in %s: %v", db, err)
	}
	const to = 10 * time.Minute
	last := list[len(list)-1].ID // the exception's
	c, err := r.openSession(map[string]any{"recording": db, "snapshot": last, "lineHistory": true}, nil, to)
	if err != nil {
		return 0, nil, err
	}
	defer c.close()
	for i := 0; i < 11; i++ {
		d, err := timedStop(c, "stepBack", to)
		if err != nil {
			return 0, nil, err
		}
		if i == 0 {
			first = d
		} else {
			later = append(later, d)
		}
	}
	_, _ = c.call("disconnect", map[string]any{}, 5*time.Second)
	return first, later, nil
}

// timedStop times command (stepBack, reverseContinue, ...) to its stopped
// event and the new stop's stack, in ms.
func timedStop(c *dapClient, command string, to time.Duration) (float64, error) {
	c.dropEvents()
	t := time.Now()
	if _, err := c.call(command, map[string]any{"threadId": 1}, to); err != nil {
		return 0, err
	}
	if _, err := c.event("stopped", to); err != nil {
		return 0, err
	}
	if _, err := c.call("stackTrace", map[string]any{"threadId": 1}, to); err != nil {
		return 0, err
	}
	return ms(time.Since(t)), nil
}
