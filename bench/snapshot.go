package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pyreplay/pyreplay/recording"
)

type snapCase struct {
	depth  int
	locals int // bytes of locals in the whole stack (pickled size); 0: a few small ones per frame
	count  int
}

var snapCases = []snapCase{
	{1, 0, 30}, {20, 0, 30}, {200, 0, 12},
	{20, 100_000, 30},
	{1, 1_000_000, 5}, {20, 1_000_000, 5}, {200, 1_000_000, 5},
}

func (c snapCase) name() string {
	l := "small locals"
	switch {
	case c.locals >= 1_000_000:
		l = fmt.Sprintf("~%d MB of locals", c.locals/1_000_000)
	case c.locals > 0:
		l = fmt.Sprintf("~%d kB of locals", c.locals/1000)
	}
	return fmt.Sprintf("%d deep, %s", c.depth, l)
}

// snapshotCost records each case twice, in two processes at different
// times (every case once, then every case again in the reverse order), and
// reads the time of each pyreplay.snapshot() call, measured inside the
// program, and the size of what it stored. The figure is the CPU time of a
// snapshot (the shim writes SQLite in the program's process; wall time
// beside it), the median of the fastest half of both runs' snapshots, with
// its 95% interval; the control is how far the two runs' figures differ
// (second ÷ first).
func (r *Results) snapshotCost(py PyInfo) {
	logf("snapshot: Python %s", py.Version)
	drv := filepath.Join(r.root, "bench", "drivers", "snapshot_cost.py")
	type got struct {
		times, cpu [2][]float64
		first      []float64
		db         string
		err        error
	}
	res := make([]got, len(snapCases))
	for pass := 0; pass < 2; pass++ {
		for j := range snapCases {
			i := j
			if pass == 1 {
				i = len(snapCases) - 1 - j
			}
			c, g := snapCases[i], &res[i]
			if g.err != nil {
				continue
			}
			g.db = filepath.Join(r.tmp, fmt.Sprintf("snap-%s-%d-%d.db", py.Minor, i, pass))
			out := filepath.Join(r.tmp, "snaptimes.txt")
			os.Remove(out)
			p := run(procTimeout, r.tmp, nil, r.bin, "record", "--db", g.db, "--python", py.Path, drv,
				strconv.Itoa(c.depth), strconv.Itoa(c.locals), strconv.Itoa(c.count), out)
			if p.err != nil {
				g.err = p.err
				continue
			}
			b, err := os.ReadFile(out)
			if err != nil {
				g.err = fmt.Errorf("no timings: %v", err)
				continue
			}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				fs := strings.Fields(l)
				if len(fs) == 3 && fs[0] == "first" {
					first, _ := strconv.ParseFloat(fs[1], 64)
					g.first = append(g.first, first*1000)
					continue
				}
				if len(fs) != 2 {
					continue
				}
				w, err1 := strconv.ParseFloat(fs[0], 64)
				c, err2 := strconv.ParseFloat(fs[1], 64)
				if err1 == nil && err2 == nil {
					g.times[pass], g.cpu[pass] = append(g.times[pass], w*1000), append(g.cpu[pass], c*1000)
				}
			}
		}
	}
	for i, c := range snapCases {
		g := res[i]
		f := Figure{Section: "snapshot", Python: py.Minor, Case: c.name(), Metric: "CPU time of one snapshot", Unit: "ms"}
		if g.err != nil {
			f.Stat = nanStat()
			f.Note = "failed: " + firstLine(g.err.Error())
			r.note("snapshot %s %s: %v", py.Minor, c.name(), g.err)
			r.add(f)
			continue
		}
		f.Stat = fastStat(append(append([]float64(nil), g.cpu[0]...), g.cpu[1]...))
		r.add(Figure{Section: "snapshot-wall", Python: py.Minor, Case: c.name(), Metric: "wall-clock time of one snapshot", Unit: "ms",
			Stat: fastStat(append(append([]float64(nil), g.times[0]...), g.times[1]...))})
		ctl := fastStat(g.cpu[1]).Value / fastStat(g.cpu[0]).Value
		r.add(Figure{Section: "snapshot-control", Python: py.Minor, Case: c.name(), Metric: "second run's figure ÷ first run's", Unit: "x",
			Stat: Stat{N: 2, Value: ctl, Lo: ctl, Hi: ctl, Median: ctl, Min: ctl, Max: ctl}, Target: fmt.Sprintf("1.00 ± %.2f", absTol)})
		if c.depth == 20 && c.locals <= 100_000 {
			f.Target, f.Limit = "≤ 5", 5
			f.Verdict = verdictLE(f.Stat, 5)
			if math.Abs(ctl-1) > absTol {
				f.Verdict = vUntrusted
			}
		}
		state, views, total, n, err := snapshotSizes(g.db)
		if err != nil {
			f.Note = "sizes: " + err.Error()
		} else {
			f.Note = fmt.Sprintf("first snapshot of each run (not in the statistics) %.1f ms; size %s (pickled state %s + JSON views %s) over %d snapshots",
				median(g.first), kb(total), kb(state), kb(views), n)
			r.add(Figure{Section: "snapshot-size", Python: py.Minor, Case: c.name(), Metric: "size of one snapshot (state + views)", Unit: "bytes",
				Stat: Stat{N: n, Value: total, Lo: total, Hi: total, Median: total, P95: total, Min: total, Max: total},
				Note: fmt.Sprintf("pickled state %s, JSON views %s", kb(state), kb(views))})
		}
		r.add(f)
	}
}

// absTol: two runs of the same absolute measurement (milliseconds) must
// agree within this, or its verdict is untrusted.
const absTol = 0.10

// snapshotSizes returns the median sizes of the "bench" snapshots.
func snapshotSizes(db string) (state, views, total float64, n int, err error) {
	st, err := recording.Open(db)
	if err != nil {
		return
	}
	defer st.Close()
	rows, err := st.DB.Query(`SELECT length(state), length(frames) + length(globals) FROM snapshots WHERE label = 'bench'`)
	if err != nil {
		return
	}
	defer rows.Close()
	var ss, vs, ts []float64
	for rows.Next() {
		var s, v float64
		if err = rows.Scan(&s, &v); err != nil {
			return
		}
		ss, vs, ts = append(ss, s), append(vs, v), append(ts, s+v)
	}
	if len(ss) == 0 {
		err = fmt.Errorf("no snapshots recorded")
		return
	}
	return median(ss), median(vs), median(ts), len(ss), rows.Err()
}

func kb(b float64) string {
	switch {
	case b >= 1e6:
		return fmt.Sprintf("%.2f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

