// Package fidelity is the differential oracle for resume: run a fixture (a
// single file of fixtures/resume/ or an application of fixtures/apps/)
// plainly, record snapshots at the first, second and last hit of every line
// with code of every one of its files, resume each in a fresh process, and
// compare the resumed stdout and exit status with the original's from the
// snapshot's stdout_bytes on. Every pair ends as exact, refused (with the
// reason) or wrong. runner_test.go holds the per-fixture steps.
//
// `make fidelity` (PYREPLAY_FIDELITY=full) runs every fixture at every hit
// on every installed CPython; `make test` runs the single files at their
// first hit on 3.8, 3.11 and 3.13 and their last on 3.11, and the
// applications at first hits on 3.11. PYREPLAY_FIDELITY_ONLY=name,... narrows to some fixtures.
//
// The full sweep, when a usable CRIU is found (as pyreplay finds it), also
// records with --criu: every snapshot exact resume refuses and ls --json
// lists as "criu" is resumed from its image (removed right after) and
// compared like the others, but for the line events; the table's criu-exact
// and criu-wrong columns count them (a refusal CRIU resumed exactly is
// "criu", not "refused"). Without CRIU the table says why the column is
// skipped.
package fidelity

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/testutil"
)

type outcome struct {
	snap    string
	file    string // relative to the fixture's directory
	line    int
	hit     int
	verdict string // exact | refused | wrong | missing (a line event CPython ran gave no snapshot) | criu | criu-wrong (resumed from a CRIU image)
	reason  string
}

func full() bool { return os.Getenv("PYREPLAY_FIDELITY") == "full" }

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
		missing               int
		criu, criuWrong       int
	}
	var rows []row
	var mu sync.Mutex
	reasons := map[string]int{}
	imagedWhy := map[string]int{} // the refusals CRIU resumed exactly
	// the CRIU column: the full sweep only, and only with a usable CRIU
	useCriu, criuNote := false, ""
	if full() {
		if _, err := checkpoint.FindDumping(checkpoint.CacheDirs(bin)...); err != nil {
			criuNote = "CRIU column skipped: no usable CRIU (" + err.Error() + ")"
		} else {
			useCriu = true
		}
	}
	for _, py := range versions(t) {
		py := py
		t.Run("py"+py.Minor, func(t *testing.T) {
			for _, fx := range fixtures(t) {
				fx := fx
				if fx.dir && !full() && py.Minor != "3.11" {
					continue // make test: the applications on the floor version only
				}
				name := fx.name
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					outs := runFixture(t, bin, py, fx, useCriu)
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
							t.Errorf("WRONG %s (%s:%d, hit %d): %s", o.snap, o.file, o.line, o.hit, o.reason)
						case "criu":
							r.criu++
							mu.Lock()
							imagedWhy[py.Minor+": "+o.reason]++
							mu.Unlock()
						case "criu-wrong":
							r.criuWrong++
							t.Errorf("CRIU-WRONG %s (%s:%d, hit %d): %s", o.snap, o.file, o.line, o.hit, o.reason)
						case "missing":
							r.missing++
							t.Errorf("MISSING %s:%d: %s", o.file, o.line, o.reason)
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
	// criuCols: the full sweep's criu-exact / criu-wrong columns ("-" when CRIU is not usable)
	criuCols := func(c, w int) string {
		switch {
		case !full():
			return ""
		case !useCriu:
			return fmt.Sprintf(" %10s %10s", "-", "-")
		}
		return fmt.Sprintf(" %10d %10d", c, w)
	}
	head := fmt.Sprintf("  %-16s %-8s %6s %8s %6s %7s %7s", "fixture", "python", "exact", "refused", "wrong", "exact%", "missing")
	if full() {
		head += fmt.Sprintf(" %10s %10s", "criu-exact", "criu-wrong")
	}
	fmt.Fprintf(&b, "\n  fidelity (exact / refused / wrong; missing: lines CPython ran that gave no snapshot")
	if full() {
		b.WriteString("; criu: refusals resumed from a CRIU image")
	}
	fmt.Fprintf(&b, ")\n%s\n", head)
	if criuNote != "" {
		fmt.Fprintf(&b, "  %s\n", criuNote)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].version != rows[j].version {
			return minorOf(rows[i].version) < minorOf(rows[j].version)
		}
		return rows[i].fixture < rows[j].fixture
	})
	tot := map[string][6]int{}
	for _, r := range rows {
		n := r.exact + r.refused + r.wrong + r.criu + r.criuWrong
		fmt.Fprintf(&b, "  %-16s %-8s %6d %8d %6d %6.1f%% %7d%s\n", r.fixture, r.version, r.exact, r.refused, r.wrong, pct(r.exact, n), r.missing, criuCols(r.criu, r.criuWrong))
		x := tot[r.version]
		x[0] += r.exact
		x[1] += r.refused
		x[2] += r.wrong
		x[3] += r.missing
		x[4] += r.criu
		x[5] += r.criuWrong
		tot[r.version] = x
	}
	vs := make([]string, 0, len(tot))
	for v := range tot {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return minorOf(vs[i]) < minorOf(vs[j]) })
	for _, v := range vs {
		x := tot[v]
		fmt.Fprintf(&b, "  %-16s %-8s %6d %8d %6d %6.1f%% %7d%s\n", "TOTAL", v, x[0], x[1], x[2], pct(x[0], x[0]+x[1]+x[2]+x[4]+x[5]), x[3], criuCols(x[4], x[5]))
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
	if useCriu {
		keys = keys[:0]
		for k := range imagedWhy {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("  refusals CRIU resumed exactly (exact resume's reason):\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "    %4d  %s\n", imagedWhy[k], k)
		}
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
