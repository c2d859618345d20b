// Command bench measures pyreplay's costs against plain Python, pdb's
// engine (bdb) and debugpy, on every CPython 3.8-3.13 found under pyenv,
// prints a table of each figure with its 95% interval beside its target and
// writes the same as JSON (bench/results.json).
//
//	PYREPLAY_BIN=bin/pyreplay go run ./bench [-quick] [-python 3.11,3.12] [-only overhead,timetravel,snapshot,bigvalue,resume,dap,lines,lineslive,criu] [-workloads W] [-rounds N] [-generations N]
//
// `make bench` builds the binary and runs it. Sections:
//
//   - overhead: recording overhead on five workloads (call-, loop-,
//     allocation-, recursion-heavy, I/O), measured in lockstep (lockstep.go):
//     plain Python, pyreplay (a) breakpoint set but not in the hot path,
//     (b) exception capture only, (c) --every 100ms, and a second plain
//     Python (the control), pinned to one CPU, take timed turns in shuffled
//     rounds; each ratio is a turn over plain Python's turn of the same
//     round; bdb and debugpy with the same breakpoint;
//   - timetravel: a live session with time travel on (pyreplay dap's
//     default) against plain Python on the CPU-bound workloads, in
//     lockstep as overhead, beside a sys.settrace line recorder, bdb and
//     debugpy; and its recording's size per minute of call_heavy
//     (timetravel.go);
//   - snapshot: CPU time and size of one pyreplay.snapshot() for stacks 1,
//     20 and 200 deep with small locals, about 100 kB and about 1 MB of locals;
//   - resume: `pyreplay resume` to the first resumed line, against
//     re-running the program to the same line;
//   - dap: step, step back and variables on a recording of 10,000 snapshots;
//   - criu: with --criu=always, a CRIU image's dump time and size for a
//     small program and one holding ~100 MB of heap, and `pyreplay resume
//     --criu` to the first resumed line against exact resume's (criu.go;
//     skipped, saying why, without a usable CRIU).
//
// A target is met or missed only when the figure's 95% interval is on one
// side of it (else undecided), and untrusted when the control of the same
// measurement drifted beyond its tolerance.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/pyreplay/pyreplay/internal/pyenv"
)

// Figure is one measured figure, beside its target when it has one.
type Figure struct {
	Section string `json:"section"`
	Python  string `json:"python,omitempty"`
	Case    string `json:"case"`
	Metric  string `json:"metric"`
	Unit    string `json:"unit"`
	Stat
	Target  string  `json:"target,omitempty"`
	Limit   float64 `json:"limit,omitempty"`
	Verdict string  `json:"verdict,omitempty"` // met, missed, undecided (the interval straddles the target), untrusted (the control drifted)
	Note    string  `json:"note,omitempty"`
}

// PyInfo is one interpreter the bench ran.
type PyInfo struct {
	Minor   string `json:"minor"`
	Version string `json:"version"`
	Path    string `json:"path"`
}

// Results is bench/results.json.
type Results struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Seconds  float64            `json:"seconds"`
	Sections map[string]float64 `json:"section_seconds"`
	CPU      string             `json:"cpu"`
	CPUs     int                `json:"cpus"`
	Load     string             `json:"load_average_at_start"`
	Commit   string             `json:"commit"`
	Pythons  []PyInfo           `json:"pythons"`
	Rounds   int                `json:"rounds"`
	Gens     int                `json:"generations"`
	Quick    bool               `json:"quick"`
	Figures  []Figure           `json:"figures"`
	Notes    []string           `json:"notes"`
	Table    string             `json:"table"`
	// CriuSkipped says why the criu section did not run (no usable CRIU).
	CriuSkipped string `json:"criu_skipped,omitempty"`
	sections    map[string]bool
	root, bin   string
	tmp         string
}

