package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

var workloads = []string{"call_heavy", "loop_heavy", "alloc_heavy", "recursion_heavy", "io_heavy"}

const (
	iterations     = 2    // each workload process runs its work this many times, timing each
	bdbScale       = 0.03 // bdb runs ~50x slower: a fraction of the work, against plain Python at the same fraction
	debugpyScale   = 0.1
	peerIterations = 2
	peerReps       = 2
	aaReps         = 2 // rounds with the plain-against-plain control
	procTimeout    = 5 * time.Minute
)

// modes of one overhead round, all on the same workload.
type mode struct {
	key   string
	scale float64
	args  func(py PyInfo, prog string, line int, db string) (string, []string)
}

func (r *Results) overheadModes() []mode {
	sc := func(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }
	return []mode{
		{"plain", 1, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog}
		}},
		{"a", 1, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, "-b", fmt.Sprintf("%s:%d", prog, line), prog}
		}},
		{"b", 1, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, prog}
		}},
		{"c", 1, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, "--every", "100ms", prog}
		}},
		// the control: plain Python measured exactly as the pyreplay runs are
		{"aa", 1, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog}
		}},
		{"plain-bdb", bdbScale, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog, sc(bdbScale), strconv.Itoa(peerIterations)}
		}},
		{"bdb", bdbScale, func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{filepath.Join(r.root, "bench", "drivers", "bdb_run.py"), prog, strconv.Itoa(line), sc(bdbScale), strconv.Itoa(peerIterations)}
		}},
	}
}

var recordedRe = regexp.MustCompile(`recorded (\d+) snapshot`)

// sample is one run (process) of one mode.
type sample struct {
	cpu, wall       float64 // the fastest iteration's in-program CPU and wall time
	sumCPU, sumWall float64 // all iterations'
	proc            float64 // whole-process wall time
	snaps           int     // snapshots recorded (pyreplay) or breakpoint hits (bdb, debugpy)
}

func newSample(t iterTimes, proc float64) sample {
	s := sample{cpu: t.cpu[0], wall: t.wall[0], proc: proc, snaps: -1}
	for i := range t.cpu {
		if t.cpu[i] < s.cpu {
			s.cpu = t.cpu[i]
		}
		if t.wall[i] < s.wall {
			s.wall = t.wall[i]
		}
		s.sumCPU += t.cpu[i]
		s.sumWall += t.wall[i]
	}
	return s
}

func (r *Results) overhead(py PyInfo) {
	logf("overhead: Python %s", py.Version)
	modes := map[string]mode{}
	for _, m := range r.overheadModes() {
		modes[m.key] = m
	}
	db := filepath.Join(r.tmp, "overhead-"+py.Minor+".db")
	tools := []string{"a", "b", "c"}
	for _, w := range workloads {
		prog := filepath.Join(r.root, "bench", "workloads", w+".py")
		line := breakLine(prog)
		got := map[string][]sample{}
		failed := map[string]error{}
		do := func(key string) (sample, bool) {
			if failed[key] != nil {
				return sample{}, false
			}
			s, err := r.runWorkload(modes[key], py, prog, line, db)
			if err != nil {
				failed[key] = err
				return sample{}, false
			}
			return s, true
		}
		// plain, tool, plain, tool, plain, ...: each pyreplay run is compared
		// with the plain runs just before and after it, so a machine that
		// changes speed between runs affects both sides; the order of the
		// tools rotates from round to round
		before, ok := do("plain")
		if ok {
			got["plain"] = append(got["plain"], before)
		}
		for rep := 0; rep < *flagReps && ok; rep++ {
			round := tools
			if rep < aaReps {
				round = append(append([]string(nil), tools...), "aa")
			}
			for i := range round {
				key := round[(i+rep)%len(round)]
				s, tok := do(key)
				after, pok := do("plain")
				if !pok {
					ok = false
					break
				}
				got["plain"] = append(got["plain"], after)
				if tok {
					got[key] = append(got[key], s)
					got["base-"+key] = append(got["base-"+key], meanSample(before, after))
				}
				before = after
			}
			if rep < peerReps {
				if s, ok := do("plain-bdb"); ok {
					if b, ok := do("bdb"); ok {
						got["plain-bdb"] = append(got["plain-bdb"], s)
						got["bdb"] = append(got["bdb"], b)
					}
				}
			}
		}
		r.overheadFigures(py, w, got, failed)
	}
	// all workloads together: every paired ratio of the version
	for _, key := range []string{"a", "b", "c", "aa"} {
		var xs []float64
		for _, f := range r.Figures {
			if f.Section == "overhead" && f.Python == py.Minor && f.Metric == modeMetric[key] && f.Case != allWorkloads {
				xs = append(xs, f.Samples...)
			}
		}
		if len(xs) == 0 {
			continue
		}
		f := Figure{Section: "overhead", Python: py.Minor, Case: allWorkloads, Metric: modeMetric[key], Unit: "x", Stat: stat(xs),
			Note: "every paired ratio of the workloads above"}
		if t, lim := overheadTarget(py, key); t != "" {
			f.Target = t
			f.Met = met(f.Median <= lim)
		}
		r.add(f)
	}
}

const allWorkloads = "all workloads"

