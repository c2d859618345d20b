// Package fidelity is the differential oracle for resume: run a fixture
// plainly, record snapshots at the first, second and last hit of every line
// with code, resume each in a fresh process, and compare the resumed stdout
// and exit status with the original's from the snapshot's stdout_bytes on.
// Every pair ends as exact, refused (with the reason) or wrong.
//
// `make test` runs a fast subset; `make fidelity` (PYREPLAY_FIDELITY=full)
// runs every hit on every installed CPython.
package fidelity

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/tracer"
)

type outcome struct {
	snap    string
	line    int
	hit     int
	verdict string // exact | refused | wrong
	reason  string
}

func full() bool { return os.Getenv("PYREPLAY_FIDELITY") == "full" }

func fixtures(t *testing.T) []string {
	ms, err := filepath.Glob(filepath.Join(testutil.Fixtures(), "resume", "*.py"))
	if err != nil || len(ms) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	sort.Strings(ms)
	return ms
}

func versions(t *testing.T) []testutil.Python {
	all := testutil.Pythons(t)
	if full() {
		return all
	}
	var out []testutil.Python
	for _, p := range all {
		if p.Minor == "3.11" || p.Minor == "3.13" || p.Minor == "3.8" {
			out = append(out, p)
		}
	}
	return out
}

func TestFidelity(t *testing.T) {
	bin := testutil.Binary(t)
	type row struct {
		fixture, version      string
		exact, refused, wrong int
	}
	var rows []row
	var mu sync.Mutex
	reasons := map[string]int{}
	for _, py := range versions(t) {
		py := py
		t.Run("py"+py.Minor, func(t *testing.T) {
			for _, fx := range fixtures(t) {
				fx := fx
				name := strings.TrimSuffix(filepath.Base(fx), ".py")
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					outs := runFixture(t, bin, py, fx)
					r := row{fixture: name, version: py.Minor}
					for _, o := range outs {
						switch o.verdict {
						case "exact":
							r.exact++
						case "refused":
							r.refused++
							mu.Lock()
							reasons[py.Minor+": "+o.reason]++
							mu.Unlock()
						case "wrong":
							r.wrong++
							t.Errorf("WRONG %s (line %d, hit %d): %s", o.snap, o.line, o.hit, o.reason)
						}
					}
					mu.Lock()
					rows = append(rows, r)
					mu.Unlock()
				})
			}
		})
	}
	// the table
	var b strings.Builder
	fmt.Fprintf(&b, "\n  fidelity (exact / refused / wrong)\n  %-12s %-8s %6s %8s %6s %7s\n", "fixture", "python", "exact", "refused", "wrong", "exact%")
	tot := map[string][3]int{}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-12s %-8s %6d %8d %6d %6.1f%%\n", r.fixture, r.version, r.exact, r.refused, r.wrong, pct(r.exact, r.exact+r.refused+r.wrong))
		x := tot[r.version]
		x[0] += r.exact
		x[1] += r.refused
		x[2] += r.wrong
		tot[r.version] = x
	}
	vs := make([]string, 0, len(tot))
	for v := range tot {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return minorOf(vs[i]) < minorOf(vs[j]) })
	for _, v := range vs {
		x := tot[v]
		fmt.Fprintf(&b, "  %-12s %-8s %6d %8d %6d %6.1f%%\n", "TOTAL", v, x[0], x[1], x[2], pct(x[0], x[0]+x[1]+x[2]))
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("  refusals:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "    %4d  %s\n", reasons[k], k)
	}
	t.Log(b.String())
	fmt.Print(b.String())
}

func minorOf(v string) int {
	p := strings.Split(v, ".")
	n, _ := strconv.Atoi(p[len(p)-1])
	return n
}

func pct(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(a) / float64(n)
}

