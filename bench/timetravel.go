package main

// The cost of time travel by line (issue 15): what time travel on costs a
// CPU-bound program, live (pyreplay dap's default) and with record
// --trace, and what its history takes on disk. Time travel on means the
// anchors both take (launch.UseAnchors, AnchorPolicy): a snapshot of the
// main thread every 12 ms, pausing it for at most 20% of its run, on
// 3.12+; every 8 ms and 30% on 3.8-3.11; 10 s of them kept by default
// (the newest 40, 40 more one per 50 ms and 40 one per 250 ms).
//
//   - overhead: per version and CPU-bound workload, lockstep groups as the
//     overhead section's: plain Python, a second plain Python as the
//     control, the workload launched by `pyreplay dap` with no breakpoint
//     and the default exception filters (pinned to the same CPU with its
//     adapter), and, in the first trGens generations, recorded by record
//     --trace; -generations of them, -rounds rounds each; a turn's runs all
//     count (ratio of sums, as (c)): an anchor falls in some turns and not
//     others. Beside it, a pure-Python sys.settrace line recorder
//     (bench/drivers/settrace_recorder.py) in a group of its own at a
//     fraction of the work, as bdb; bdb and debugpy are the overhead
//     section's figures, shown here when it ran.
//   - storage: call_heavy run a few seconds (long enough that anchors are
//     dropped) in a live session and with record --trace: the
//     recording's size on disk after it over the run's minutes.
//
// A program waiting for its turn does not run, but the shim's anchor clock
// (periodic.py: a thread, wall time) does: the anchor it asks for then is
// taken at the program's next line, the harness's own, before its turn's
// clock starts (bench/workloads/_harness.py); the anchors after it fall
// every 8-17 ms of the turns, at a random phase, as in a run alone, but
// for those asked for at a turn's very end (ttScale).

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pyreplay/pyreplay/launch"
)

// ttWorkloads: the CPU-bound workloads (the targets' kind)
var ttWorkloads = []string{"call_heavy", "loop_heavy", "alloc_heavy", "recursion_heavy"}

const (
	// a turn of the time travel groups: 2 runs of half the base work
	// (80-160 ms of plain Python), all counted. An anchor asked for in a
	// turn is taken up to a GIL switch interval (5 ms) later: in turns of
	// 3 x 5% of the work (the overhead section's, ~10 ms) two thirds of
	// them fell after the turn's clock stopped (3.11, call_heavy).
	ttScale      = 0.5
	ttRuns       = 2
	trGens       = 2    // record --trace joins the first generations only: its figure is far from its target either way, and a fourth program in every group would cost the section a third more time
	traceScale   = 0.01 // the settrace recorder runs 10-80x slower: at a fraction of the work, against plain Python at the same
	storageIters = 40   // runs of call_heavy's base work in the storage session: 3-5 s of plain Python
	storageLimit = 50.0 // MB per minute
)

func init() {
	modeMetric["tt"] = "time travel on (pyreplay dap, live)"
	modeMetric["tr"] = "time travel on (record --trace)"
	modeMetric["settrace"] = "settrace line recorder"
	modeMetric["aa-tt"] = modeMetric["aa"]
}

func ttTarget(py PyInfo) (string, float64) {
	if py.Minor == "3.12" || py.Minor == "3.13" {
		return "≤ 2", 2
	}
	return "≤ 4", 4
}

