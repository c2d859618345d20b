package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var workloads = []string{"call_heavy", "loop_heavy", "alloc_heavy", "recursion_heavy", "io_heavy"}

const (
	iterations     = 3    // each workload process runs its work this many times, timing each
	bdbScale       = 0.03 // bdb runs ~50x slower: a fraction of the work, against plain Python at the same fraction
	debugpyScale   = 0.1
	peerIterations = 2
	peerReps       = 2
	procTimeout    = 5 * time.Minute
)

// modes of one overhead round, all on the same workload.
type mode struct {
	key  string
	args func(py PyInfo, prog string, line int, db string) (string, []string)
}

func (r *Results) overheadModes() map[string]mode {
	sc := func(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }
	ms := []mode{
		{"plain", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog}
		}},
		{"a", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, "-b", fmt.Sprintf("%s:%d", prog, line), prog}
		}},
		{"b", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, prog}
		}},
		{"c", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return r.bin, []string{"record", "--db", db, "--python", py.Path, "--every", "100ms", prog}
		}},
		// the control: plain Python in a pyreplay run's place
		{"aa", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog}
		}},
		{"plain-bdb", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{prog, sc(bdbScale), strconv.Itoa(peerIterations)}
		}},
		{"bdb", func(py PyInfo, prog string, line int, db string) (string, []string) {
			return py.Path, []string{filepath.Join(r.root, "bench", "drivers", "bdb_run.py"), prog, strconv.Itoa(line), sc(bdbScale), strconv.Itoa(peerIterations)}
		}},
	}
	out := map[string]mode{}
	for _, m := range ms {
		out[m.key] = m
	}
	return out
}

var recordedRe = regexp.MustCompile(`recorded (\d+) snapshot`)
var bdbHitsRe = regexp.MustCompile(`BDB-HITS (\d+)`)

// sample is one run (process) of one mode.
type sample struct {
	cpu, wall       float64 // the fastest iteration's in-program CPU and wall time
	sumCPU, sumWall float64 // all iterations'
	startup         float64 // from starting the process to the program's main() (seconds)
	snaps           int     // snapshots recorded (pyreplay) or breakpoint hits (bdb, debugpy)
}

func newSample(t iterTimes) sample {
	s := sample{cpu: t.cpu[0], wall: t.wall[0], snaps: -1}
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

// pinning runs the two sides of a pair on different CPUs (taskset), when
// there are two and taskset exists.
var pinning = func() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}()

// pair is plain Python and one other mode, run side by side.
type pair struct{ plain, other sample }

// overhead measures each mode against plain Python in pairs run at the same
// time, one on each CPU, their timed work started together and each kept
// busy until the other is done: the speed of this kind of machine changes
// from second to second, and with how busy the other CPU is, and both sides
// of a pair see the same. The CPUs, and which side starts first, alternate
// from round to round.
func (r *Results) overhead(py PyInfo) {
	logf("overhead: Python %s", py.Version)
	modes := r.overheadModes()
	db := filepath.Join(r.tmp, "overhead-"+py.Minor+".db")
	tools := []string{"a", "b", "c", "aa"}
	for _, w := range workloads {
		prog := filepath.Join(r.root, "bench", "workloads", w+".py")
		line := breakLine(prog)
		got := map[string][]pair{}
		failed := map[string]error{}
		n := 0
		for rep := 0; rep < *flagReps; rep++ {
			for i := range tools {
				key := tools[(i+rep)%len(tools)]
				if failed[key] != nil {
					continue
				}
				p, err := r.runPair(modes["plain"], modes[key], py, prog, line, db, n%2 == 1)
				n++
				if err != nil {
					failed[key] = err
					continue
				}
				got[key] = append(got[key], p)
			}
			if rep < peerReps && failed["bdb"] == nil {
				p, err := r.runPair(modes["plain-bdb"], modes["bdb"], py, prog, line, db, rep%2 == 1)
				if err != nil {
					failed["bdb"] = err
				} else {
					got["bdb"] = append(got["bdb"], p)
				}
			}
		}
		r.overheadFigures(py, w, got, failed)
	}
	// all workloads together: every ratio of the version
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
			Note: "every ratio of the workloads above"}
		if t, lim := overheadTarget(py, key); t != "" {
			f.Target = t
			f.Met = met(f.Median <= lim)
		}
		r.add(f)
	}
}

const allWorkloads = "all workloads"