type snapRow struct {
	ID          string `json:"id"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	StdoutBytes int    `json:"stdout_bytes"`
	Reason      string `json:"reason"`
}

func runFixture(t *testing.T, bin string, py testutil.Python, fx string) []outcome {
	dir := t.TempDir()
	src, err := os.ReadFile(fx)
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, filepath.Base(fx))
	if err := os.WriteFile(prog, src, 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(fx)
	if strings.HasPrefix(string(src), "# requires: 3.") {
		need := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(string(src), "# requires: "), "\n", 2)[0])
		if minorOf(py.Minor) < minorOf(need) {
			t.Skipf("%s needs Python %s", base, need)
		}
	}
	db := filepath.Join(dir, "rec.db")
	// set order depends on the hash seed: fix it so that every run agrees
	c := testutil.Cmd{Dir: dir, Env: []string{"PYTHONHASHSEED=12345"}}
	needsAPI := strings.Contains(string(src), "import pyreplay")
	// 1. the original run
	var orig testutil.Result
	if needsAPI {
		orig = c.Pyreplay(t, "record", "--python", py.Path, "--db", filepath.Join(dir, "plain.db"), base)
	} else {
		orig = c.Run(t, py.Path, base)
	}
	f, _ := astinfo.Parse(src)
	var lines []int
	for _, l := range f.StatementLines() {
		// only lines a breakpoint can be set on (some statements compile to nothing)
		if _, err := tracer.ParseBreakpoint(fmt.Sprintf("%s:%d", prog, l), dir); err == nil {
			lines = append(lines, l)
		}
	}
	// 2. hit counts of every line
	hits := filepath.Join(dir, "hits.json")
	args := []string{"record", "--python", py.Path, "--db", filepath.Join(dir, "count.db"), "--hits", hits}
	for _, l := range lines {
		args = append(args, "-b", fmt.Sprintf("%s:%d if False", base, l))
	}
	cnt := c.Pyreplay(t, append(args, base)...)
	if cnt.Code != orig.Code || cnt.Stdout != orig.Stdout {
		t.Fatalf("recording changed the program's behaviour: exit %d vs %d\n%s\n--- vs ---\n%s\n%s", cnt.Code, orig.Code, cnt.Stdout, orig.Stdout, cnt.Stderr)
	}
	var hitMap map[string]int
	b, err := os.ReadFile(hits)
	if err != nil {
		t.Fatalf("no hit counts: %v\n%s", err, cnt.Stderr)
	}
	_ = json.Unmarshal(b, &hitMap)
	// 3. snapshots at the chosen hits
	args = []string{"record", "--python", py.Path, "--db", db}
	type key struct{ line, hit int }
	var want []key
	rp, _ := filepath.EvalSymlinks(prog)
	for _, l := range lines {
		n := hitMap[fmt.Sprintf("%s:%d", rp, l)]
		if n == 0 {
			continue
		}
		ks := []int{1}
		if full() {
			ks = append(ks, 2, n)
		} else if n > 1 {
			ks = append(ks, n)
		}
		seen := map[int]bool{}
		for _, k := range ks {
			if k > n || seen[k] {
				continue
			}
			seen[k] = true
			want = append(want, key{l, k})
			args = append(args, "-b", fmt.Sprintf("%s:%d@%d", base, l, k))
		}
	}
	rec := c.Pyreplay(t, append(args, base)...)
	if rec.Code != orig.Code || rec.Stdout != orig.Stdout {
		t.Fatalf("recording changed the program's behaviour: exit %d vs %d\n%s\nargs: %v", rec.Code, orig.Code, rec.Stderr, args)
	}
	ls := c.Pyreplay(t, "ls", "--db", db, "--json")
	var snaps []snapRow
	if err := json.Unmarshal([]byte(ls.Stdout), &snaps); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, ls.Stderr)
	}
	// the request snapshots of pyreplay.snapshot() are checked against an expected file
	expectResumed, _ := os.ReadFile(strings.TrimSuffix(fx, ".py") + ".resumed.txt")
	// 4. resume each
	// one at a time: a resumed program may write the files the next one reads
	outs := make([]outcome, len(snaps))
	for i, s := range snaps {
		outs[i] = resumeOne(t, bin, dir, db, s, orig, expectResumed)
	}
	if len(snaps) == 0 {
		t.Fatalf("no snapshots recorded\n%s", rec.Stderr)
	}
	return outs
}

func resumeOne(t *testing.T, bin, dir, db string, s snapRow, orig testutil.Result, expectResumed []byte) outcome {
	cmd := exec.Command(bin, "resume", s.ID, "--db", db)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=12345")
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
	if i := strings.Index(se.String(), "pyreplay: cannot resume"); i >= 0 {
		o.verdict = "refused"
		msg := se.String()[i:]
		if j := strings.Index(msg, "\n"); j >= 0 {
			msg = msg[:j]
		}
		o.reason = normaliseReason(msg)
		return o
	}
	want := orig.Stdout
	if s.StdoutBytes <= len(want) {
		want = want[s.StdoutBytes:]
	}
	if s.Reason == "request" && expectResumed != nil {
		want = string(expectResumed)
	}
	if so.String() == want && code == orig.Code {
		o.verdict = "exact"
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
