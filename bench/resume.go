package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const resumeReps = 8

var reachedRe = regexp.MustCompile(`BENCH-REACHED (\d+\.\d+)`)

// timeToReach starts a process and returns the time from just before it
// starts to the wall-clock time the program printed at the BREAK line, and
// the CPU time (user + system) the process and the children it waited for
// used until they ended.
func (r *Results) timeToReach(name string, args ...string) (float64, float64, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = r.tmp
	cmd.Env = cleanEnv()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(errb.String(), 800))
	}
	m := reachedRe.FindStringSubmatch(out.String())
	if m == nil {
		return 0, 0, fmt.Errorf("%s %s never reached the line: %q %s", filepath.Base(name), strings.Join(args, " "), tail(out.String(), 300), tail(errb.String(), 800))
	}
	at, _ := strconv.ParseFloat(m[1], 64)
	cpu := 0.0
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return at - float64(t0.UnixNano())/1e9, cpu, nil
}

// resumeLatency records the resume target (quick and slow), then measures,
// alternating (ABAB), a plain re-run to the BREAK line and a resume of the
// snapshot taken there: the CPU time of each (what the machine's load
// changes least; wall time beside it), the median of the fastest half with
// its 95% interval, and the paired ratio resume ÷ re-run.
func (r *Results) resumeLatency(py PyInfo) {
	logf("resume: Python %s", py.Version)
	prog := filepath.Join(r.root, "bench", "drivers", "resume_target.py")
	line := breakLine(prog)
	for _, variant := range []string{"quick", "slow"} {
		db := filepath.Join(r.tmp, "resume-"+py.Minor+"-"+variant+".db")
		cs := "20 deep, ~100 kB of locals, reached at once"
		if variant == "slow" {
			cs = "20 deep, ~100 kB of locals, after ~0.5 s of work"
		}
		f := Figure{Section: "resume", Python: py.Minor, Case: cs, Metric: "pyreplay resume to the first resumed line", Unit: "ms"}
		p := run(procTimeout, r.tmp, nil, r.bin, "record", "--db", db, "--python", py.Path, "-b", fmt.Sprintf("%s:%d", prog, line), prog, variant)
		if p.err == nil && !strings.Contains(p.stderr, "recorded 1 snapshot") {
			p.err = fmt.Errorf("expected one snapshot: %s", p.stderr)
		}
		if p.err != nil {
			f.Note = "failed: " + firstLine(p.err.Error())
			r.note("resume %s %s: %v", py.Minor, variant, p.err)
			r.add(f)
			continue
		}
		list, err := r.ls(db)
		if err != nil || len(list) != 1 {
			f.Note = fmt.Sprintf("failed: listing the recording: %v", err)
			r.add(f)
			continue
		}
		snap := list[0].ID
		var rerun, resume, rerunW, resumeW []float64
		var ferr error
		for rep := 0; rep < resumeReps && ferr == nil; rep++ {
			aw, a, err := r.timeToReach(py.Path, prog, variant)
			if err != nil {
				ferr = err
				break
			}
			bw, b, err := r.timeToReach(r.bin, "resume", "--db", db, snap)
			if err != nil {
				ferr = err
				break
			}
			rerun, resume = append(rerun, a*1000), append(resume, b*1000)
			rerunW, resumeW = append(rerunW, aw*1000), append(resumeW, bw*1000)
		}
		if ferr != nil {
			f.Note = "failed: " + firstLine(ferr.Error())
			r.note("resume %s %s: %v", py.Minor, variant, ferr)
			r.add(f)
			continue
		}
		f.Stat = fastStat(resume)
		rr := fastStat(rerun)
		r.add(Figure{Section: "resume", Python: py.Minor, Case: cs, Metric: "re-run with plain Python to the same line", Unit: "ms", Stat: rr})
		r.add(Figure{Section: "resume-wall", Python: py.Minor, Case: cs, Metric: "pyreplay resume to the first resumed line", Unit: "ms", Stat: fastStat(resumeW)})
		r.add(Figure{Section: "resume-wall", Python: py.Minor, Case: cs, Metric: "re-run with plain Python to the same line", Unit: "ms", Stat: fastStat(rerunW)})
		speed := medianStat(ratios(resume, rerun))
		f.Note = fmt.Sprintf("CPU time; re-running takes %.0f ms [%.0f–%.0f]; resume ÷ re-run %.2f [%.2f–%.2f]", rr.Value, rr.Lo, rr.Hi, speed.Value, speed.Lo, speed.Hi)
		f.Target, f.Limit = "≤ 200", 200
		f.Verdict = verdictLE(f.Stat, 200)
		if rr.Value > 200 {
			f.Target += ", < re-run"
			v2 := verdictLE(speed, 1)
			switch {
			case f.Verdict == vMissed || v2 == vMissed:
				f.Verdict = vMissed
			case f.Verdict == vUndecided || v2 == vUndecided:
				f.Verdict = vUndecided
			}
		}
		r.add(f)
	}
}
