package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

var workloads = []string{"call_heavy", "loop_heavy", "alloc_heavy", "recursion_heavy", "io_heavy"}

const (
	turnScale    = 0.05  // a run of the work: 5% of a workload's base work (4-8 ms of plain Python)
	turnRuns     = 3     // runs of the work per turn; the fastest counts ((c): all)
	bdbScale     = 0.005 // bdb runs 20-100x slower: at a fraction of the work, against plain Python at the same fraction
	debugpyScale = 0.05
	peerRuns     = 1
	peerRounds   = 7 // rounds of the bdb and debugpy groups (warm-up included)
	turnTimeout  = 2 * time.Minute
	procTimeout  = 5 * time.Minute
	// controlTol: plain Python against plain Python must read 1.00 within
	// this, interval included, or the figures measured with it are untrusted
	controlTol = 0.03
)

// the programs of a lockstep group, by key
var modeMetric = map[string]string{
	"a":   "(a) breakpoint set, not hit in the hot path",
	"b":   "(b) exception capture only",
	"c":   "(c) --every 100ms",
	"aa":  "control: plain Python in pyreplay's place",
	"bdb": "bdb, same breakpoint",
}

func (r *Results) modeCommand(key string, py PyInfo, prog string, line int, db string) (string, []string) {
	sc := func(s float64, n int) []string { return []string{strconv.FormatFloat(s, 'f', -1, 64), strconv.Itoa(n)} }
	bp := fmt.Sprintf("%s:%d", prog, line)
	work := sc(turnScale, turnRuns)
	switch key {
	case "a":
		return r.bin, append([]string{"record", "--db", db, "--python", py.Path, "-b", bp, prog}, work...)
	case "b":
		return r.bin, append([]string{"record", "--db", db, "--python", py.Path, prog}, work...)
	case "c":
		return r.bin, append([]string{"record", "--db", db, "--python", py.Path, "--every", "100ms", prog}, work...)
	case "plain-bdb":
		return py.Path, append([]string{prog}, sc(bdbScale, peerRuns)...)
	case "bdb":
		return py.Path, append([]string{filepath.Join(r.root, "bench", "drivers", "bdb_run.py"), prog, strconv.Itoa(line)}, sc(bdbScale, peerRuns)...)
	case "tr":
		return r.bin, append([]string{"record", "--trace", "--db", db, "--python", py.Path, prog}, sc(ttScale, ttRuns)...)
	case "plain-tt", "aa-tt":
		return py.Path, append([]string{prog}, sc(ttScale, ttRuns)...)
	case "plain-settrace":
		return py.Path, append([]string{prog}, sc(traceScale, peerRuns)...)
	case "settrace":
		return py.Path, append([]string{filepath.Join(r.root, "bench", "drivers", "settrace_recorder.py"), prog}, sc(traceScale, peerRuns)...)
	}
	return py.Path, append([]string{prog}, work...) // "plain" and the control "aa"
}

var recordedRe = regexp.MustCompile(`recorded (\d+) snapshot`)
var bdbHitsRe = regexp.MustCompile(`BDB-HITS (\d+)`)

// group runs keys[0] (the baseline) and the other programs of keys in
// lockstep on one CPU and returns the members (their turns measured) or
// the members that failed.
func (r *Results) group(py PyInfo, prog string, line int, cpu, rounds int, seed int64, keys []string) ([]*member, map[string]error) {
	failed := map[string]error{}
	dir, err := os.MkdirTemp(r.tmp, "group-")
	if err != nil {
		failed[keys[0]] = err
		return nil, failed
	}
	var ms []*member
	defer func() {
		for _, m := range ms {
			m.close()
		}
	}()
	for _, k := range keys {
		m, err := newMember(dir, k)
		if err == nil && k == "tt" {
			// a live session with time travel on (timetravel.go)
			if err = r.startSession(m, py, prog, dir, cpu, []string{strconv.FormatFloat(ttScale, 'f', -1, 64), strconv.Itoa(ttRuns)}); err == nil {
				err = m.ready(turnTimeout)
			}
		} else if err == nil {
			m.db = filepath.Join(dir, k+".db")
			name, args := r.modeCommand(k, py, prog, line, m.db)
			var env []string
			if k == "c" {
				env = []string{"BENCH_WARM_SNAPSHOT=1"}
			}
			if err = m.start(dir, cpu, env, name, args...); err == nil {
				// one at a time: start-up is timed alone on the CPU
				err = m.ready(turnTimeout)
			}
		}
		if err != nil {
			failed[k] = err
			if m != nil {
				m.close()
			}
			if k == keys[0] {
				return nil, failed
			}
			continue
		}
		ms = append(ms, m)
	}
	rng := rand.New(rand.NewSource(seed))
	for r := 0; r < rounds; r++ {
		order := rng.Perm(len(ms))
		for _, i := range order {
			m := ms[i]
			if failed[m.key] != nil {
				continue
			}
			if err := m.turn(turnTimeout); err != nil {
				failed[m.key] = err
			}
		}
		if failed[keys[0]] != nil {
			return nil, failed
		}
	}
	var out []*member
	for _, m := range ms {
		if failed[m.key] == nil {
			if err := m.stop(turnTimeout); err != nil {
				failed[m.key] = err
				continue
			}
			out = append(out, m)
		}
	}
	return out, failed
}

