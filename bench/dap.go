package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	dapSnapshots = 10_000
	dapSteps     = 150
)

// dapLatency makes a recording of 10,000 snapshots, opens it with
// `pyreplay dap` (stdio) in replay mode at the middle snapshot, and times,
// as an editor sees them: a step (next until the stopped event and the
// stack trace of the new stop), a step back (the same with stepBack) and
// a variables request for the locals of the top frame.
func (r *Results) dapLatency(py PyInfo) {
	logf("dap: recording %d snapshots with Python %s", dapSnapshots, py.Version)
	prog := filepath.Join(r.root, "bench", "drivers", "many_snapshots.py")
	db := filepath.Join(r.tmp, "dap.db")
	t0 := time.Now()
	p := run(30*time.Minute, r.tmp, nil, r.bin, "record", "--db", db, "--python", py.Path,
		"-b", fmt.Sprintf("%s:%d", prog, breakLine(prog)), prog, strconv.Itoa(dapSnapshots))
	took := time.Since(t0).Seconds()
	if p.err == nil && !strings.Contains(p.stderr, fmt.Sprintf("recorded %d snapshots", dapSnapshots)) {
		p.err = fmt.Errorf("expected %d snapshots: %s", dapSnapshots, p.stderr)
	}
	if p.err != nil {
		r.note("dap: making the recording failed: %v", p.err)
		r.add(Figure{Section: "dap", Case: "10,000 snapshots", Metric: "step", Unit: "ms", Note: "failed: " + firstLine(p.err.Error())})
		return
	}
	list, err := r.ls(db)
	if err != nil || len(list) != dapSnapshots {
		r.note("dap: listing the recording: %v (%d snapshots)", err, len(list))
		return
	}
	var size int64
	for _, s := range list {
		size += s.Size
	}
	r.add(Figure{Section: "dap-recording", Python: py.Minor, Case: "10,000 snapshots, 3 frames deep", Metric: "recording time per snapshot (breakpoint in a loop)", Unit: "ms",
		Stat: describe([]float64{took * 1000 / dapSnapshots}),
		Note: fmt.Sprintf("whole run %.1f s; recording %s (%s per snapshot)", took, kb(float64(size)), kb(float64(size)/dapSnapshots))})
	mid := list[len(list)/2].ID
	fwd, fvars, err1 := r.dapWalk(db, mid, "next")
	back, bvars, err2 := r.dapWalk(db, mid, "stepBack")
	for _, e := range []error{err1, err2} {
		if e != nil {
			r.note("dap: %v", e)
		}
	}
	cs := fmt.Sprintf("replay of %d snapshots, from %s", dapSnapshots, mid)
	add := func(metric string, xs []float64, target bool, err error) {
		f := Figure{Section: "dap", Python: py.Minor, Case: cs, Metric: metric, Unit: "ms", Stat: quantileStat(xs, 0.95, "p95")}
		if err != nil {
			f.Note = "failed: " + firstLine(err.Error())
		}
		if target {
			f.Target, f.Limit = "≤ 50 (p95)", 50
			f.Verdict = verdictLE(f.Stat, 50)
			if err != nil {
				f.Verdict = vMissed
			}
		}
		r.add(f)
	}
	add("step (next → stopped + stackTrace)", fwd, true, err1)
	add("step back (stepBack → stopped + stackTrace)", back, true, err2)
	add("variables (locals of the top frame)", append(fvars, bvars...), false, nil)
}

// dapWalk opens the recording at snap and makes dapSteps steps of kind,
// returning the step latencies and the variables latencies (ms).
func (r *Results) dapWalk(db, snap, kind string) (steps, vars []float64, err error) {
	cmd := exec.Command(r.bin, "dap")
	cmd.Dir = r.tmp
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	c, err := startDAP(cmd)
	if err != nil {
		return nil, nil, err
	}
	defer c.close()
	fail := func(e error) ([]float64, []float64, error) {
		return steps, vars, fmt.Errorf("%s: %v\n%s", kind, e, tail(stderr.String(), 800))
	}
	const to = 30 * time.Second
	if _, err := c.call("initialize", map[string]any{"clientID": "pyreplay-bench", "adapterID": "pyreplay",
		"pathFormat": "path", "linesStartAt1": true, "columnsStartAt1": true}, to); err != nil {
		return fail(err)
	}
	if _, err := c.call("launch", map[string]any{"recording": db, "snapshot": snap}, to); err != nil {
		return fail(err)
	}
	if _, err := c.event("initialized", to); err != nil {
		return fail(err)
	}
	if _, err := c.call("configurationDone", nil, to); err != nil {
		return fail(err)
	}
	if _, err := c.event("stopped", to); err != nil {
		return fail(err)
	}
	th, err := c.call("threads", nil, to)
	if err != nil {
		return fail(err)
	}
	tid := 1
	if ts := list(body(th)["threads"]); len(ts) > 0 {
		tid = num(ts[0].(map[string]any)["id"])
	}
	// what an editor does at every stop: the stack, the scopes, the locals
	inspect := func() (float64, error) {
		st, err := c.call("stackTrace", map[string]any{"threadId": tid, "startFrame": 0, "levels": 20}, to)
		if err != nil {
			return 0, err
		}
		frames := list(body(st)["stackFrames"])
		if len(frames) == 0 {
			return 0, fmt.Errorf("empty stack")
		}
		fid := num(frames[0].(map[string]any)["id"])
		sc, err := c.call("scopes", map[string]any{"frameId": fid}, to)
		if err != nil {
			return 0, err
		}
		scopes := list(body(sc)["scopes"])
		if len(scopes) == 0 {
			return 0, fmt.Errorf("no scopes")
		}
		ref := num(scopes[0].(map[string]any)["variablesReference"])
		t := time.Now()
		v, err := c.call("variables", map[string]any{"variablesReference": ref}, to)
		if err != nil {
			return 0, err
		}
		if len(list(body(v)["variables"])) == 0 {
			return 0, fmt.Errorf("no variables in %v", scopes[0])
		}
		return ms(time.Since(t)), nil
	}
	if _, err := inspect(); err != nil {
		return fail(err)
	}
	for i := 0; i < dapSteps; i++ {
		c.dropEvents()
		t := time.Now()
		seq, err := c.send(kind, map[string]any{"threadId": tid})
		if err != nil {
			return fail(err)
		}
		if _, err := c.response(seq, to); err != nil {
			return fail(err)
		}
		if _, err := c.event("stopped", to); err != nil {
			return fail(err)
		}
		if _, err := c.call("stackTrace", map[string]any{"threadId": tid, "startFrame": 0, "levels": 20}, to); err != nil {
			return fail(err)
		}
		steps = append(steps, ms(time.Since(t)))
		v, err := inspect()
		if err != nil {
			return fail(err)
		}
		vars = append(vars, v)
	}
	_, _ = c.call("disconnect", map[string]any{}, 5*time.Second)
	return steps, vars, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
