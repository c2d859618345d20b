package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// systemPython is where Debian's python3-debugpy is installed and runs.
const systemPython = "/usr/bin/python3"

// debugpy runs each workload under debugpy (Debian's python3-debugpy, under
// Debian's own Python) with the same breakpoint as the other modes, driven
// over DAP like an editor would, in lockstep with plain runs of the same
// interpreter at the same fraction of the work, on the same CPU.
func (r *Results) debugpy() {
	out, err := exec.Command(systemPython, "-c", "import sys, debugpy; print('%d.%d %s %s' % (sys.version_info[:2] + (sys.version.split()[0], debugpy.__version__)))").Output()
	if err != nil {
		r.note("debugpy: not run: %s cannot import debugpy (install Debian's python3-debugpy: apt-get install -y python3-debugpy)", systemPython)
		return
	}
	f := strings.Fields(string(out))
	minor, version, dver := f[0], f[1], f[2]
	logf("overhead: debugpy %s under %s %s", dver, systemPython, version)
	figs := make([]Figure, len(workloads))
	parallel(len(workloads), func(i, cpu int) {
		w := workloads[i]
		prog := filepath.Join(r.root, "bench", "workloads", w+".py")
		fig := Figure{Section: "overhead", Python: minor, Case: w, Metric: "debugpy, same breakpoint", Unit: "x"}
		plain, dbg, err := r.debugpyGroup(prog, breakLine(prog), cpu, int64(i))
		if err != nil {
			fig.Stat = nanStat()
			fig.Note = "failed: " + firstLine(err.Error())
			r.note("debugpy %s: %v", w, err)
		} else {
			fig.Stat = medianStat(pairedRatios(dbg.cpu, plain.cpu, 1))
			wr := describe(pairedRatios(dbg.wall, plain.wall, 1))
			fig.Note = fmt.Sprintf("debugpy %s under Debian's %s %s against plain %s at %.0f%% of the work; CPU time of the debuggee process, %d paired turns; wall-time ratio median %.3f",
				dver, systemPython, version, systemPython, debugpyScale*100, fig.N, wr.Median)
		}
		figs[i] = fig
	})
	for _, f := range figs {
		r.add(f)
	}
}

// debugpyGroup starts plain Python and, through debugpy's adapter, the
// same workload under debugpy with a breakpoint at line, both pinned to
// cpu; runs them in lockstep; then lets the debuggee pass its breakpoint
// (continuing when it stops there) and end.
func (r *Results) debugpyGroup(prog string, line, cpu int, seed int64) (*member, *member, error) {
	dir, err := os.MkdirTemp(r.tmp, "debugpy-")
	if err != nil {
		return nil, nil, err
	}
	sc, runs := strconv.FormatFloat(debugpyScale, 'f', -1, 64), strconv.Itoa(peerRuns)
	plain, err := newMember(dir, "plain")
	if err != nil {
		return nil, nil, err
	}
	defer plain.close()
	if err := plain.start(dir, cpu, nil, systemPython, prog, sc, runs); err != nil {
		return nil, nil, err
	}
	if err := plain.ready(turnTimeout); err != nil {
		return nil, nil, err
	}
	dbg, err := newMember(dir, "debugpy")
	if err != nil {
		return nil, nil, err
	}
	defer dbg.close()
	name, args := systemPython, []string{"-m", "debugpy.adapter"}
	if cpu >= 0 && pinning {
		name, args = "taskset", append([]string{"-c", strconv.Itoa(cpu), systemPython}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	c, err := startDAP(cmd)
	if err != nil {
		return nil, nil, err
	}
	defer c.close()
	fail := func(err error) (*member, *member, error) {
		return nil, nil, fmt.Errorf("debugpy: %v\n%s", err, tail(stderr.String(), 800))
	}
	const to = 60 * time.Second
	if _, err := c.call("initialize", map[string]any{"clientID": "pyreplay-bench", "adapterID": "debugpy",
		"pathFormat": "path", "linesStartAt1": true, "columnsStartAt1": true}, to); err != nil {
		return fail(err)
	}
	env := map[string]string{}
	for _, kv := range dbg.env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	launch, err := c.send("launch", map[string]any{"name": "bench", "type": "python", "request": "launch",
		"program": prog, "args": []string{sc, runs}, "cwd": dir, "console": "internalConsole", "justMyCode": true, "env": env})
	if err != nil {
		return fail(err)
	}
	if _, err := c.event("initialized", to); err != nil {
		return fail(err)
	}
	resp, err := c.call("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": line}}}, to)
	if err != nil {
		return fail(err)
	}
	if bps := list(body(resp)["breakpoints"]); len(bps) != 1 || bps[0].(map[string]any)["verified"] != true {
		return fail(fmt.Errorf("breakpoint not verified: %v", body(resp)))
	}
	if _, err := c.call("setExceptionBreakpoints", map[string]any{"filters": []string{}}, to); err != nil {
		return fail(err)
	}
	if _, err := c.call("configurationDone", nil, to); err != nil {
		return fail(err)
	}
	if _, err := c.response(launch, to); err != nil {
		return fail(err)
	}
	dbg.started = time.Now()
	if err := dbg.ready(turnTimeout); err != nil {
		return fail(err)
	}
	rng := rand.New(rand.NewSource(seed))
	ms := []*member{plain, dbg}
	for round := 0; round < peerRounds; round++ {
		for _, i := range rng.Perm(2) {
			if err := ms[i].turn(turnTimeout); err != nil {
				return fail(err)
			}
		}
	}
	if err := plain.stop(turnTimeout); err != nil {
		return fail(err)
	}
	if _, err := dbg.goF.Write([]byte("q")); err != nil {
		return fail(err)
	}
	hits := 0
	for {
		m, err := c.next("stopped or terminated", procTimeout, func(m map[string]any) bool {
			return m["type"] == "event" && (m["event"] == "stopped" || m["event"] == "terminated" || m["event"] == "exited")
		})
		if err != nil {
			return fail(err)
		}
		if m["event"] != "stopped" {
			break
		}
		hits++
		if _, err := c.call("continue", map[string]any{"threadId": num(body(m)["threadId"])}, to); err != nil {
			return fail(err)
		}
	}
	_, _ = c.call("disconnect", map[string]any{}, 10*time.Second)
	if l, err := dbg.line(10 * time.Second); err != nil || l != "end" {
		return fail(fmt.Errorf("the debuggee did not end its run (%q, %v)", l, err))
	}
	if hits != 1 {
		return fail(fmt.Errorf("the breakpoint at %s:%d stopped the program %d times, not once", prog, line, hits))
	}
	return plain, dbg, nil
}