// timeTravel runs the section on every version.
func (r *Results) timeTravel(pys []PyInfo) {
	ws := ttWorkloads // -quick too: the targets are about all four
	if *flagWork != "" {
		ws = nil // the workloads -workloads chose (-quick: the first), CPU-bound ones
		for _, w := range workloads {
			if w != "io_heavy" {
				ws = append(ws, w)
			}
		}
	}
	type job struct {
		py PyInfo
		w  string
	}
	var jobs []job
	for _, p := range pys {
		for _, w := range ws {
			jobs = append(jobs, job{p, w})
		}
	}
	results := make([]cellResult, len(jobs))
	parallel(len(jobs), func(i, cpu int) {
		j := jobs[i]
		t := time.Now()
		results[i] = r.timeTravelCell(j.py, j.w, cpu, 104729+int64(i)*7919)
		logf("timetravel: Python %s %s on CPU %d: %.1f s", j.py.Minor, j.w, cpu, time.Since(t).Seconds())
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
			if c.trusted {
				held++
				for k, gs := range c.gens {
					pooled[k] = append(pooled[k], gs...)
				}
			}
		}
		if held > 0 {
			for _, key := range []string{"tt", "tr", "aa-tt"} {
				if len(pooled[key]) == 0 {
					continue
				}
				f := Figure{Section: "timetravel", Python: p.Minor, Case: allWorkloads, Metric: modeMetric[key], Unit: "x", Stat: ttStat(key, pooled[key], 1),
					Note: fmt.Sprintf("every turn pair of the %d workloads whose control held", held)}
				r.judgeTimeTravel(&f, p, key, true)
				r.add(f)
			}
		}
	}
	figs := make([][]Figure, len(pys))
	parallel(len(pys), func(i, cpu int) { figs[i] = r.ttStorage(pys[i], cpu) })
	for _, fs := range figs {
		for _, f := range fs {
			r.add(f)
		}
	}
}

// anchored: the programs of the time travel groups that take anchors
func anchored(key string) bool { return key == "tt" || key == "tr" }

// noAnchors: why a recording would hold none
var noAnchors = map[string]string{
	"tt": "time travel off, or its anchors never came (a live session on 3.8-3.11 under load did so before periodic.py re-armed a dropped arming)",
	"tr": "this pyreplay's record --trace takes no periodic anchors (it predates them)",
}

func ttStat(key string, gens [][]turnPair, seed int64) Stat {
	if anchored(key) {
		return clusterStat(gens, "ratio of sums", ratioOfSums, seed)
	}
	return clusterStat(gens, "median", medianOfRatios, seed)
}

func (r *Results) judgeTimeTravel(f *Figure, py PyInfo, key string, trusted bool) {
	if !anchored(key) {
		r.judgeOverhead(f, py, "aa", trusted) // the control
		return
	}
	f.Target, f.Limit = ttTarget(py)
	f.Verdict = vUntrusted
	if trusted {
		f.Verdict = verdictLE(f.Stat, f.Limit)
	}
}