// snapsOf is the number of snapshots pyreplay said it recorded (or bdb's
// breakpoint hits), -1 when it said nothing.
func snapsOf(m *member) int {
	if mm := recordedRe.FindStringSubmatch(m.stderr.String()); mm != nil {
		n, _ := strconv.Atoi(mm[1])
		return n
	}
	if mm := bdbHitsRe.FindStringSubmatch(m.stderr.String()); mm != nil {
		n, _ := strconv.Atoi(mm[1])
		return n
	}
	return -1
}

// cellResult is what one workload on one version gave.
type cellResult struct {
	py      PyInfo
	w       string
	figures []Figure
	notes   []string
	gens    map[string][][]turnPair // per key, the turn pairs of each generation
	trusted bool                    // the control held
}

// overhead measures every version and workload: each cell is -generations
// lockstep groups (fresh processes each time) of plain Python, a second
// plain Python (the control), and pyreplay (a), (b), (c), all on one CPU,
// then a group of plain Python against bdb. With two CPUs, two cells run at
// once, one on each.
func (r *Results) overhead(pys []PyInfo) {
	type job struct {
		py PyInfo
		w  string
	}
	var jobs []job
	for _, p := range pys {
		for _, w := range workloads {
			jobs = append(jobs, job{p, w})
		}
	}
	results := make([]cellResult, len(jobs))
	parallel(len(jobs), func(i, cpu int) {
		j := jobs[i]
		t := time.Now()
		results[i] = r.overheadCell(j.py, j.w, cpu, int64(i)*7919)
		logf("overhead: Python %s %s on CPU %d: %.1f s", j.py.Minor, j.w, cpu, time.Since(t).Seconds())
	})
	for _, p := range pys {
		pooled := map[string][][]turnPair{}
		held := 0
		for _, c := range results {
			if c.py.Minor != p.Minor {
				continue
			}
			for _, f := range c.figures {
				r.add(f)
			}
			for _, n := range c.notes {
				r.note("%s", n)
			}
			if !c.trusted {
				continue
			}
			held++
			for k, gs := range c.gens {
				pooled[k] = append(pooled[k], gs...)
			}
		}
		r.overheadAll(p, pooled, held)
	}
}

// overheadAll is the row of every ratio of the version's cells whose
// control held.
func (r *Results) overheadAll(py PyInfo, pooled map[string][][]turnPair, held int) {
	if held == 0 {
		return
	}
	for _, key := range []string{"a", "b", "c", "aa"} {
		if len(pooled[key]) == 0 {
			continue
		}
		f := Figure{Section: "overhead", Python: py.Minor, Case: allWorkloads, Metric: modeMetric[key], Unit: "x", Stat: cellStat(key, pooled[key], 1),
			Note: fmt.Sprintf("every turn pair of the %d workloads whose control held", held)}
		r.judgeOverhead(&f, py, key, true)
		r.add(f)
	}
}

func cellStat(key string, gens [][]turnPair, seed int64) Stat {
	if key == "c" {
		// the checkpoints fall in some turns and not others: all of them count
		return clusterStat(gens, "ratio of sums", ratioOfSums, seed)
	}
	return clusterStat(gens, "median", medianOfRatios, seed)
}

const allWorkloads = "all workloads"

// controlHeld: identical programs read 1.00 within controlTol.
func controlHeld(st Stat) bool {
	return st.N > 0 && math.Abs(st.Value-1) <= controlTol
}

func (r *Results) judgeOverhead(f *Figure, py PyInfo, key string, trusted bool) {
	t, lim := overheadTarget(py, key)
	if key == "aa" {
		f.Target = fmt.Sprintf("1.00 ± %.2f", controlTol)
		f.Verdict = vMissed
		if controlHeld(f.Stat) {
			f.Verdict = vMet
		}
		return
	}
	if t == "" {
		return
	}
	f.Target, f.Limit = t, lim
	if !trusted {
		f.Verdict = vUntrusted
		return
	}
	f.Verdict = verdictLE(f.Stat, lim)
}

