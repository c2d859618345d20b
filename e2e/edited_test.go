package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Fix and continue (resume --allow-edited): orders.py crashes in
// pricing.cost on an order without a price; the snapshot is taken at the
// second order, before the crash. Each edit resumes to exactly what the
// edited program prints from that point on, with its exit status; an edit
// of the statement being executed, or of its loop, or one that sets a
// local above the position and reads it after it, is refused.
func TestResumeEdited(t *testing.T) {
	type edit struct{ file, old, new string }
	fix := edit{"pricing.py", `return o["qty"] * o["price"]`, `return o["qty"] * (o["price"] or 0.0)`}
	below := edit{"orders.py", `print(f"{o['name']:>5}: {amount:.2f}")`, `print(f"{o['name']:>5}: {amount:8.2f} EUR")`}
	above := []edit{
		{"orders.py", "import sys\n", "\"\"\"Orders: price them, keep a ledger.\"\"\"\n# inserted above every frame\nimport sys\n"},
		{"orders.py", "def process(orders, ledger):\n", "def process(orders, ledger):\n    seen = 0\n    # inserted above the loop\n"},
		{"orders.py", "def main():\n", "def main():\n    # inserted above the call\n"},
	}
	method := edit{"orders.py", "        return sum(a for _, a in self.rows)", "        return round(sum(a for _, a in self.rows), 2)"}
	// locals the edit adds: unused, or set after the position before
	// any read of them, they resume
	unused := edit{"orders.py", "    for o in orders:\n", "    checked = True\n    for o in orders:\n"}
	setBelow := edit{"orders.py", `        ledger.add(o["name"], amount)`, "        name = o[\"name\"]\n        ledger.add(name, amount)"}
	cases := []struct {
		name  string
		edits []edit
	}{
		{"a_fix_off_stack", []edit{fix}},
		{"b_frame_below", []edit{fix, below}},
		{"c_lines_above", append([]edit{fix, below}, above...)},
		{"d_live_method", append(append([]edit{fix, below}, above...), method)},
		{"e_unused_local", []edit{fix, unused}},
		{"f_local_set_below", []edit{fix, unused, setBelow}},
	}
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		src := filepath.Join(testutil.Root(), "e2e", "testdata", "edits")
		orig := map[string]string{}
		for _, f := range []string{"orders.py", "pricing.py"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			orig[f] = string(b)
		}
		write := func(edits []edit) {
			t.Helper()
			files := map[string]string{}
			for f, s := range orig {
				files[f] = s
			}
			for _, e := range edits {
				if !strings.Contains(files[e.file], e.old) {
					t.Fatalf("edit %q not in %s", e.old, e.file)
				}
				files[e.file] = strings.Replace(files[e.file], e.old, e.new, 1)
			}
			for f, s := range files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		write(nil)
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", "orders.py:26@2", "orders.py")
		if rec.Code != 1 || !strings.Contains(rec.Stderr, "TypeError") || !strings.Contains(rec.Stderr, "recorded 2 snapshots") {
			t.Fatalf("record: %+v", rec)
		}
		for _, cs := range cases {
			write(cs.edits)
			plain := c.Run(t, py.Path, "orders.py")
			_, want, _ := strings.Cut(plain.Stdout, "\n") // the first order was printed before the snapshot
			r := c.Pyreplay(t, "resume", "snap-1", "--db", db, "--allow-edited")
			if r.Code != plain.Code || r.Stdout != want {
				t.Errorf("%s: exit %d (want %d)\nstdout %q\nwant   %q\nstderr %s", cs.name, r.Code, plain.Code, r.Stdout, want, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "pyreplay: pricing.py: changed function cost") {
				t.Errorf("%s: no report line for pricing.py:\n%s", cs.name, r.Stderr)
			}
			if cs.name == "c_lines_above" && !strings.Contains(r.Stderr, "process continues at line 30 (was 26)") {
				t.Errorf("%s: the frame's mapping is not reported:\n%s", cs.name, r.Stderr)
			}
			if cs.name == "d_live_method" && !strings.Contains(r.Stderr, "changed class Ledger (total)") {
				t.Errorf("%s: the class's changed method is not reported:\n%s", cs.name, r.Stderr)
			}
		}
		// --dry-run says the same and runs nothing
		write(cases[3].edits)
		dry := c.Pyreplay(t, "resume", "snap-1", "--db", db, "--allow-edited", "--dry-run")
		if dry.Code != 0 || dry.Stdout != "" || !strings.Contains(dry.Stderr, "process continues at line 30 (was 26)") {
			t.Errorf("--dry-run: %+v", dry)
		}
		// (e) the statement being executed and its loop header: refused,
		// nothing runs
		for _, e := range [][]edit{
			{fix, {"orders.py", "        amount = with_tax(cost(o))", "        amount = with_tax(cost(o)) if o[\"price\"] else 0.0"}},
			{fix, {"orders.py", "    for o in orders:", "    for o in list(orders):"}},
		} {
			write(e)
			r := c.Pyreplay(t, "resume", "snap-1", "--db", db, "--allow-edited")
			if r.Code == 0 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "in process (old line 26, new line") {
				t.Errorf("edit %q: want a one-line refusal naming process and its lines, got %+v", e[1].new, r)
			}
		}
		// (f) a local the edit sets above the position and reads after it
		// (new, or renamed: here a parameter) would be unbound in the
		// resumed frame: refused, nothing runs, --dry-run says so too
		for _, e := range []struct {
			edits []edit
			want  string
		}{
			{[]edit{fix, {"orders.py", "    for o in orders:\n", "    n = 0\n    for o in orders:\n"},
				{"orders.py", `        ledger.add(o["name"], amount)`, "        n += 1\n        ledger.add(o[\"name\"], amount)"}},
				"the edit adds local n, set above the current line (new line 25) and used after it, in process (old line 26, new line 27)"},
			{[]edit{fix, {"orders.py", "def process(orders, ledger):", "def process(orders, book):"},
				{"orders.py", `        ledger.add(o["name"], amount)`, `        book.add(o["name"], amount)`}, {"orders.py", "return ledger.total()", "return book.total()"}},
				"the edit adds parameter book (new line 24), used after the current line, in process (old line 26, new line 26)"},
		} {
			write(e.edits)
			for _, extra := range [][]string{nil, {"--dry-run"}} {
				r := c.Pyreplay(t, append([]string{"resume", "snap-1", "--db", db, "--allow-edited"}, extra...)...)
				if r.Code == 0 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, e.want) {
					t.Errorf("edit %q %v: want a one-line refusal with %q, got %+v", e.edits[1].new, extra, e.want, r)
				}
			}
		}
		// without --allow-edited an edited file is refused as before
		write([]edit{fix})
		if r := c.Pyreplay(t, "resume", "snap-1", "--db", db); r.Code == 0 || !strings.Contains(r.Stderr, "--allow-edited") {
			t.Errorf("resume of an edited program without --allow-edited: %+v", r)
		}
	})
}