// timeTravelCell measures one workload on one version.
func (r *Results) timeTravelCell(py PyInfo, w string, cpu int, seed int64) cellResult {
	c := cellResult{py: py, w: w, gens: map[string][][]turnPair{}}
	prog := filepath.Join(r.root, "bench", "workloads", w+".py")
	line := breakLine(prog)
	keys := []string{"plain-tt", "aa-tt", "tt", "tr"}
	failed := map[string]error{}
	var wall = map[string][]float64{}
	anchors := map[string][]int{}
	for g := 0; g < *flagGens; g++ {
		gk := keys
		if g >= trGens {
			gk = keys[:3]
		}
		ms, fl := r.group(py, prog, line, cpu, *flagRounds+1, seed+int64(g), gk)
		byKey := keyedMembers(ms, fl, failed)
		base := byKey["plain-tt"]
		if base == nil {
			break
		}
		for _, m := range ms[1:] {
			var ps []turnPair
			for i := 1; i < len(m.cpu) && i < len(base.cpu); i++ { // round 0: warm-up
				if anchored(m.key) {
					ps = append(ps, turnPair{m.cpuSum[i], base.cpuSum[i]})
				} else {
					ps = append(ps, turnPair{m.cpu[i], base.cpu[i]})
				}
			}
			if anchored(m.key) {
				n := r.anchorsKept(m.db)
				anchors[m.key] = append(anchors[m.key], n)
				if n < 1 {
					// time travel without anchors: not what is measured
					// (seen in live sessions on 3.8-3.11 under load)
					continue
				}
				wall[m.key] = append(wall[m.key], pairedRatios(m.wallSum, base.wallSum, 1)...)
			} else {
				wall[m.key] = append(wall[m.key], pairedRatios(m.wall, base.wall, 1)...)
			}
			c.gens[m.key] = append(c.gens[m.key], ps)
		}
	}
	ctl := ttStat("aa-tt", c.gens["aa-tt"], seed)
	c.trusted = failed["plain-tt"] == nil && failed["aa-tt"] == nil && controlHeld(ctl)
	for _, key := range keys[1:] {
		err := failed[key]
		if err == nil && failed["plain-tt"] != nil {
			err = fmt.Errorf("plain Python failed: %v", failed["plain-tt"])
		}
		none := 0
		for _, n := range anchors[key] {
			if n < 1 {
				none++
			}
		}
		if none > 0 {
			c.notes = append(c.notes, fmt.Sprintf("timetravel %s %s %s: %d of %d generations' recordings hold no periodic snapshot (left out): %s",
				py.Minor, w, key, none, len(anchors[key]), noAnchors[key]))
		}
		if err == nil && anchored(key) && len(c.gens[key]) == 0 {
			err = fmt.Errorf("its recording holds no periodic snapshot: %s", noAnchors[key])
		}
		if err != nil {
			c.figures = append(c.figures, Figure{Section: "timetravel", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x", Stat: nanStat(), Note: "failed: " + firstLine(err.Error())})
			c.notes = append(c.notes, fmt.Sprintf("timetravel %s %s %s failed: %v", py.Minor, w, key, err))
			delete(c.gens, key)
			continue
		}
		f := Figure{Section: "timetravel", Python: py.Minor, Case: w, Metric: modeMetric[key], Unit: "x", Stat: ttStat(key, c.gens[key], seed)}
		f.Note = fmt.Sprintf("CPU time, %d turn pairs in %d generations on CPU %d; wall-time ratio median %.3f", f.N, len(c.gens[key]), cpu, median(wall[key]))
		if anchored(key) {
			f.Note += fmt.Sprintf("; anchors in the recording at the end, per generation %v", anchors[key])
			if none > 0 {
				f.Note += fmt.Sprintf(" (%d without any left out)", none)
			}
		}
		r.judgeTimeTravel(&f, py, key, c.trusted)
		c.figures = append(c.figures, f)
	}
	// the settrace recorder: its own group, at a fraction of the work
	f := Figure{Section: "timetravel", Python: py.Minor, Case: w, Metric: modeMetric["settrace"], Unit: "x"}
	ms, fl := r.group(py, prog, line, cpu, peerRounds, seed+2000, []string{"plain-settrace", "settrace"})
	if len(ms) != 2 {
		err := fl["settrace"]
		if err == nil {
			err = fl["plain-settrace"]
		}
		f.Stat, f.Note = nanStat(), "failed: "+firstLine(err.Error())
		c.notes = append(c.notes, fmt.Sprintf("timetravel %s %s settrace failed: %v", py.Minor, w, err))
	} else {
		f.Stat = medianStat(pairedRatios(ms[1].cpu, ms[0].cpu, 1))
		f.Note = fmt.Sprintf("CPU time, %d paired turns at %.0f%% of the work", f.N, traceScale*100)
		if !strings.Contains(ms[1].stderr.String(), "SETTRACE-EVENTS") || strings.Contains(ms[1].stderr.String(), "SETTRACE-EVENTS 0\n") {
			f.Note += " (it recorded no line event!)"
		}
	}
	c.figures = append(c.figures, f)
	return c
}

// startSession launches prog args as m through `pyreplay dap` (time travel
// on, its default), the adapter and so the program pinned to cpu: no
// breakpoint, the exception filters the adapter marks default (as an
// editor sends them). The program then runs; m.stop ends the session.
func (r *Results) startSession(m *member, py PyInfo, prog, dir string, cpu int, args []string) error {
	env := map[string]string{}
	for _, kv := range m.env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	m.db = filepath.Join(dir, m.key+".db")
	c, err := r.launchLive(prog, dir, cpu, py, m.db, args, env, &m.stderr)
	if c != nil {
		m.session = c
	}
	m.started = time.Now()
	return err
}

// launchLive starts pyreplay dap (pinned to cpu) and launches prog in it,
// up to configurationDone.
func (r *Results) launchLive(prog, dir string, cpu int, py PyInfo, db string, args []string, env map[string]string, stderr io.Writer) (*dapClient, error) {
	name, cargs := r.bin, []string{"dap"}
	if cpu >= 0 && pinning {
		name, cargs = "taskset", []string{"-c", strconv.Itoa(cpu), r.bin, "dap"}
	}
	cmd := exec.Command(name, cargs...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stderr = stderr
	c, err := startDAP(cmd)
	if err != nil {
		return nil, err
	}
	live.Store(c, cmd.Process) // killed if the bench is interrupted
	go func() { <-c.done; live.Delete(c) }()
	const to = time.Minute
	resp, err := c.call("initialize", map[string]any{"clientID": "pyreplay-bench", "adapterID": "pyreplay",
		"pathFormat": "path", "linesStartAt1": true, "columnsStartAt1": true}, to)
	if err != nil {
		return c, err
	}
	filters := []string{}
	for _, x := range list(body(resp)["exceptionBreakpointFilters"]) {
		if f, _ := x.(map[string]any); f != nil && f["default"] == true {
			filters = append(filters, str(f["filter"]))
		}
	}
	steps := []func() error{
		func() error {
			_, err := c.call("launch", map[string]any{"name": "bench", "type": "pyreplay", "request": "launch", "program": prog, "args": args,
				"cwd": dir, "python": py.Path, "db": db, "env": env, "console": "internalConsole"}, to)
			return err
		},
		func() error { _, err := c.event("initialized", to); return err },
		func() error {
			_, err := c.call("setExceptionBreakpoints", map[string]any{"filters": filters}, to)
			return err
		},
		func() error { _, err := c.call("configurationDone", nil, to); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return c, err
		}
	}
	return c, nil
}

// endSession waits for the live program's end (it must not stop on the
// way) and disconnects.
func (m *member) endSession(timeout time.Duration) error {
	ev, err := m.session.next("terminated", timeout, func(x map[string]any) bool {
		return x["type"] == "event" && (x["event"] == "terminated" || x["event"] == "stopped")
	})
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", m.key, err, tail(m.stderr.String(), 1200))
	}
	if ev["event"] == "stopped" {
		return fmt.Errorf("%s: the program stopped (%v)", m.key, body(ev)["reason"])
	}
	_, _ = m.session.call("disconnect", map[string]any{}, 10*time.Second)
	return nil
}

// anchorsKept is the number of periodic snapshots in recording db.
func (r *Results) anchorsKept(db string) int {
	list, err := r.ls(db)
	if err != nil {
		return -1
	}
	n := 0
	for _, s := range list {
		if s.Reason == "periodic" {
			n++
		}
	}
	return n
}

// Storage cases: the same call_heavy run in a live session and recorded
// with record --trace.
const (
	storageLive  = "call_heavy, live session"
	storageTrace = "call_heavy, record --trace"
)

// ttStorage runs call_heavy for a few seconds plainly, then with time
// travel on in a live session and with record --trace, all pinned to cpu,
// and gives the size of each recording over its run's minutes.
func (r *Results) ttStorage(py PyInfo, cpu int) []Figure {
	fig := func(cs string) Figure {
		return Figure{Section: "timetravel-storage", Python: py.Minor, Case: cs, Metric: "recording per minute of the run", Unit: "MB/min",
			Target: fmt.Sprintf("≤ %.0f", storageLimit), Limit: storageLimit}
	}
	fail := func(f Figure, err error) Figure {
		f.Stat, f.Note = nanStat(), "failed: "+firstLine(err.Error()) // no verdict, as a failed overhead cell
		r.note("timetravel storage %s %s: %v", py.Minor, f.Case, err)
		return f
	}
	dir, err := os.MkdirTemp(r.tmp, "storage-")
	if err != nil {
		return []Figure{fail(fig(storageLive), err)}
	}
	prog := filepath.Join(r.root, "bench", "workloads", "call_heavy.py")
	args := []string{"1", strconv.Itoa(storageIters)}
	pinned := func(name string, a ...string) (string, []string) {
		if cpu >= 0 && pinning {
			return "taskset", append([]string{"-c", strconv.Itoa(cpu), name}, a...)
		}
		return name, a
	}
	// the same run plainly: a cross-check of the lockstep ratios (wall
	// time, process start included on both sides)
	pn, pa := pinned(py.Path, append([]string{prog}, args...)...)
	plain := run(procTimeout, dir, nil, pn, pa...)
	if plain.err != nil {
		return []Figure{fail(fig(storageLive), plain.err)}
	}
	result := func(f Figure, db string, secs float64) Figure {
		var size int64
		for _, p := range []string{db, db + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				size += st.Size()
			}
		}
		n := r.anchorsKept(db)
		if n < 1 {
			key := map[string]string{storageLive: "tt", storageTrace: "tr"}[f.Case]
			return fail(f, fmt.Errorf("its recording holds no periodic snapshot: %s", noAnchors[key]))
		}
		mbpm := float64(size) / 1e6 / (secs / 60)
		f.Stat = describe([]float64{mbpm})
		f.Statistic, f.Value, f.Lo, f.Hi = "one run", mbpm, mbpm, mbpm
		f.Verdict = verdictLE(f.Stat, storageLimit)
		f.Note = fmt.Sprintf("%.1f s run (plain %.1f s: %.2f×), recording %.2f MB, %d anchors kept", secs, plain.wall, secs/plain.wall, float64(size)/1e6, n)
		return f
	}
	var out []Figure
	// a live session; once more when it took no anchor (seen on 3.8-3.11
	// under load before a fix; the first is noted)
	for try := 0; try < 2; try++ {
		db := filepath.Join(dir, fmt.Sprintf("tt-%d.db", try))
		secs, err := r.liveRun(py, prog, dir, cpu, db, args)
		if err != nil {
			out = append(out, fail(fig(storageLive), err))
			break
		}
		if f := result(fig(storageLive), db, secs); f.N > 0 || try == 1 {
			out = append(out, f)
			break
		}
	}
	// record --trace: the command's wall time; when it costs more than
	// the live session, less work, so that it too runs a few seconds
	if f := r.find("timetravel", py.Minor, "call_heavy", modeMetric["tr"]); f != nil && f.N > 0 && f.Value > 2 {
		args = []string{"1", strconv.Itoa(max(4, int(storageIters*1.2/f.Value)))}
		pn, pa = pinned(py.Path, append([]string{prog}, args...)...)
		if plain = run(procTimeout, dir, nil, pn, pa...); plain.err != nil {
			return append(out, fail(fig(storageTrace), plain.err))
		}
	}
	db := filepath.Join(dir, "tr.db")
	rn, ra := pinned(r.bin, append([]string{"record", "--trace", "--db", db, "--python", py.Path, prog}, args...)...)
	if p := run(procTimeout, dir, nil, rn, ra...); p.err != nil {
		out = append(out, fail(fig(storageTrace), p.err))
	} else {
		out = append(out, result(fig(storageTrace), db, p.wall))
	}
	return out
}

// liveRun runs prog args to its end in a live session (launchLive) and
// gives the time from configurationDone to the exited event.
func (r *Results) liveRun(py PyInfo, prog, dir string, cpu int, db string, args []string) (float64, error) {
	var stderr strings.Builder
	c, err := r.launchLive(prog, dir, cpu, py, db, args, nil, &stderr)
	if c != nil {
		defer c.close()
	}
	if err != nil {
		return 0, fmt.Errorf("%v\n%s", err, tail(stderr.String(), 800))
	}
	t0 := time.Now()
	ev, err := c.next("terminated", procTimeout, func(x map[string]any) bool {
		return x["type"] == "event" && (x["event"] == "exited" || x["event"] == "terminated" || x["event"] == "stopped")
	})
	if err == nil && ev["event"] == "stopped" {
		err = fmt.Errorf("the program stopped (%v)", body(ev)["reason"])
	}
	if err != nil {
		return 0, fmt.Errorf("%v\n%s", err, tail(stderr.String(), 800))
	}
	secs := time.Since(t0).Seconds()
	_, _ = c.call("disconnect", map[string]any{}, 10*time.Second)
	return secs, nil
}

// renderTimeTravel is the section's table.
func (r *Results) renderTimeTravel(b *strings.Builder) {
	fmt.Fprintf(b, "\nTIME TRAVEL ON — the workload launched by pyreplay dap (time travel on, its default; no breakpoint; \"live\") and recorded by\n")
	e12, b12 := launch.AnchorPolicy(12)
	e11, b11 := launch.AnchorPolicy(11)
	fmt.Fprintf(b, "record --trace, to its end: anchors every %v pausing the program ≤ %.0f%% of its run on 3.12+, every %v and ≤ %.0f%% on\n",
		e12, b12*100, e11, b11*100)
	fmt.Fprintf(b, "3.8–3.11; in-program CPU time ÷ plain Python's, in lockstep as the overhead section's: %d generations of plain Python, both,\n", r.Gens)
	fmt.Fprintf(b, "and a second plain Python (the control), %d rounds (record --trace: in the first %d), but a turn runs %.0f%% of the work %d times\n", r.Rounds, trGens, ttScale*100, ttRuns)
	fmt.Fprintf(b, "and counts them all (ratio of sums): an anchor falls in some turns and not others; settrace line recorder\n")
	fmt.Fprintf(b, "(bench/drivers/settrace_recorder.py: at each line event, the line and a copy of its frame's locals into a list) at %.0f%% of the\n", traceScale*100)
	fmt.Fprintf(b, "work, one group of %d rounds; bdb and debugpy: the overhead section's figures, when it ran; targets: time travel on ≤ 2 on\n", peerRounds-1)
	fmt.Fprintf(b, "3.12–3.13, ≤ 4 on 3.8–3.11\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "python\tworkload\ttime travel on, live\trecord --trace\tcontrol: plain/plain\tsettrace recorder\tbdb, same bp\tdebugpy, same bp\t")
	for _, p := range r.Pythons {
		for _, w := range append(append([]string(nil), ttWorkloads...), allWorkloads) {
			tt := r.find("timetravel", p.Minor, w, modeMetric["tt"])
			if tt == nil {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, w, ratioCell(tt),
				ratioCell(r.find("timetravel", p.Minor, w, modeMetric["tr"])),
				ratioCell(r.find("timetravel", p.Minor, w, modeMetric["aa-tt"])),
				ratioCell(r.find("timetravel", p.Minor, w, modeMetric["settrace"])),
				ratioCell(r.find("overhead", p.Minor, w, modeMetric["bdb"])),
				ratioCell(r.find("overhead", p.Minor, w, "debugpy, same breakpoint")))
		}
	}
	tw.Flush()
	fmt.Fprintf(b, "STORAGE — call_heavy (%d× its base work; record --trace less when it costs more) with time travel on: the recording's size\n", storageIters)
	fmt.Fprintf(b, "on disk after the run (.db and -wal) ÷ the run's wall minutes (live: configurationDone to exited; record --trace: the command);\n")
	fmt.Fprintf(b, "the anchors kept are bounded, so a longer run reads less; target ≤ %.0f; beside it the same run's wall time with plain\n", storageLimit)
	fmt.Fprintf(b, "Python, on the same CPU, and the ratio\n")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "python\trun\tMB per minute\t\ttarget\t")
	for _, p := range r.Pythons {
		for _, cs := range []string{storageLive, storageTrace} {
			f := r.find("timetravel-storage", p.Minor, cs, "")
			if f == nil {
				continue
			}
			v := "–"
			if f.N > 0 {
				v = fmt.Sprintf("%.1f", f.Value)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t\n", p.Minor, cs, v, f.Note, f.Target, mark(*f))
		}
	}
	tw.Flush()
}