func (r *Results) overheadCell(py PyInfo, w string, cpu int, seed int64) cellResult {
	c := cellResult{py: py, w: w, gens: map[string][][]turnPair{}}
	prog := filepath.Join(r.root, "bench", "workloads", w+".py")
	line := breakLine(prog)
	keys := []string{"plain", "aa", "a", "b", "c"}
	failed := map[string]error{}
	snaps := map[string][]int{}
	var wall = map[string][]float64{}
	var startup []float64
	for g := 0; g < *flagGens; g++ {
		ms, fl := r.group(py, prog, line, cpu, *flagRounds+1, seed+int64(g), keys)
		byKey := keyedMembers(ms, fl, failed)
		base := byKey["plain"]
		if base == nil {
			break
		}
		for _, m := range ms[1:] {
			var ps []turnPair
			for i := 1; i < len(m.cpu) && i < len(base.cpu); i++ { // round 0: warm-up
				if m.key == "c" {
					ps = append(ps, turnPair{m.cpuSum[i], base.cpuSum[i]})
				} else {
					ps = append(ps, turnPair{m.cpu[i], base.cpu[i]})
				}
			}
			c.gens[m.key] = append(c.gens[m.key], ps)
			wall[m.key] = append(wall[m.key], pairedRatios(m.wall, base.wall, 1)...)
			snaps[m.key] = append(snaps[m.key], snapsOf(m))
		}
		if m := byKey["b"]; m != nil {
			startup = append(startup, (m.startup-base.startup)*1000)
		}
	}
	fail := func(key string, err error) {
		f := Figure{Section: "overhead", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x", Stat: nanStat(), Note: "failed: " + firstLine(err.Error())}
		c.figures = append(c.figures, f)
		c.notes = append(c.notes, fmt.Sprintf("overhead %s %s %s failed: %v", py.Minor, w, key, err))
	}
	ctl := cellStat("aa", c.gens["aa"], seed)
	c.trusted = failed["plain"] == nil && failed["aa"] == nil && controlHeld(ctl)
	for _, key := range keys[1:] {
		if err := failed[key]; err != nil || failed["plain"] != nil {
			if err == nil {
				err = fmt.Errorf("plain Python failed: %v", failed["plain"])
			}
			fail(key, err)
			delete(c.gens, key)
			continue
		}
		f := Figure{Section: "overhead", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x", Stat: cellStat(key, c.gens[key], seed)}
		f.Note = fmt.Sprintf("CPU time, %d turn pairs in %d generations on CPU %d; wall-time ratio median %.3f", f.N, len(c.gens[key]), cpu, median(wall[key]))
		if key == "a" || key == "c" {
			f.Note += fmt.Sprintf("; snapshots per generation %v", snaps[key])
			for _, n := range snaps[key] {
				if key == "a" && n < 1 {
					f.Note += " (the breakpoint did not fire!)"
					break
				}
			}
		}
		r.judgeOverhead(&f, py, key, c.trusted)
		c.figures = append(c.figures, f)
	}
	if len(startup) > 0 {
		c.figures = append(c.figures, Figure{Section: "startup", Python: py.Minor, Case: w, Metric: "pyreplay record start-up, beyond plain Python's", Unit: "ms", Stat: describe(startup)})
	}
	// bdb: its own group, at a fraction of the work
	ms, fl := r.group(py, prog, line, cpu, peerRounds, seed+1000, []string{"plain-bdb", "bdb"})
	f := Figure{Section: "overhead", Python: py.Minor, Case: w, Metric: modeMetric["bdb"], Unit: "x"}
	if len(ms) != 2 {
		err := fl["bdb"]
		if err == nil {
			err = fl["plain-bdb"]
		}
		fail("bdb", err)
		return c
	}
	f.Stat = medianStat(pairedRatios(ms[1].cpu, ms[0].cpu, 1))
	f.Note = fmt.Sprintf("CPU time, %d paired turns at %.0f%% of the work", f.N, bdbScale*100)
	if snapsOf(ms[1]) < 1 {
		f.Note += " (the breakpoint did not fire!)"
	}
	c.figures = append(c.figures, f)
	return c
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

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// keyedMembers is a lockstep group's members by key; its failures fl are
// added to failed (the first one of each key kept).
func keyedMembers(ms []*member, fl, failed map[string]error) map[string]*member {
	for k, err := range fl {
		if failed[k] == nil {
			failed[k] = err
		}
	}
	byKey := map[string]*member{}
	for _, m := range ms {
		byKey[m.key] = m
	}
	return byKey
}
