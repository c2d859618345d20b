package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	bigSize   = 200_000_000
	bigRounds = 7
)

// bigValue measures a snapshot of one large value (a 200 MB bytes local)
// against its anchor, pickling the same value alone in the same Python:
// wall time, turn about in one recorded process (bench/drivers/big_value.py;
// the figure is the median of the paired ratios, snapshot ÷ pickle, with
// its 95% interval), and peak memory, the process's maximum resident size
// after its first snapshot ÷ the value's size (beside it, the same for a
// process that only pickles it). Targets: ≤ 1.5× the time, ≤ 2× the size.
func (r *Results) bigValue(py PyInfo) {
	logf("big value: Python %s", py.Version)
	drv := filepath.Join(r.root, "bench", "drivers", "big_value.py")
	cs := fmt.Sprintf("a %d MB bytes local", bigSize/1_000_000)
	db := filepath.Join(r.tmp, "big-"+py.Minor+".db")
	defer func() {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(db + s)
		}
	}()
	out := filepath.Join(r.tmp, "big.txt")
	fail := func(err error) {
		r.note("big value %s: %v", py.Minor, err)
		r.add(Figure{Section: "bigvalue", Python: py.Minor, Case: cs, Metric: "snapshot ÷ pickling it alone (wall time)", Unit: "x",
			Stat: nanStat(), Note: "failed: " + firstLine(err.Error())})
	}
	os.Remove(out)
	p := run(procTimeout, r.tmp, nil, r.bin, "record", "--db", db, "--python", py.Path, drv,
		strconv.Itoa(bigSize), strconv.Itoa(bigRounds), out, db)
	if p.err != nil {
		fail(p.err)
		return
	}
	snapPeak, ratios, snaps, pickles, written, err := readBig(out)
	if err != nil {
		fail(err)
		return
	}
	os.Remove(out)
	if p := run(procTimeout, r.tmp, nil, py.Path, drv, strconv.Itoa(bigSize), "0", out, "pickle"); p.err != nil {
		fail(p.err)
		return
	}
	alonePeak, _, _, _, _, err := readBig(out)
	if err != nil {
		fail(err)
		return
	}
	f := Figure{Section: "bigvalue", Python: py.Minor, Case: cs, Metric: "snapshot ÷ pickling it alone (wall time)", Unit: "x",
		Stat: medianStat(ratios), Target: "≤ 1.5", Limit: 1.5}
	f.Verdict = verdictLE(f.Stat, 1.5)
	f.Note = fmt.Sprintf("snapshot %.0f ms, pickle alone %.0f ms (medians of %d rounds); the program waits for the snapshot, its state is written while the program goes on", median(snaps)*1000, median(pickles)*1000, len(ratios))
	r.add(f)
	r.add(Figure{Section: "bigvalue", Python: py.Minor, Case: cs, Metric: "snapshot to its row in the recording", Unit: "ms",
		Stat: medianStat(toMS(written)), Note: "the deferred write, while the program sleeps"})
	m := snapPeak / bigSize
	mf := Figure{Section: "bigvalue", Python: py.Minor, Case: cs, Metric: "peak memory ÷ the value's size", Unit: "x",
		Stat: Stat{N: 1, Value: m, Lo: m, Hi: m, Median: m, Min: m, Max: m}, Target: "≤ 2", Limit: 2}
	mf.Verdict = verdictLE(mf.Stat, 2)
	mf.Note = fmt.Sprintf("pickling it alone peaks at %.2f×", alonePeak/bigSize)
	r.add(mf)
}

// readBig reads big_value.py's output: the peak memory after the first
// snapshot or pickle, and per round snapshot ÷ pickle, both times and the
// time until the snapshot's row was in the recording.
func readBig(path string) (peak float64, ratios, snaps, pickles, written []float64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, nil, nil, nil, fmt.Errorf("no timings: %v", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fs := strings.Fields(l)
		if len(fs) == 3 && fs[0] == "peak" {
			peak, _ = strconv.ParseFloat(fs[2], 64)
			continue
		}
		if len(fs) != 3 {
			continue
		}
		s, err1 := strconv.ParseFloat(fs[0], 64)
		p, err2 := strconv.ParseFloat(fs[1], 64)
		w, err3 := strconv.ParseFloat(fs[2], 64)
		if err1 == nil && err2 == nil && err3 == nil && p > 0 {
			ratios, snaps, pickles, written = append(ratios, s/p), append(snaps, s), append(pickles, p), append(written, w)
		}
	}
	if peak == 0 {
		return 0, nil, nil, nil, nil, fmt.Errorf("no peak memory in %s", path)
	}
	return peak, ratios, snaps, pickles, written, nil
}

// toMS turns seconds into milliseconds.
func toMS(secs []float64) []float64 {
	out := make([]float64, len(secs))
	for i, s := range secs {
		out[i] = s * 1000
	}
	return out
}
