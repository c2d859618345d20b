package fidelity

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// fixture is one program of the sweep: a single file of fixtures/resume/,
// or an application directory of fixtures/apps/ whose `run` file holds the
// command line after `python` (a script or `-m MODULE`, then arguments).
// Every .py file of an application is swept, not only its entry point.
type fixture struct {
	name string
	src  string // the file, or the application's directory
	dir  bool
	argv []string
}

func fixtures(t *testing.T) []fixture {
	var out []fixture
	files, _ := filepath.Glob(filepath.Join(testutil.Fixtures(), "resume", "*.py"))
	sort.Strings(files)
	for _, f := range files {
		out = append(out, fixture{name: strings.TrimSuffix(filepath.Base(f), ".py"), src: f, argv: []string{filepath.Base(f)}})
	}
	apps, _ := filepath.Glob(filepath.Join(testutil.Fixtures(), "apps", "*", "run"))
	sort.Strings(apps)
	for _, r := range apps {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Dir(r)
		out = append(out, fixture{name: "apps/" + filepath.Base(d), src: d, dir: true, argv: strings.Fields(string(b))})
	}
	if only := os.Getenv("PYREPLAY_FIDELITY_ONLY"); only != "" {
		// a comma-separated list of fixture names (or parts of them), to iterate on a few
		var kept []fixture
		for _, fx := range out {
			for _, o := range strings.Split(only, ",") {
				if strings.Contains(fx.name, o) {
					kept = append(kept, fx)
					break
				}
			}
		}
		out = kept
	}
	if len(out) == 0 {
		t.Fatal("no fixtures")
	}
	return out
}

