package main

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

var verdictMark = map[string]string{vMet: " ✓", vMissed: " ✗", vUndecided: " ?", vUntrusted: " ⚠"}

func mark(f Figure) string { return verdictMark[f.Verdict] }

// ratioCell is "value [lo–hi] mark".
func ratioCell(f *Figure) string {
	if f == nil {
		return "–"
	}
	if f.N == 0 || math.IsNaN(f.Value) {
		if strings.HasPrefix(f.Note, "failed") {
			return "failed"
		}
		return "–"
	}
	return fmt.Sprintf("%.2f [%.2f–%.2f]%s", f.Value, f.Lo, f.Hi, mark(*f))
}

func msCell(f *Figure, prec int) string {
	if f == nil || f.N == 0 || math.IsNaN(f.Value) {
		return "–"
	}
	return fmt.Sprintf("%.*f [%.*f–%.*f]", prec, f.Value, prec, f.Lo, prec, f.Hi)
}

func (r *Results) find(section, py, cs, metric string) *Figure {
	for i := range r.Figures {
		f := &r.Figures[i]
		if f.Section == section && f.Python == py && f.Case == cs && (metric == "" || f.Metric == metric) {
			return f
		}
	}
	return nil
}

func (r *Results) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\npyreplay bench — %s — commit %s — %s, %d CPUs — load average at start %s — %.0f s\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Commit, r.CPU, r.CPUs, r.Load, r.Seconds)
	fmt.Fprintf(&b, "command: %s; CPython %s\n", r.Command, minors(r.Pythons))
	fmt.Fprintf(&b, "every figure: value [95%% interval]; a target is ✓ met or ✗ missed only when the whole interval is on one side of it, else ? undecided;\n")
	fmt.Fprintf(&b, "⚠ untrusted: the control of that measurement drifted beyond its tolerance\n")

	if r.want("overhead") {
		fmt.Fprintf(&b, "\nRECORDING OVERHEAD — in-program CPU time ÷ plain Python's: median of the paired ratios [95%% interval, two-level bootstrap]\n")
		fmt.Fprintf(&b, "a cell: %d generations of fresh processes — plain Python, pyreplay (a), (b), (c), and a second plain Python as the control —\n", r.Gens)
		fmt.Fprintf(&b, "pinned to one CPU and taking turns one at a time, each once per round in a new random order, %d rounds after one of warm-up;\n", r.Rounds)
		fmt.Fprintf(&b, "a turn runs %.0f%% of the workload's work %d times and counts the fastest ((c): the total, its checkpoint timer running in its own\n", turnScale*100, turnRuns)
		fmt.Fprintf(&b, "turns only, first snapshot taken before); a ratio: a turn over plain Python's turn of the same round; control must read\n")
		fmt.Fprintf(&b, "1.00 ± %.2f or the cell's verdicts are ⚠; bdb (%.0f%% of the work) and debugpy (%.0f%%): one group of %d rounds against plain Python\n", controlTol, bdbScale*100, debugpyScale*100, peerRounds-1)
		fmt.Fprintf(&b, "at the same fraction; \"all\": every pair of the version's cells whose control held; targets: (a) ≤ 1.05 on 3.12–3.13,\n")
		fmt.Fprintf(&b, "≤ 1.3 on 3.8–3.11; (b) ≤ 1.05\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\tworkload\t(a) bp not hit\t(b) exceptions only\t(c) --every 100ms\tcontrol: plain/plain\tbdb, same bp\tdebugpy, same bp\t")
		for _, p := range r.Pythons {
			for _, w := range append(append([]string(nil), workloads...), allWorkloads) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, w,
					ratioCell(r.find("overhead", p.Minor, w, modeMetric["a"])),
					ratioCell(r.find("overhead", p.Minor, w, modeMetric["b"])),
					ratioCell(r.find("overhead", p.Minor, w, modeMetric["c"])),
					ratioCell(r.find("overhead", p.Minor, w, modeMetric["aa"])),
					ratioCell(r.find("overhead", p.Minor, w, modeMetric["bdb"])),
					ratioCell(r.find("overhead", p.Minor, w, "debugpy, same breakpoint")))
			}
		}
		tw.Flush()
		if f := r.firstOf("overhead", "debugpy, same breakpoint"); f != nil && f.N > 0 {
			fmt.Fprintf(&b, "debugpy: %s\n", strings.SplitN(f.Note, ";", 2)[0])
		}
		var su []string
		for _, p := range r.Pythons {
			var xs []float64
			for _, f := range r.Figures {
				if f.Section == "startup" && f.Python == p.Minor {
					xs = append(xs, f.Samples...)
				}
			}
			if len(xs) > 0 {
				su = append(su, fmt.Sprintf("%s +%.0f ms", p.Minor, median(xs)))
			}
		}
		if len(su) > 0 {
			fmt.Fprintf(&b, "start-up (process start to the program's first turn, alone on its CPU) of pyreplay record beyond plain Python's, median of the workloads: %s\n", strings.Join(su, ", "))
		}
		ctl, held := 0, 0
		var drifted []string
		for _, f := range r.Figures {
			if f.Section == "overhead" && f.Metric == modeMetric["aa"] && f.Case != allWorkloads {
				ctl++
				if f.Verdict == vMet {
					held++
				} else {
					drifted = append(drifted, fmt.Sprintf("%s %s %s", f.Python, f.Case, ratioCell(&f)))
				}
			}
		}
		fmt.Fprintf(&b, "CONTROL: %d of %d cells held (plain ÷ plain within 1.00 ± %.2f)", held, ctl, controlTol)
		if len(drifted) > 0 {
			fmt.Fprintf(&b, "; drifted: %s", strings.Join(drifted, "; "))
		}
		fmt.Fprintln(&b)
	}

	if r.want("timetravel") {
		r.renderTimeTravel(&b)
	}

	if r.want("snapshot") {
		fmt.Fprintf(&b, "\nSNAPSHOT COST — one pyreplay.snapshot(), timed inside the program: CPU time, median of the fastest half of two runs' snapshots\n")
		fmt.Fprintf(&b, "[95%% interval], after a first, warm-up one in each (its wall time: \"first\"); wall time beside it; control: second run's figure ÷\n")
		fmt.Fprintf(&b, "first's (each case ran twice, all cases between), ⚠ beyond 1.00 ± %.2f; target: 20 deep with ≤ 100 kB of locals ≤ 5 ms\n", absTol)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\tstack\tCPU ms\twall ms\tfirst ms\tcontrol\tsize\tstate\tviews\ttarget\t")
		for _, p := range r.Pythons {
			for _, c := range snapCases {
				f := r.find("snapshot", p.Minor, c.name(), "")
				if f == nil {
					continue
				}
				if f.N == 0 {
					fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t\t\t\t\n", p.Minor, c.name(), f.Note)
					continue
				}
				cpu, ctl := "", ""
				if s := r.find("snapshot-wall", p.Minor, c.name(), ""); s != nil && s.N > 0 {
					cpu = fmt.Sprintf("%.2f", s.Value)
				}
				if s := r.find("snapshot-control", p.Minor, c.name(), ""); s != nil {
					ctl = fmt.Sprintf("%.2f", s.Value)
				}
				first, size, state, views := "", "", "", ""
				fmt.Sscanf(f.Note, "first snapshot of each run (not in the statistics) %s ms", &first)
				if s := r.find("snapshot-size", p.Minor, c.name(), ""); s != nil {
					size = kb(s.Value)
					if i := strings.Index(s.Note, "pickled state "); i >= 0 {
						parts := strings.Split(strings.TrimPrefix(s.Note[i:], "pickled state "), ", JSON views ")
						if len(parts) == 2 {
							state, views = parts[0], parts[1]
						}
					}
				}
				tgt := ""
				if f.Target != "" {
					tgt = f.Target + mark(*f)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, c.name(), msCell(f, 2), cpu, first, ctl, size, state, views, tgt)
			}
		}
		tw.Flush()
	}

	if r.want("bigvalue") {
		fmt.Fprintf(&b, "\nBIG VALUE — a snapshot of a %d MB bytes local against its anchor, pickling the same value alone in the same Python: wall time,\n", bigSize/1_000_000)
		fmt.Fprintf(&b, "turn about in one process, %d rounds, median of the paired ratios [95%% interval]; peak memory (maximum resident size after the\n", bigRounds)
		fmt.Fprintf(&b, "first snapshot) ÷ the value's size; targets: ≤ 1.5× the time, ≤ 2× the size. The time is the program's wait; the state is\n")
		fmt.Fprintf(&b, "written while the program goes on, in the time the last column gives (snapshot to its row in the recording, median)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\ttime ÷ pickle alone\ttimes\tpeak memory ÷ size\tpickle alone\tin the recording after\t")
		for _, p := range r.Pythons {
			for _, f := range r.Figures {
				if f.Section != "bigvalue" || f.Python != p.Minor || f.Unit != "x" || strings.HasPrefix(f.Metric, "peak") {
					continue
				}
				m := r.find("bigvalue", p.Minor, f.Case, "peak memory ÷ the value's size")
				mem, alone := "–", ""
				if m != nil {
					mem = fmt.Sprintf("%.2f%s", m.Value, mark(*m))
					alone = strings.TrimPrefix(m.Note, "pickling it alone peaks at ")
				}
				times := f.Note
				if i := strings.Index(times, ";"); i >= 0 {
					times = times[:i]
				}
				if f.N == 0 {
					times = ""
				}
				written := "–"
				if w := r.find("bigvalue", p.Minor, f.Case, "snapshot to its row in the recording"); w != nil && w.N > 0 {
					written = fmt.Sprintf("%.0f ms", w.Median)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, ratioCell(&f), times, mem, alone, written)
			}
		}
		tw.Flush()
	}

	if r.want("resume") {
		fmt.Fprintf(&b, "\nRESUME LATENCY — re-run (python prog.py) and pyreplay resume to the BREAK line, alternating, %d each: CPU time of the process and its\n", resumeReps)
		fmt.Fprintf(&b, "children (to their end), median of the fastest half [95%% interval]; wall time from the command starting to the line running beside\n")
		fmt.Fprintf(&b, "it; target ≤ 200 ms, and faster than re-running (resume ÷ re-run, paired, interval below 1) when that takes > 200 ms\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\tprogram\tre-run CPU\tre-run wall\tresume CPU\tresume wall\ttarget\t")
		for _, p := range r.Pythons {
			for _, f := range r.Figures {
				if f.Section != "resume" || f.Python != p.Minor || f.Metric != "pyreplay resume to the first resumed line" {
					continue
				}
				rr := r.find("resume", p.Minor, f.Case, "re-run with plain Python to the same line")
				res := msCell(&f, 0)
				if f.N == 0 {
					res = f.Note
				}
				rw := r.find("resume-wall", p.Minor, f.Case, "re-run with plain Python to the same line")
				sw := r.find("resume-wall", p.Minor, f.Case, f.Metric)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s%s\t\n", p.Minor, f.Case, msCell(rr, 0), msCell(rw, 0), res, msCell(sw, 0), f.Target, mark(f))
			}
		}
		tw.Flush()
	}

	if r.want("dap") {
		fmt.Fprintf(&b, "\nDAP LATENCY — pyreplay dap over stdio, replaying a recording of %d snapshots (ms over %d steps each way; p95 [95%% interval])\n", dapSnapshots, dapSteps)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "request\tmedian\tp95\tmax\ttarget\t")
		for _, f := range r.Figures {
			if f.Section != "dap" {
				continue
			}
			if f.N == 0 {
				fmt.Fprintf(tw, "%s\t%s\t\t\t%s%s\t\n", f.Metric, f.Note, f.Target, mark(f))
				continue
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.2f\t%s%s\t\n", f.Metric, f.Median, msCell(&f, 2), f.Max, f.Target, mark(f))
		}
		tw.Flush()
		if f := r.firstOf("dap-recording", ""); f != nil {
			fmt.Fprintf(&b, "the recording: Python %s, %.2f ms per snapshot while recording; %s\n", f.Python, f.Median, f.Note)
		}
	}

	if r.want("lines") || r.want("lineslive") {
		fmt.Fprintf(&b, "\nLINE HISTORY — record --trace of bench/drivers/line_history.py (a loop of N iterations, then an uncaught exception), replayed by\n")
		fmt.Fprintf(&b, "pyreplay dap with \"lineHistory\": Step Back from the exception to its stopped event and stack; the first re-executes the run from\n")
		fmt.Fprintf(&b, "its first line with the line tracer on (so it grows with the run), the next ten walk the window it made (median)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python	case	metric	ms	note	")
		for _, f := range r.Figures {
			if f.Section != "lines" {
				continue
			}
			v := "–"
			if f.N > 0 {
				v = fmt.Sprintf("%.1f", f.Median)
			}
			fmt.Fprintf(tw, "%s	%s	%s	%s	%s	\n", f.Python, f.Case, f.Metric, v, f.Note)
		}
		tw.Flush()
	}

	if r.want("criu") {
		fmt.Fprintf(&b, "\nCRIU IMAGES — record --criu=always, one snapshot at a breakpoint (bench/drivers/criu_target.py): dump = snapshot_images.took_ms\n")
		fmt.Fprintf(&b, "(the program frozen) and image size, median [95%% interval] of %d recordings; restore = wall time from starting\n", criuDumps)
		fmt.Fprintf(&b, "`pyreplay resume --criu` to the program's first output line after the snapshot, exact = `pyreplay resume` to the same line,\n")
		fmt.Fprintf(&b, "alternating, %d pairs: median [95%% interval], and of the paired ratios restore ÷ exact\n", criuRestores)
		if r.CriuSkipped != "" {
			fmt.Fprintf(&b, "skipped: no usable CRIU: %s\n", r.CriuSkipped)
		} else {
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "python\tprogram\tdump ms\timage MB\trestore ms\texact resume ms\trestore ÷ exact\t")
			for _, p := range r.Pythons {
				for _, c := range criuCases {
					d := r.find("criu", p.Minor, c.name, "dump")
					if d == nil {
						continue
					}
					if strings.HasPrefix(d.Note, "failed") {
						fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t\n", p.Minor, c.name, d.Note)
						continue
					}
					rs := r.find("criu", p.Minor, c.name, "restore")
					rc := msCell(rs, 0)
					if rs != nil && strings.HasPrefix(rs.Note, "failed") {
						rc = "failed"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, c.name, msCell(d, 0),
						msCell(r.find("criu", p.Minor, c.name, "image size"), 1), rc,
						msCell(r.find("criu", p.Minor, c.name, "exact resume"), 0),
						ratioCell(r.find("criu", p.Minor, c.name, "restore ÷ exact")))
				}
			}
			tw.Flush()
		}
	}

	count := map[string]int{}
	var listed []string
	for _, f := range r.Figures {
		if f.Verdict == "" || f.Metric == modeMetric["aa"] || f.Section == "snapshot-control" {
			continue
		}
		count[f.Verdict]++
		if f.Verdict != vMet {
			listed = append(listed, fmt.Sprintf("%s: %s %s %s %s: %.3g [%.3g–%.3g] %s, target %s", f.Verdict, f.Section, f.Python, f.Case, f.Metric, f.Value, f.Lo, f.Hi, f.Unit, f.Target))
		}
	}
	fmt.Fprintf(&b, "\nTARGETS: %d met, %d missed, %d undecided, %d untrusted\n", count[vMet], count[vMissed], count[vUndecided], count[vUntrusted])
	for _, m := range listed {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "\nNOTES\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", firstLine(n))
		}
	}
	return b.String()
}

func (r *Results) firstOf(section, metric string) *Figure {
	for i := range r.Figures {
		f := &r.Figures[i]
		if f.Section == section && (metric == "" || f.Metric == metric) {
			return f
		}
	}
	return nil
}