// runPair runs two modes of a workload side by side (b first when swap) and
// returns their samples.
func (r *Results) runPair(ma, mb mode, py PyInfo, prog string, line int, db string, swap bool) (pair, error) {
	dir, err := os.MkdirTemp(r.tmp, "pair-")
	if err != nil {
		return pair{}, err
	}
	defer os.RemoveAll(dir)
	goFile := filepath.Join(dir, "go")
	type side struct {
		a       bool // ma's side
		m       mode
		cmd     *exec.Cmd
		timing  string
		ready   string
		stderr  bytes.Buffer
		started time.Time
		done    chan error
	}
	sides := []*side{{a: true, m: ma}, {m: mb}}
	if swap {
		sides[0], sides[1] = sides[1], sides[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	defer cancel()
	for i, s := range sides {
		s.timing = filepath.Join(dir, fmt.Sprintf("timing-%d", i))
		s.ready = filepath.Join(dir, fmt.Sprintf("ready-%d", i))
		name, args := s.m.args(py, prog, line, db)
		if pinning && r.CPUs >= 2 {
			cpu := i
			if swap {
				cpu = 1 - i
			}
			args = append([]string{"-c", strconv.Itoa(cpu), name}, args...)
			name = "taskset"
		}
		s.cmd = exec.CommandContext(ctx, name, args...)
		s.cmd.Dir = r.tmp
		s.cmd.Env = append(cleanEnv(), "BENCH_TIMING="+s.timing, "BENCH_READY="+s.ready, "BENCH_GO="+goFile,
			"BENCH_DONE="+filepath.Join(dir, fmt.Sprintf("done-%d", i)), "BENCH_PEER_DONE="+filepath.Join(dir, fmt.Sprintf("done-%d", 1-i)))
		s.cmd.Stderr = &s.stderr
		s.started = time.Now()
		if err := s.cmd.Start(); err != nil {
			return pair{}, err
		}
		s.done = make(chan error, 1)
		go func(s *side) { s.done <- s.cmd.Wait() }(s)
	}
	// both ready (start-up done), then go
	fail := func(s *side, err error) (pair, error) {
		cancel()
		for _, o := range sides {
			<-o.done
		}
		return pair{}, fmt.Errorf("%s: %v\n%s", s.m.key, err, tail(s.stderr.String(), 800))
	}
	for _, s := range sides {
		for {
			if _, err := os.Stat(s.ready); err == nil {
				break
			}
			select {
			case err := <-s.done:
				s.done <- err
				return fail(s, fmt.Errorf("ended before its timed work (%v)", err))
			case <-time.After(500 * time.Microsecond):
			}
			if ctx.Err() != nil {
				return fail(s, ctx.Err())
			}
		}
	}
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		return fail(sides[0], err)
	}
	var out [2]sample
	for _, s := range sides {
		if err := <-s.done; err != nil {
			s.done <- err
			return fail(s, err)
		}
		t, err := readTimings(s.timing)
		if err != nil {
			return fail(s, err)
		}
		smp := newSample(t)
		if b, err := os.ReadFile(s.ready); err == nil {
			if at, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil {
				smp.startup = at - float64(s.started.UnixNano())/1e9
			}
		}
		if mm := recordedRe.FindStringSubmatch(s.stderr.String()); mm != nil {
			smp.snaps, _ = strconv.Atoi(mm[1])
		} else if mm := bdbHitsRe.FindStringSubmatch(s.stderr.String()); mm != nil {
			smp.snaps, _ = strconv.Atoi(mm[1])
		} else if s.m.key == "a" || s.m.key == "b" || s.m.key == "c" {
			smp.snaps = 0
		}
		if *flagV {
			logf("%s %.1f ms (startup %.0f ms)", s.m.key, smp.cpu*1000, smp.startup*1000)
		}
		if s.a {
			out[0] = smp
		} else {
			out[1] = smp
		}
	}
	return pair{plain: out[0], other: out[1]}, nil
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
	"aa":  "control: plain Python in pyreplay's place",
	"bdb": "bdb, same breakpoint",
}

func (r *Results) overheadFigures(py PyInfo, w string, got map[string][]pair, failed map[string]error) {
	for _, key := range []string{"a", "b", "c", "aa", "bdb"} {
		f := Figure{Section: "overhead", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x"}
		if err := failed[key]; err != nil {
			f.Note = "failed: " + firstLine(err.Error())
			r.note("overhead %s %s %s failed: %v", py.Minor, w, key, err)
			r.add(f)
			continue
		}
		ps := got[key]
		if len(ps) == 0 {
			continue
		}
		var cpu, wall []float64
		for _, p := range ps {
			if key == "c" {
				// the checkpoints fall in some iterations and not others: all of them count
				cpu = append(cpu, p.other.sumCPU/p.plain.sumCPU)
				wall = append(wall, p.other.sumWall/p.plain.sumWall)
			} else {
				cpu = append(cpu, p.other.cpu/p.plain.cpu)
				wall = append(wall, p.other.wall/p.plain.wall)
			}
		}
		f.Stat = stat(cpu)
		wr := stat(wall)
		what := "the fastest iteration"
		if key == "c" {
			what = fmt.Sprintf("all %d iterations", iterations)
		}
		f.Note = fmt.Sprintf("CPU time of %s; wall-time ratio %.3f [%.3f–%.3f]", what, wr.Median, wr.Min, wr.Max)
		switch key {
		case "a", "c":
			var n []float64
			for _, p := range ps {
				n = append(n, float64(p.other.snaps))
			}
			f.Note += fmt.Sprintf("; snapshots per run %.0f", median(n))
			if key == "a" && median(n) < 1 {
				f.Note += " (the breakpoint did not fire!)"
			}
		case "b":
			var d []float64
			for _, p := range ps {
				d = append(d, (p.other.startup-p.plain.startup)*1000)
			}
			r.add(Figure{Section: "startup", Python: py.Minor, Case: w, Metric: "pyreplay record start-up, beyond plain Python's", Unit: "ms", Stat: stat(d)})
		case "bdb":
			f.Note += fmt.Sprintf("; at %.0f%% of the work, against plain Python at the same fraction", bdbScale*100)
			hits := 0
			for _, p := range ps {
				hits += p.other.snaps
			}
			if hits < len(ps) {
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

func cpus(ss []sample) []float64 {
	var out []float64
	for _, s := range ss {
		out = append(out, s.cpu)
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

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