var (
	flagPython   = flag.String("python", "", "comma-separated CPython minor versions to run (default: every 3.8-3.13 found)")
	flagOnly     = flag.String("only", "", "comma-separated sections: overhead,timetravel,snapshot,bigvalue,resume,dap,lines,lineslive (lines' live session alone),criu (default: all but lineslive)")
	flagRounds   = flag.Int("rounds", 8, "counted rounds of turns of each overhead group (after one of warm-up)")
	flagSessions = flag.Int("sessions", 0, "live sessions of the lines section per interpreter, half of them stepping back at once (default 8, -quick 4)")
	flagGens     = flag.Int("generations", 4, "overhead groups (fresh processes) per version and workload")
	flagQuick    = flag.Bool("quick", false, "one version (the newest, or -python) and one workload (call_heavy, or -workloads; timetravel: its four CPU-bound ones unless -workloads)")
	flagSerial   = flag.Bool("serial", false, "run the overhead groups one at a time on one CPU (default: one per CPU at once)")
	flagOut      = flag.String("out", "", "JSON output (default bench/results.json; with -quick bench/results-quick.json)")
	flagWork     = flag.String("workloads", "", "comma-separated overhead workloads (default: all)")
	flagKeep     = flag.Bool("keep", false, "keep the temporary directory")
	flagV        = flag.Bool("v", false, "log every process run")
)

func main() {
	flag.Parse()
	start := time.Now()
	r := &Results{Started: start.UTC(), Rounds: *flagRounds, Gens: *flagGens, Quick: *flagQuick, sections: map[string]bool{}}
	r.Command = "make bench"
	if len(os.Args) > 1 {
		r.Command = "go run ./bench " + strings.Join(os.Args[1:], " ")
	}
	r.root = repoRoot()
	for _, s := range strings.Split(*flagOnly, ",") {
		if s = strings.TrimSpace(s); s != "" {
			r.sections[s] = true
		}
	}
	var err error
	r.bin, err = pyreplayBin(r.root)
	if err != nil {
		fatal(err)
	}
	r.tmp, err = os.MkdirTemp("", "pyreplay-bench-")
	if err != nil {
		fatal(err)
	}
	if !*flagKeep {
		defer os.RemoveAll(r.tmp)
	} else {
		logf("keeping %s", r.tmp)
	}
	r.CPU, r.CPUs = cpuInfo()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if out, err := exec.Command("git", "-C", r.root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		r.Commit = strings.TrimSpace(string(out))
	}
	pys := discoverPythons()
	if *flagPython != "" {
		want := map[string]bool{}
		for _, v := range strings.Split(*flagPython, ",") {
			want[strings.TrimSpace(v)] = true
		}
		var keep []PyInfo
		for _, p := range pys {
			if want[p.Minor] {
				keep = append(keep, p)
			}
		}
		pys = keep
	}
	if len(pys) == 0 {
		fatal(fmt.Errorf("no CPython 3.8-3.13 found under %s/versions (set PYENV_ROOT)", pyenv.Root()))
	}
	if *flagWork != "" {
		workloads = strings.Split(*flagWork, ",")
	}
	if *flagQuick {
		pys = pys[len(pys)-1:]
		if *flagWork == "" {
			workloads = []string{"call_heavy"}
		}
		workloads = workloads[:1]
	}
	r.Pythons = pys
	logf("pyreplay %s, %d interpreters: %s; %s (%d CPUs), load %s", r.bin, len(pys), minors(pys), r.CPU, r.CPUs, r.Load)

	r.Sections = map[string]float64{}
	section := func(name string, f func()) {
		if !r.want(name) {
			return
		}
		t := time.Now()
		f()
		r.Sections[name] = time.Since(t).Seconds()
		logf("%s: %.0f s", name, r.Sections[name])
	}
	section("overhead", func() {
		r.overhead(pys)
		if !*flagQuick {
			r.debugpy()
		}
	})
	section("timetravel", func() { r.timeTravel(pys) })
	section("snapshot", func() {
		for _, p := range pys {
			r.snapshotCost(p)
		}
	})
	section("bigvalue", func() {
		for _, p := range pys {
			r.bigValue(p)
		}
	})
	section("resume", func() {
		for _, p := range pys {
			r.resumeLatency(p)
		}
	})
	section("dap", func() { r.dapLatency(pys[len(pys)-1]) })
	section("lines", func() {
		for _, py := range pys {
			r.lineHistory(py)
			r.lineHistoryLive(py)
		}
	})
	// (the live session's figures alone: "lines" without its recordings)
	section("lineslive", func() {
		for _, py := range pys {
			r.lineHistoryLive(py)
		}
	})
	section("criu", func() {
		if why := r.criuUsable(); why != "" {
			r.CriuSkipped = why
			logf("criu: skipped, no usable CRIU: %s", why)
			return
		}
		for _, p := range pys {
			r.criuCost(p)
		}
	})
	r.Seconds = time.Since(start).Seconds()
	r.Table = r.render()
	fmt.Print(r.Table)
	out := *flagOut
	if out == "" {
		out = filepath.Join(r.root, "bench", "results.json")
		if *flagQuick {
			out = filepath.Join(r.root, "bench", "results-quick.json")
		}
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		fatal(err)
	}
	logf("wrote %s (%.0f s)", out, r.Seconds)
}

