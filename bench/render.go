package main

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

func mark(f Figure) string {
	if f.Met == nil {
		return ""
	}
	if *f.Met {
		return " ✓"
	}
	return " ✗"
}

func ratioCell(f *Figure) string {
	if f == nil {
		return "–"
	}
	if f.N == 0 || math.IsNaN(f.Median) {
		if strings.HasPrefix(f.Note, "failed") {
			return "failed"
		}
		return "–"
	}
	return fmt.Sprintf("%.2f [%.2f–%.2f]%s", f.Median, f.Min, f.Max, mark(*f))
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

	if r.want("overhead") {
		fmt.Fprintf(&b, "\nRECORDING OVERHEAD — in-program CPU time ÷ plain Python's: median [min–max] of %d rounds (bdb, debugpy: %d)\n", r.Reps, peerReps)
		fmt.Fprintf(&b, "each run times %d iterations of the workload (bdb, debugpy: %d, at a fraction of the work), then passes the breakpoint's line once; each is paired\n", iterations, peerIterations)
		fmt.Fprintf(&b, "with a plain run started with it on the other CPU (timed work begun together; CPUs alternate); ratio of the fastest iterations ((c): of all);\n")
		fmt.Fprintf(&b, "\"all\": every ratio of the version; control: plain Python in pyreplay's place — how far identical runs differ here\n")
		fmt.Fprintf(&b, "targets: (a) ≤ 1.05 on 3.12–3.13, ≤ 1.3 on 3.8–3.11; (b) ≤ 1.05; ✓ met, ✗ missed\n")
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
		fmt.Fprintf(&b, "bdb: pdb's engine (bdb.Bdb, continuing at every stop) at %.0f%% of the work, against plain Python at the same fraction\n", bdbScale*100)
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
			fmt.Fprintf(&b, "start-up (process start to the program's main()) of pyreplay record beyond plain Python's, median: %s\n", strings.Join(su, ", "))
		}
	}

	if r.want("snapshot") {
		fmt.Fprintf(&b, "\nSNAPSHOT COST — one pyreplay.snapshot(), timed inside the program (wall clock; CPU time beside it), after a first, warm-up one; target: 20 deep with ≤ 100 kB of locals ≤ 5 ms median\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\tstack\tmedian ms\tp95 ms\tCPU median ms\tfirst ms\tsize\tstate\tviews\ttarget\t")
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
				cpu := ""
				if s := r.find("snapshot-cpu", p.Minor, c.name(), ""); s != nil && s.N > 0 {
					cpu = fmt.Sprintf("%.2f", s.Median)
				}
				first, size, state, views := "", "", "", ""
				fmt.Sscanf(f.Note, "first snapshot of the run (not in the statistics) %s ms", &first)
				if s := r.find("snapshot-size", p.Minor, c.name(), ""); s != nil {
					size = kb(s.Median)
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
				fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Minor, c.name(), f.Median, f.P95, cpu, first, size, state, views, tgt)
			}
		}
		tw.Flush()
	}

	if r.want("resume") {
		fmt.Fprintf(&b, "\nRESUME LATENCY — from the command starting to the BREAK line running (ms, median [min–max] of %d); target ≤ 200 ms median, and faster than re-running when that takes > 200 ms\n", resumeReps)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "python\tprogram\tre-run (python prog.py)\tpyreplay resume\ttarget\t")
		for _, p := range r.Pythons {
			for _, f := range r.Figures {
				if f.Section != "resume" || f.Python != p.Minor || f.Metric != "pyreplay resume to the first resumed line" {
					continue
				}
				rr := r.find("resume", p.Minor, f.Case, "re-run with plain Python to the same line")
				cell := func(f *Figure) string {
					if f == nil || f.N == 0 {
						return "–"
					}
					return fmt.Sprintf("%.0f [%.0f–%.0f]", f.Median, f.Min, f.Max)
				}
				res := cell(&f)
				if f.N == 0 {
					res = f.Note
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t\n", p.Minor, f.Case, cell(rr), res, f.Target, mark(f))
			}
		}
		tw.Flush()
	}

	if r.want("dap") {
		fmt.Fprintf(&b, "\nDAP LATENCY — pyreplay dap over stdio, replaying a recording of %d snapshots (ms over %d steps each way)\n", dapSnapshots, dapSteps)
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
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%s%s\t\n", f.Metric, f.Median, f.P95, f.Max, f.Target, mark(f))
		}
		tw.Flush()
		if f := r.firstOf("dap-recording", ""); f != nil {
			fmt.Fprintf(&b, "the recording: Python %s, %.2f ms per snapshot while recording; %s\n", f.Python, f.Median, f.Note)
		}
	}

	met, missed := 0, []string{}
	for _, f := range r.Figures {
		if f.Met == nil {
			continue
		}
		if *f.Met {
			met++
		} else {
			v := f.Median
			if strings.Contains(f.Target, "p95") {
				v = f.P95
			}
			missed = append(missed, fmt.Sprintf("%s %s %s %s: %.3g %s, target %s", f.Section, f.Python, f.Case, f.Metric, v, f.Unit, f.Target))
		}
	}
	fmt.Fprintf(&b, "\nTARGETS: %d met, %d missed\n", met, len(missed))
	for _, m := range missed {
		fmt.Fprintf(&b, "  missed: %s\n", m)
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
