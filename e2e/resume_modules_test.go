package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// The layouts a real program's modules come in: beside the script, in a
// package imported absolutely or relatively, on PYTHONPATH, and run with -m.
// In each, a snapshot with a frame of the other module on the stack (the
// callback in the script, and the helper's loop itself) resumes exactly.
var moduleLayouts = []struct {
	name  string
	files map[string]string
	env   []string
	argv  []string
	bps   []string // breakpoints, each recorded and resumed on its own
}{
	{
		name: "beside",
		files: map[string]string{
			"helper.py": helperSrc,
			"app.py":    "import helper\n" + appBody("helper"),
		},
		argv: []string{"app.py"},
		bps:  []string{"app.py:4@3", "helper.py:4@2", "helper.py:5"},
	},
	{
		name: "package",
		files: map[string]string{
			"lib/__init__.py": "from .helper import run_all\n",
			"lib/helper.py":   helperSrc,
			"app.py":          "import lib\n" + appBody("lib"),
		},
		argv: []string{"app.py"},
		bps:  []string{"app.py:4@3", "lib/helper.py:4@2"},
	},
	{
		name: "pythonpath",
		files: map[string]string{
			"vendor/helper.py": helperSrc,
			"app.py":           "import helper\n" + appBody("helper"),
		},
		env:  []string{"PYTHONPATH=vendor"},
		argv: []string{"app.py"},
		bps:  []string{"app.py:4@3", "vendor/helper.py:4@2"},
	},
	{
		name: "module",
		files: map[string]string{
			"pkg/__init__.py": "",
			"pkg/helper.py":   helperSrc,
			"pkg/app.py":      "from . import helper\n" + appBody("helper"),
		},
		argv: []string{"-m", "pkg.app"},
		bps:  []string{"pkg/app.py:4@3", "pkg/helper.py:4@2"},
	},
}

const helperSrc = `def run_all(items, fn):
    out = []
    for it in items:
        out.append(fn(it))
    return out
`

func appBody(mod string) string {
	return `def square(x):
    y = x * x
    return y
def main():
    print("result", ` + mod + `.run_all([1, 2, 3, 4], square), "— ✓")
main()
`
}

func TestResumeAcrossModules(t *testing.T) {
	for _, py := range testutil.Pythons(t) {
		py := py
		for _, lay := range moduleLayouts {
			lay := lay
			t.Run("py"+py.Minor+"/"+lay.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				for name, src := range lay.files {
					p := filepath.Join(dir, name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				c := testutil.Cmd{Dir: dir, Env: lay.env}
				plain := c.Run(t, py.Path, lay.argv...)
				if plain.Code != 0 || !strings.Contains(plain.Stdout, "result [1, 4, 9, 16]") {
					t.Fatalf("the program itself fails: %+v", plain)
				}
				for k, bp := range lay.bps {
					db := filepath.Join(dir, "rec"+string(rune('a'+k))+".db")
					rec := c.Pyreplay(t, append([]string{"record", "--python", py.Path, "--db", db, "-b", bp}, lay.argv...)...)
					if rec.Stdout != plain.Stdout || rec.Code != 0 {
						t.Fatalf("%s: recording changed the program: %+v", bp, rec)
					}
					snaps := resList(t, c, db)
					if len(snaps) != 1 {
						t.Fatalf("%s: want 1 snapshot, got %+v\n%s", bp, snaps, rec.Stderr)
					}
					r := c.Pyreplay(t, "resume", snaps[0].ID, "--db", db)
					if want := plain.Stdout[snaps[0].StdoutBytes:]; r.Stdout != want || r.Code != 0 {
						t.Fatalf("%s: resume gave %q (exit %d), want %q\n%s", bp, r.Stdout, r.Code, want, r.Stderr)
					}
				}
			})
		}
	}
}