// want: section s was asked for (-only), or all were but s is lineslive
// (a part of lines, for measuring it alone)
func (r *Results) want(s string) bool {
	return r.sections[s] || (len(r.sections) == 0 && s != "lineslive")
}

func (r *Results) add(f Figure) { r.Figures = append(r.Figures, f) }

func (r *Results) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	r.Notes = append(r.Notes, s)
	logf("note: %s", s)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}

func repoRoot() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func pyreplayBin(root string) (string, error) {
	if p := os.Getenv("PYREPLAY_BIN"); p != "" {
		return filepath.Abs(p)
	}
	p := filepath.Join(root, "bin", "pyreplay")
	logf("PYREPLAY_BIN not set: building %s", p)
	cmd := exec.Command("go", "build", "-o", p, "./cmd/pyreplay")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return p, cmd.Run()
}

func cpuInfo() (string, int) {
	name := ""
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Model name" {
				name = strings.TrimSpace(v)
			}
		}
	}
	return name, runtime.NumCPU()
}

// discoverPythons finds the newest patch release of each supported minor
// version under pyenv (internal/pyenv, as the tests do).
func discoverPythons() []PyInfo {
	found := pyenv.Discover()
	var out []PyInfo
	for _, v := range pyenv.Supported {
		if p, ok := found[v]; ok {
			out = append(out, PyInfo{Minor: p.Minor, Version: p.Version, Path: p.Path})
		}
	}
	return out
}

func minors(ps []PyInfo) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Version)
	}
	return strings.Join(s, " ")
}

// proc is one finished process.
type proc struct {
	stdout, stderr string
	wall           float64 // seconds, start to exit
	err            error
}

func run(timeout time.Duration, dir string, env []string, name string, args ...string) proc {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = nil
	t0 := time.Now()
	err := cmd.Run()
	p := proc{stdout: out.String(), stderr: errb.String(), wall: time.Since(t0).Seconds()}
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", timeout)
	}
	if err != nil {
		p.err = fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(p.stderr, 1500))
	}
	if *flagV {
		logf("%.3fs %s %s", p.wall, filepath.Base(name), strings.Join(args, " "))
	}
	return p
}

// cleanEnv is the environment without anything that would change where a
// recording goes or how Python starts.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PYREPLAY_DB", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONBREAKPOINT", "BENCH_TIMING":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// breakLine is the line marked "# BREAK" in a program.
func breakLine(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "# BREAK") {
			return i + 1
		}
	}
	fatal(fmt.Errorf("%s has no line marked # BREAK", path))
	return 0
}

// snapshotList is `pyreplay ls --json`.
type snapshotSummary struct {
	ID     string  `json:"id"`
	Run    int64   `json:"run"`
	Reason string  `json:"reason"`
	Label  string  `json:"label"`
	Line   int     `json:"line"`
	Time   float64 `json:"time"`
	Size   int64   `json:"size"`
}

func (r *Results) ls(db string) ([]snapshotSummary, error) {
	p := run(2*time.Minute, r.tmp, nil, r.bin, "ls", "--db", db, "--json")
	if p.err != nil {
		return nil, p.err
	}
	var out []snapshotSummary
	err := json.Unmarshal([]byte(p.stdout), &out)
	return out, err
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

var _ = io.Discard
