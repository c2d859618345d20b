package main

import (
	"fmt"
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
// over DAP like an editor would, against plain runs of the same interpreter
// at the same fraction of the work.
func (r *Results) debugpy() {
	out, err := exec.Command(systemPython, "-c", "import sys, debugpy; print('%d.%d %s %s' % (sys.version_info[:2] + (sys.version.split()[0], debugpy.__version__)))").Output()
	if err != nil {
		r.note("debugpy: not run: %s cannot import debugpy (install Debian's python3-debugpy: apt-get install -y python3-debugpy)", systemPython)
		return
	}
	f := strings.Fields(string(out))
	minor, version, dver := f[0], f[1], f[2]
	logf("overhead: debugpy %s under %s %s", dver, systemPython, version)
	sc := strconv.FormatFloat(debugpyScale, 'f', -1, 64)
	for _, w := range workloads {
		prog := filepath.Join(r.root, "bench", "workloads", w+".py")
		line := breakLine(prog)
		var plain, dbg []sample
		var ferr error
		for rep := 0; rep < peerReps && ferr == nil; rep++ {
			timing := filepath.Join(r.tmp, "timing.txt")
			os.Remove(timing)
			p := run(procTimeout, r.tmp, []string{"BENCH_TIMING=" + timing}, systemPython, prog, sc, strconv.Itoa(peerIterations))
			if p.err != nil {
				ferr = p.err
				break
			}
			t, err := readTimings(timing)
			if err != nil {
				ferr = err
				break
			}
			plain = append(plain, newSample(t))
			s, err := r.runDebugpy(prog, line, sc)
			if err != nil {
				ferr = err
				break
			}
			dbg = append(dbg, s)
		}
		fig := Figure{Section: "overhead", Python: minor, Case: w, Metric: "debugpy, same breakpoint", Unit: "x"}
		if ferr != nil {
			fig.Note = "failed: " + firstLine(ferr.Error())
			r.note("debugpy %s: %v", w, ferr)
			r.add(fig)
			continue
		}
		fig.Stat = stat(ratios(cpus(dbg), cpus(plain)))
		wr := stat(ratios(walls(dbg), walls(plain)))
		fig.Note = fmt.Sprintf("debugpy %s under Debian's %s %s against plain %s at %.0f%% of the work; CPU time of the fastest iteration in the debuggee process; wall-time ratio %.3f [%.3f–%.3f]",
			dver, systemPython, version, systemPython, debugpyScale*100, wr.Median, wr.Min, wr.Max)
		r.add(fig)
	}
}

// runDebugpy launches prog under debugpy's adapter with a breakpoint at
// line, continues when it stops there, and waits for the end.
func (r *Results) runDebugpy(prog string, line int, scaleArg string) (sample, error) {
	timing := filepath.Join(r.tmp, "timing.txt")
	os.Remove(timing)
	cmd := exec.Command(systemPython, "-m", "debugpy.adapter")
	cmd.Dir = r.tmp
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	c, err := startDAP(cmd)
	if err != nil {
		return sample{}, err
	}
	defer c.close()
	const to = 3 * time.Minute
	fail := func(err error) (sample, error) {
		return sample{}, fmt.Errorf("debugpy: %v\n%s", err, tail(stderr.String(), 800))
	}
	if _, err := c.call("initialize", map[string]any{"clientID": "pyreplay-bench", "adapterID": "debugpy",
		"pathFormat": "path", "linesStartAt1": true, "columnsStartAt1": true}, 30*time.Second); err != nil {
		return fail(err)
	}
	launch, err := c.send("launch", map[string]any{"name": "bench", "type": "python", "request": "launch",
		"program": prog, "args": []string{scaleArg, strconv.Itoa(peerIterations)}, "cwd": r.tmp, "console": "internalConsole",
		"justMyCode": true, "env": map[string]string{"BENCH_TIMING": timing}})
	if err != nil {
		return fail(err)
	}
	if _, err := c.event("initialized", 60*time.Second); err != nil {
		return fail(err)
	}
	resp, err := c.call("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": line}}}, 30*time.Second)
	if err != nil {
		return fail(err)
	}
	if bps := list(body(resp)["breakpoints"]); len(bps) != 1 || bps[0].(map[string]any)["verified"] != true {
		return fail(fmt.Errorf("breakpoint not verified: %v", body(resp)))
	}
	if _, err := c.call("setExceptionBreakpoints", map[string]any{"filters": []string{}}, 30*time.Second); err != nil {
		return fail(err)
	}
	if _, err := c.call("configurationDone", nil, 30*time.Second); err != nil {
		return fail(err)
	}
	if _, err := c.response(launch, 60*time.Second); err != nil {
		return fail(err)
	}
	hits := 0
	for {
		m, err := c.next("stopped or terminated", to, func(m map[string]any) bool {
			return m["type"] == "event" && (m["event"] == "stopped" || m["event"] == "terminated" || m["event"] == "exited")
		})
		if err != nil {
			return fail(err)
		}
		if m["event"] != "stopped" {
			break
		}
		hits++
		tid := num(body(m)["threadId"])
		if _, err := c.call("continue", map[string]any{"threadId": tid}, 30*time.Second); err != nil {
			return fail(err)
		}
	}
	_, _ = c.call("disconnect", map[string]any{}, 10*time.Second)
	if hits == 0 {
		return fail(fmt.Errorf("the breakpoint at %s:%d never stopped the program", prog, line))
	}
	// the timing file is written just before the program ends
	var t iterTimes
	for i := 0; i < 50; i++ {
		if t, err = readTimings(timing); err == nil && len(t.cpu) == peerIterations {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fail(err)
	}
	if hits != 1 {
		return fail(fmt.Errorf("the breakpoint at %s:%d stopped the program %d times, not once", prog, line, hits))
	}
	s := newSample(t)
	s.snaps = hits
	return s, nil
}