// install copies the fixture into dir and returns its Python files,
// relative to dir.
func (fx fixture) install(t *testing.T, dir string) []string {
	if !fx.dir {
		src, err := os.ReadFile(fx.src)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(fx.src)
		if err := os.WriteFile(filepath.Join(dir, base), src, 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{base}
	}
	var files []string
	err := filepath.WalkDir(fx.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fx.src, p)
		if d.IsDir() {
			if d.Name() == "__pycache__" || d.Name() == ".pyreplay" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".py") {
			files = append(files, rel)
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// requires reads a "# requires: 3.N" first line.
func requires(src []byte) string {
	if !strings.HasPrefix(string(src), "# requires: 3.") {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(strings.TrimPrefix(string(src), "# requires: "), "\n", 2)[0])
}

type snapRow struct {
	ID          string `json:"id"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	StdoutBytes int    `json:"stdout_bytes"`
	Reason      string `json:"reason"`
	Resume      string `json:"resume"`     // exact | criu | refused
	ResumeWhy   string `json:"resume_why"` // why exact resume refuses
}

type point struct {
	file string // relative to the fixture's directory
	line int
}

// runFixture records, resumes and compares one fixture. With useCriu (the
// full sweep, a usable CRIU) the recording takes a CRIU image at every
// snapshot exact resume refuses, and those snapshots resume from their
// images, compared like the others but for the line events (a CRIU copy is
// the process itself, not a re-run under pyreplay's tracer).
func runFixture(t *testing.T, bin string, py testutil.Python, fx fixture, useCriu bool) []outcome {
	dir := t.TempDir()
	files := fx.install(t, dir)
	apiUsed := false
	for _, rel := range files {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if need := requires(src); need != "" && minorOf(py.Minor) < minorOf(need) {
			t.Skipf("%s needs Python %s", fx.name, need)
		}
		apiUsed = apiUsed || strings.Contains(string(src), "import pyreplay")
	}
	db := filepath.Join(dir, "rec.db")
	// set order depends on the hash seed: fix it so that every run agrees
	c := testutil.Cmd{Dir: dir, Env: []string{"PYTHONHASHSEED=12345"}}
	record := func(db string, extra ...string) testutil.Result {
		args := append([]string{"record", "--python", py.Path, "--db", db}, extra...)
		return c.Pyreplay(t, append(args, fx.argv...)...)
	}
	// 1. the original run
	var orig testutil.Result
	if apiUsed {
		orig = record(filepath.Join(dir, "plain.db"))
	} else {
		orig = c.Run(t, py.Path, fx.argv...)
	}
	// 2. the (line, hit) pairs: every line event CPython's own tracer
	// reports in the fixture's files (what pdb stops at)
	trace := testutil.TraceLines(t, c, py.Path, files, fx.argv)
	events := trace.Counts()
	var lines []point
	for _, rel := range files {
		for l := range events[rel] {
			if l < 1 {
				continue // an empty module's code reports line 0 on some versions: no breakpoint can name it
			}
			lines = append(lines, point{rel, l})
		}
	}
	sort.Slice(lines, func(i, j int) bool {
		return lines[i].file < lines[j].file || (lines[i].file == lines[j].file && lines[i].line < lines[j].line)
	})
	// 3. snapshots at the chosen hits
	var args []string
	want := map[point]int{}     // snapshots each line must give
	hitsAt := map[point][]int{} // the hits they stop at, in the order they happen
	for _, p := range lines {
		n := events[p.file][p.line]
		ks := []int{1}
		if full() {
			ks = append(ks, 2, n)
		} else if n > 1 && !fx.dir && py.Minor == "3.11" {
			ks = append(ks, n) // (make test: last hits on the floor version only; an application's lines at their first)
		}
		seen := map[int]bool{}
		for _, k := range ks {
			if k > n || seen[k] {
				continue
			}
			seen[k] = true
			want[p]++
			hitsAt[p] = append(hitsAt[p], k)
			args = append(args, "-b", fmt.Sprintf("%s:%d@%d", p.file, p.line, k))
		}
	}
	if useCriu {
		args = append([]string{"--criu"}, args...)
	}
	rec := record(db, args...)
	if rec.Code != orig.Code || rec.Stdout != orig.Stdout {
		t.Fatalf("recording changed the program's behaviour: exit %d vs %d\n%s\nargs: %v", rec.Code, orig.Code, rec.Stderr, args)
	}
	ls := c.Pyreplay(t, "ls", "--db", db, "--json")
	var snaps []snapRow
	if err := json.Unmarshal([]byte(ls.Stdout), &snaps); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, ls.Stderr)
	}
	if len(snaps) == 0 {
		t.Fatalf("no snapshots recorded\n%s", rec.Stderr)
	}
	// the request snapshots of pyreplay.snapshot() are checked against an expected file
	var expectResumed []byte
	if !fx.dir {
		expectResumed, _ = os.ReadFile(strings.TrimSuffix(fx.src, ".py") + ".resumed.txt")
	}
	// a (line, hit) pair CPython ran that gave no snapshot is a failure
	var outs []outcome
	got := map[point]int{}
	for _, s := range snaps {
		if s.Reason == "breakpoint" {
			if rel, err := filepath.Rel(dir, s.File); err == nil {
				got[point{rel, s.Line}]++
			}
		}
	}
	for _, p := range lines {
		switch {
		case got[p] < want[p]:
			outs = append(outs, outcome{file: p.file, line: p.line, verdict: "missing",
				reason: fmt.Sprintf("%d of %d snapshots (CPython ran the line %d times)", got[p], want[p], events[p.file][p.line])})
		case got[p] > want[p]:
			// a breakpoint fired where CPython's tracer reports no line event
			outs = append(outs, outcome{file: p.file, line: p.line, verdict: "wrong",
				reason: fmt.Sprintf("%d snapshots for %d breakpoint hits (CPython ran the line %d times): an extra stop", got[p], want[p], events[p.file][p.line])})
		}
	}
	// 4. resume each, one at a time: a resumed program may write the files the next one reads
	outs = append(outs, make([]outcome, len(snaps))...)
	base := len(outs) - len(snaps)
	seen := map[point]int{}
	for i, s := range snaps {
		// a breakpoint's snapshot is at the k-th line event of its line: the
		// resumed program must run the original's line events from there
		var tail *linesAfter
		imaged := useCriu && s.Resume == "criu"
		rel, err := filepath.Rel(dir, s.File)
		if err == nil && s.Reason == "breakpoint" && !imaged {
			p := point{rel, s.Line}
			if j := seen[p]; j < len(hitsAt[p]) {
				sort.Ints(hitsAt[p])
				tail = &linesAfter{trace: trace, at: p, hit: hitsAt[p][j], files: files}
			}
		}
		if err == nil && s.Reason == "breakpoint" {
			seen[point{rel, s.Line}]++
		}
		outs[base+i] = resumeOne(bin, dir, db, s, orig, expectResumed, tail, imaged)
		if imaged {
			// keep the disk bounded: an image is ~12 MB and the sweep takes hundreds
			os.RemoveAll(filepath.Join(db+".criu", s.ID))
		}
		if err == nil {
			outs[base+i].file = rel
		}
	}
	return outs
}

func resumeOne(bin, dir, db string, s snapRow, orig testutil.Result, expectResumed []byte, tail *linesAfter, imaged bool) outcome {
	cmd := exec.Command(bin, "resume", s.ID, "--db", db)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=12345")
	traceOut := filepath.Join(dir, "resumed-lines.json")
	os.Remove(traceOut)
	if tail != nil {
		cmd.Env = append(cmd.Env, "PYREPLAY_TRACE_LINES="+traceOut)
	}
	cmd.Stdin = strings.NewReader("")
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return outcome{snap: s.ID, line: s.Line, verdict: "wrong", reason: err.Error()}
	}
	o := outcome{snap: s.ID, line: s.Line}
	if imaged {
		return criuVerdict(o, s, orig, expectResumed, so.String(), se.String(), code)
	}
	if i := strings.Index(se.String(), "pyreplay: cannot resume"); i >= 0 {
		o.verdict = "refused"
		msg := se.String()[i:]
		if j := strings.Index(msg, "\n"); j >= 0 {
			msg = msg[:j]
		}
		o.reason = normaliseReason(msg)
		return o
	}
	want := wantAfter(s, orig, expectResumed)
	if so.String() == want && code == orig.Code {
		o.verdict = "exact"
		if tail != nil {
			if diff := tail.compare(traceOut, dir); diff != "" {
				o.verdict = "wrong"
				o.reason = "the resumed program's line events differ from the original's: " + diff
			}
		}
		return o
	}
	o.verdict = "wrong"
	o.reason = fmt.Sprintf("exit %d (want %d)\n--- got stdout ---\n%s--- want ---\n%s--- stderr ---\n%s", code, orig.Code, so.String(), want, se.String())
	return o
}

// normaliseReason drops snapshot ids and paths so refusals group.
func normaliseReason(msg string) string {
	msg = strings.TrimPrefix(msg, "pyreplay: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "cannot resume snap-") {
		msg = msg[i+2:]
	}
	if i := strings.LastIndex(msg, " at /"); i >= 0 {
		rest := msg[i+4:]
		msg = msg[:i] + " at " + filepath.Base(rest)
	}
	return msg
}

// wantAfter is the original's stdout from the snapshot on (or the
// fixture's expected file for a pyreplay.snapshot() request).
func wantAfter(s snapRow, orig testutil.Result, expectResumed []byte) string {
	want := orig.Stdout
	if s.StdoutBytes <= len(want) {
		want = want[s.StdoutBytes:]
	}
	if s.Reason == "request" && expectResumed != nil {
		want = string(expectResumed)
	}
	return want
}

// criuVerdict judges a resume from a CRIU image: stderr must open with
// resume's one-line notice, and stdout and the exit status must be the
// original's from the snapshot on. The verdict is "criu" (exact through
// the image) or "criu-wrong"; the reason of a "criu" is why exact resume
// refuses.
func criuVerdict(o outcome, s snapRow, orig testutil.Result, expectResumed []byte, stdout, stderr string, code int) outcome {
	notice, _, _ := strings.Cut(stderr, "\n")
	want := wantAfter(s, orig, expectResumed)
	switch {
	case !strings.HasPrefix(notice, "pyreplay: resuming "+s.ID+" from its CRIU image"):
		o.verdict = "criu-wrong"
		o.reason = fmt.Sprintf("no CRIU notice first on stderr (exit %d):\n%s", code, stderr)
	case stdout != want || code != orig.Code:
		o.verdict = "criu-wrong"
		o.reason = fmt.Sprintf("from its image: exit %d (want %d)\n--- got stdout ---\n%s--- want ---\n%s--- stderr ---\n%s", code, orig.Code, stdout, want, stderr)
	default:
		o.verdict = "criu"
		o.reason = normaliseReason("pyreplay: cannot resume " + s.ID + ": " + s.ResumeWhy)
	}
	return o
}
