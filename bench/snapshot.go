package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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

// snapshotCost records each case with pyreplay and reads the time of each
// pyreplay.snapshot() call, measured inside the program, and the size of
// what it stored.
func (r *Results) snapshotCost(py PyInfo) {
	logf("snapshot: Python %s", py.Version)
	drv := filepath.Join(r.root, "bench", "drivers", "snapshot_cost.py")
	for i, c := range snapCases {
		db := filepath.Join(r.tmp, fmt.Sprintf("snap-%s-%d.db", py.Minor, i))
		out := filepath.Join(r.tmp, "snaptimes.txt")
		os.Remove(out)
		f := Figure{Section: "snapshot", Python: py.Minor, Case: c.name(), Metric: "time of one snapshot", Unit: "ms"}
		if c.depth == 20 && c.locals <= 100_000 {
			f.Target = "≤ 5 (median)"
		}
		p := run(procTimeout, r.tmp, nil, r.bin, "record", "--db", db, "--python", py.Path, drv,
			strconv.Itoa(c.depth), strconv.Itoa(c.locals), strconv.Itoa(c.count), out)
		if p.err != nil {
			f.Note = "failed: " + firstLine(p.err.Error())
			r.note("snapshot %s %s: %v", py.Minor, c.name(), p.err)
			r.add(f)
			continue
		}
		b, err := os.ReadFile(out)
		if err != nil {
			f.Note = "failed: no timings"
			r.add(f)
			continue
		}
		var times, cpu []float64
		first := 0.0
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fs := strings.Fields(l)
			if len(fs) == 3 && fs[0] == "first" {
				first, _ = strconv.ParseFloat(fs[1], 64)
				continue
			}
			if len(fs) != 2 {
				continue
			}
			w, err1 := strconv.ParseFloat(fs[0], 64)
			c, err2 := strconv.ParseFloat(fs[1], 64)
			if err1 == nil && err2 == nil {
				times, cpu = append(times, w*1000), append(cpu, c*1000)
			}
		}
		cs := stat(cpu)
		r.add(Figure{Section: "snapshot-cpu", Python: py.Minor, Case: c.name(), Metric: "CPU time of one snapshot", Unit: "ms", Stat: cs})
		f.Stat = stat(times)
		if f.Target != "" {
			f.Met = met(f.Median <= 5)
		}
		state, views, total, n, err := snapshotSizes(db)
		if err != nil {
			f.Note = "sizes: " + err.Error()
		} else {
			f.Note = fmt.Sprintf("first snapshot of the run (not in the statistics) %.1f ms; size %s (pickled state %s + JSON views %s) over %d snapshots",
				first*1000, kb(total), kb(state), kb(views), n)
			r.add(Figure{Section: "snapshot-size", Python: py.Minor, Case: c.name(), Metric: "size of one snapshot (state + views)", Unit: "bytes",
				Stat: Stat{N: n, Median: total, P95: total, Min: total, Max: total},
				Note: fmt.Sprintf("pickled state %s, JSON views %s", kb(state), kb(views))})
		}
		r.add(f)
	}
}

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

var _ = time.Second
