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
// first and last hit on 3.8, 3.11 and 3.13 and the applications at first
// hits on 3.11. PYREPLAY_FIDELITY_ONLY=name,... narrows to some fixtures.
package fidelity

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

type outcome struct {
	snap    string
	file    string // relative to the fixture's directory
	line    int
	hit     int
	verdict string // exact | refused | wrong | missing (a line event CPython ran gave no snapshot)
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
	}
	var rows []row
	var mu sync.Mutex
	reasons := map[string]int{}
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
							t.Errorf("WRONG %s (%s:%d, hit %d): %s", o.snap, o.file, o.line, o.hit, o.reason)
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
	fmt.Fprintf(&b, "\n  fidelity (exact / refused / wrong; missing: lines CPython ran that gave no snapshot)\n  %-16s %-8s %6s %8s %6s %7s %7s\n", "fixture", "python", "exact", "refused", "wrong", "exact%", "missing")
	tot := map[string][4]int{}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-16s %-8s %6d %8d %6d %6.1f%% %7d\n", r.fixture, r.version, r.exact, r.refused, r.wrong, pct(r.exact, r.exact+r.refused+r.wrong), r.missing)
		x := tot[r.version]
		x[0] += r.exact
		x[1] += r.refused
		x[2] += r.wrong
		x[3] += r.missing
		tot[r.version] = x
	}
	vs := make([]string, 0, len(tot))
	for v := range tot {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return minorOf(vs[i]) < minorOf(vs[j]) })
	for _, v := range vs {
		x := tot[v]
		fmt.Fprintf(&b, "  %-16s %-8s %6d %8d %6d %6.1f%% %7d\n", "TOTAL", v, x[0], x[1], x[2], pct(x[0], x[0]+x[1]+x[2]), x[3])
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