func meanSample(a, b sample) sample {
	return sample{cpu: (a.cpu + b.cpu) / 2, wall: (a.wall + b.wall) / 2, sumCPU: (a.sumCPU + b.sumCPU) / 2,
		sumWall: (a.sumWall + b.sumWall) / 2, proc: (a.proc + b.proc) / 2}
}

func (r *Results) runWorkload(m mode, py PyInfo, prog string, line int, db string) (sample, error) {
	timing := filepath.Join(r.tmp, "timing.txt")
	os.Remove(timing)
	name, args := m.args(py, prog, line, db)
	p := run(procTimeout, r.tmp, []string{"BENCH_TIMING=" + timing}, name, args...)
	if p.err != nil {
		return sample{}, p.err
	}
	t, err := readTimings(timing)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", m.key, err, tail(p.stderr, 800))
	}
	s := newSample(t, p.wall)
	if mm := recordedRe.FindStringSubmatch(p.stderr); mm != nil {
		s.snaps, _ = strconv.Atoi(mm[1])
	} else if mm := regexp.MustCompile(`BDB-HITS (\d+)`).FindStringSubmatch(p.stderr); mm != nil {
		s.snaps, _ = strconv.Atoi(mm[1])
	} else if m.key == "a" || m.key == "b" || m.key == "c" {
		s.snaps = 0
	}
	return s, nil
}

func cpus(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.cpu)
	}
	return out
}

func sumCPUs(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.sumCPU)
	}
	return out
}

func walls(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.wall)
	}
	return out
}

func sumWalls(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.sumWall)
	}
	return out
}

// outside is the whole-process time not spent in the measured region:
// interpreter and shim start-up, and exit.
func outside(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.proc-s.sumWall)
	}
	return out
}

func overheadTarget(py PyInfo, key string) (string, float64) {
	switch key {
	case "a":
		if py.Minor == "3.12" || py.Minor == "3.13" {
			return "≤ 1.05", 1.05
		}
		return "≤ 1.3", 1.3
	case "b":
		return "≤ 1.05", 1.05
	}
	return "", 0
}

var modeMetric = map[string]string{
	"a":   "(a) breakpoint set, not hit in the hot path",
	"b":   "(b) exception capture only",
	"c":   "(c) --every 100ms",
	"bdb": "bdb, same breakpoint",
	"aa":  "control: plain Python measured as pyreplay is",
}

func (r *Results) overheadFigures(py PyInfo, w string, got map[string][]sample, failed map[string]error) {
	if err := failed["plain"]; err != nil {
		r.note("overhead %s %s: plain Python failed, no ratios: %v", py.Minor, w, err)
		return
	}
	for _, key := range []string{"a", "b", "c", "aa", "bdb"} {
		base := got["base-"+key]
		if key == "bdb" {
			base = got["plain-bdb"]
			if err := failed["plain-bdb"]; err != nil {
				r.note("overhead %s %s: plain Python at bdb's scale failed: %v", py.Minor, w, err)
				continue
			}
		}
		f := Figure{Section: "overhead", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x"}
		if err := failed[key]; err != nil {
			f.Note = "failed: " + firstLine(err.Error())
			r.note("overhead %s %s %s failed: %v", py.Minor, w, key, err)
			r.add(f)
			continue
		}
		ss := got[key]
		if key == "c" {
			// the checkpoints fall in some iterations and not others: all of them count
			f.Stat = stat(ratios(sumCPUs(ss), sumCPUs(base)))
			wr := stat(ratios(sumWalls(ss), sumWalls(base)))
			f.Note = fmt.Sprintf("CPU time of all %d iterations; wall-time ratio %.3f [%.3f–%.3f]", iterations, wr.Median, wr.Min, wr.Max)
		} else {
			f.Stat = stat(ratios(cpus(ss), cpus(base)))
			wr := stat(ratios(walls(ss), walls(base)))
			f.Note = fmt.Sprintf("CPU time of the fastest iteration; wall-time ratio %.3f [%.3f–%.3f]", wr.Median, wr.Min, wr.Max)
		}
		switch key {
		case "a", "c":
			var n []float64
			for _, s := range ss {
				n = append(n, float64(s.snaps))
			}
			f.Note += fmt.Sprintf("; snapshots per run %.0f", median(n))
			if key == "a" && median(n) < 1 {
				f.Note += " (the breakpoint did not fire!)"
			}
		case "b":
			st := stat(outside(ss))
			pt := stat(outside(base))
			f.Note += fmt.Sprintf("; start-up+exit outside the measured region %.0f ms vs %.0f ms plain", st.Median*1000, pt.Median*1000)
			r.add(Figure{Section: "startup", Python: py.Minor, Case: w, Metric: "pyreplay record start-up and exit, beyond plain Python's", Unit: "ms",
				Stat: stat(scale(diffs(outside(ss), outside(base)), 1000))})
		case "bdb":
			f.Note += fmt.Sprintf("; at %.0f%% of the work, against plain Python at the same fraction", bdbScale*100)
			hits := 0
			for _, s := range ss {
				hits += s.snaps
			}
			if hits < len(ss) {
				f.Note += " (the breakpoint did not fire!)"
			}
		}
		if t, lim := overheadTarget(py, key); t != "" {
			f.Target = t
			f.Met = met(f.Median <= lim)
		}
		r.add(f)
	}
}

func diffs(a, b []float64) []float64 {
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		out[i] = a[i] - b[i]
	}
	return out
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
