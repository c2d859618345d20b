package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// pkgMain is a package run with -m pkg: an argparse command line whose
// option names are also pyreplay's (-b, --db, --python, --help), so that
// whichever program parsed them shows in what it prints.
const pkgMain = `import argparse
import sys


def never_called():
    print("never")  # NEVER


def main():
    p = argparse.ArgumentParser(prog="pkg", description="The pkg module's own help.")
    p.add_argument("-q", action="store_true", help="be quiet")
    p.add_argument("-b", help="a -b of the module")
    p.add_argument("--db", help="a --db of the module")
    p.add_argument("--python", help="a --python of the module")
    p.add_argument("--exit", type=int, default=0, help="exit status")
    p.add_argument("rest", nargs="*")
    a = p.parse_args()
    print("argv", sys.argv[1:])
    print("parsed", a.q, a.b, a.db, a.python, a.rest)
    sys.exit(a.exit)  # EXIT


main()
`

// pkgDir writes pkg/ (with pkgMain as pkg/__main__.py) into a fresh directory.
func pkgDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"__init__.py": "", "__main__.py": pkgMain} {
		if err := os.WriteFile(filepath.Join(dir, "pkg", name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pkgLine is the line of pkg/__main__.py that carries marker.
func pkgLine(t *testing.T, marker string) int {
	t.Helper()
	for i, l := range strings.Split(pkgMain, "\n") {
		if strings.Contains(l, "# "+marker) {
			return i + 1
		}
	}
	t.Fatalf("no # %s in pkg/__main__.py", marker)
	return 0
}

// onlySummary checks that pyreplay's stderr holds nothing but the program's
// (wantStderr) and the summary line, and returns the summary.
func onlySummary(t *testing.T, what, stderr, wantStderr string) string {
	t.Helper()
	prog, summary := splitSummary(t, stderr)
	if prog != wantStderr {
		t.Errorf("%s: stderr before the summary %q, want the program's %q", what, prog, wantStderr)
	}
	return summary
}

// `pyreplay record -m pkg --help` prints the module's help, not pyreplay's,
// and exits with the module's status; everything after -m MODULE is the
// module's, even names pyreplay also uses, while pyreplay's own options
// before -m still apply. Every installed CPython.
func TestCLIModuleArgs(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := pkgDir(t)
		db := filepath.Join(dir, "rec.db")

		// --help: the module's help on stdout, the module's exit status (0)
		plain := runPlain(t, py, dir, "", "-m", "pkg", "--help")
		if plain.Code != 0 || !strings.Contains(plain.Stdout, "The pkg module's own help.") {
			t.Fatalf("python -m pkg --help: exit %d\n%s%s", plain.Code, plain.Stdout, plain.Stderr)
		}
		got := runRecord(t, py, dir, db, "", "-m", "pkg", "--help")
		if got.Code != plain.Code || got.Stdout != plain.Stdout {
			t.Errorf("record -m pkg --help: exit %d (want %d), stdout\n%s\nwant the module's help\n%s", got.Code, plain.Code, got.Stdout, plain.Stdout)
		}
		if strings.Contains(got.Stdout+got.Stderr, "record snapshots") || strings.Contains(got.Stdout+got.Stderr, "--max-snapshots") {
			t.Errorf("record -m pkg --help printed pyreplay's help:\n%s%s", got.Stdout, got.Stderr)
		}
		onlySummary(t, "record -m pkg --help", got.Stderr, plain.Stderr)

		// the module's own usage error: its message and its status (2)
		plain = runPlain(t, py, dir, "", "-m", "pkg", "--no-such-option")
		got = runRecord(t, py, dir, db, "", "-m", "pkg", "--no-such-option")
		if plain.Code != 2 || !strings.Contains(plain.Stderr, "unrecognized arguments: --no-such-option") {
			t.Fatalf("python -m pkg --no-such-option: exit %d\n%s", plain.Code, plain.Stderr)
		}
		if got.Code != plain.Code || got.Stdout != plain.Stdout {
			t.Errorf("record -m pkg --no-such-option: exit %d (want %d)\n%s", got.Code, plain.Code, got.Stderr)
		}
		onlySummary(t, "record -m pkg --no-such-option", got.Stderr, plain.Stderr)

		// pyreplay's options before -m (a breakpoint, --db, --python), the
		// same names after it for the module, a non-zero exit status; the
		// module's own "--" is the module's too
		modArgs := []string{"-q", "-b", "x.py:1", "--db", "other.db", "--python", "nope", "--exit", "7", "a", "--", "-b"}
		plain = runPlain(t, py, dir, "", append([]string{"-m", "pkg"}, modArgs...)...)
		if plain.Code != 7 || !strings.Contains(plain.Stdout, "parsed True x.py:1 other.db nope ['a', '-b']") {
			t.Fatalf("python -m pkg %v: exit %d\n%s%s", modArgs, plain.Code, plain.Stdout, plain.Stderr)
		}
		for _, form := range [][]string{{"-m", "pkg"}, {"-mpkg"}, {"--module", "pkg"}, {"--module=pkg"}} {
			db := filepath.Join(t.TempDir(), "rec.db")
			args := append([]string{"-b", fmt.Sprintf("pkg/__main__.py:%d", pkgLine(t, "EXIT"))}, form...)
			got := runRecord(t, py, dir, db, "", append(args, modArgs...)...)
			what := "record " + strings.Join(form, " ") + " " + strings.Join(modArgs, " ")
			if got.Code != 7 || got.Stdout != plain.Stdout {
				t.Errorf("%s: exit %d (want 7), stdout %q, want %q\n%s", what, got.Code, got.Stdout, plain.Stdout, got.Stderr)
				continue
			}
			if s := onlySummary(t, what, got.Stderr, plain.Stderr); !strings.HasSuffix(s, "recorded 1 snapshot: snap-1 in "+db) {
				t.Errorf("%s: the breakpoint given before -m did not record into --db: %q", what, s)
			}
			if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
				t.Errorf("%s: pyreplay took the module's --db other.db", what)
			}
			list := lsJSON(t, dir, db)
			if len(list) != 1 || list[0].Line != pkgLine(t, "EXIT") {
				t.Errorf("%s: snapshots %+v", what, list)
			}
		}
	})
}

// `pyreplay record -m unittest -q test.test_bisect`: unittest's -q reaches
// unittest, and the quiet result is the plain run's. Every installed CPython.
func TestCLIModuleUnittestQuiet(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		plain := runPlain(t, py, dir, "", "-m", "unittest", "-q", "test.test_bisect")
		if plain.Code != 0 || !strings.Contains(plain.Stderr, "\nOK") {
			t.Fatalf("python -m unittest -q test.test_bisect fails without pyreplay: exit %d\n%s", plain.Code, plain.Stderr)
		}
		got := runRecord(t, py, dir, filepath.Join(dir, "rec.db"), "", "-m", "unittest", "-q", "test.test_bisect")
		stderr, _ := splitSummary(t, got.Stderr)
		norm := func(s string) string { return ranRe.ReplaceAllString(s, "Ran $1 tests in T") }
		if got.Code != plain.Code || got.Stdout != plain.Stdout || norm(stderr) != norm(plain.Stderr) {
			t.Errorf("record -m unittest -q test.test_bisect: exit %d (want %d)\n%s\nwant\n%s", got.Code, plain.Code, stderr, plain.Stderr)
		}
		// quiet: no per-test lines, no dots
		if strings.Contains(stderr, " ... ok") || strings.HasPrefix(stderr, ".") {
			t.Errorf("-q did not reach unittest:\n%s", stderr)
		}
	})
}

// unittestResult is the result of a unittest run: "Ran N tests" and the
// status line after it ("OK", "OK (skipped=2)", "FAILED (failures=1)").
var unittestResult = regexp.MustCompile(`(?m)^Ran (\d+) tests? in [0-9.]+s\n\n(OK|FAILED)(.*)$`)

// Transparency: one of CPython's own test modules run verbosely under
// record ends with the same result line as the plain run, with the same
// test-by-test outcomes. Every installed CPython.
func TestCLITransparencyCPythonTests(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		dir := t.TempDir()
		args := []string{"-m", "unittest", "-v", "test.test_bisect"}
		plain := runPlain(t, py, dir, "", args...)
		got := runRecord(t, py, dir, filepath.Join(dir, "rec.db"), "", args...)
		stderr, summary := splitSummary(t, got.Stderr)
		pm, gm := unittestResult.FindStringSubmatch(plain.Stderr), unittestResult.FindStringSubmatch(stderr)
		if pm == nil {
			t.Fatalf("no result line in the plain run (exit %d):\n%s", plain.Code, plain.Stderr)
		}
		if pm[1] == "0" {
			t.Fatalf("the plain run ran no tests:\n%s", plain.Stderr)
		}
		if gm == nil {
			t.Fatalf("no result line under record (exit %d):\n%s", got.Code, stderr)
		}
		if gm[1] != pm[1] || gm[2]+gm[3] != pm[2]+pm[3] || got.Code != plain.Code {
			t.Errorf("under record: Ran %s tests, %s%s, exit %d; plain: Ran %s tests, %s%s, exit %d",
				gm[1], gm[2], gm[3], got.Code, pm[1], pm[2], pm[3], plain.Code)
		}
		norm := func(s string) string { return ranRe.ReplaceAllString(s, "Ran $1 tests in T") }
		if d := outputDiff(norm(plain.Stderr), norm(stderr)); d != "" {
			t.Errorf("the test-by-test output differs under record: %s", d)
		}
		if got.Stdout != plain.Stdout {
			t.Errorf("stdout differs: %q, want %q", got.Stdout, plain.Stdout)
		}
		t.Logf("%s: Ran %s tests, %s%s both ways; %s", py.Minor, pm[1], pm[2], pm[3], summary)
	})
}

var commitRe = regexp.MustCompile(`(?m)^commit: ([0-9a-f]{40})\b`)

// `pyreplay --version`: the version, the commit the binary was built from
// and the CPython versions supported, on stdout, exit 0.
func TestCLIVersion(t *testing.T) {
	dir := t.TempDir()
	res := runPyreplay(t, dir, "--version")
	if res.Code != 0 || res.Stderr != "" {
		t.Fatalf("--version: exit %d, stderr %q", res.Code, res.Stderr)
	}
	out := res.Stdout
	t.Logf("pyreplay --version:\n%s", out)
	if !regexp.MustCompile(`^pyreplay \S+\n`).MatchString(out) {
		t.Errorf("the first line is not `pyreplay VERSION`: %q", out)
	}
	first, last := testutil.Supported[0], testutil.Supported[len(testutil.Supported)-1]
	if !strings.Contains(out, "CPython "+first+"–"+last) {
		t.Errorf("--version does not say CPython %s–%s is supported: %q", first, last, out)
	}
	m := commitRe.FindStringSubmatch(out)
	if m == nil {
		if _, err := os.Stat(filepath.Join(testutil.Root(), ".git")); err != nil {
			t.Skipf("built outside a git checkout: no commit to check (%q)", out)
		}
		t.Fatalf("--version has no commit: %q", out)
	}
	// the commit is one of this repository's (the binary was built from it)
	if _, err := exec.LookPath("git"); err == nil {
		cmd := exec.Command("git", "cat-file", "-e", m[1]+"^{commit}")
		cmd.Dir = testutil.Root()
		if err := cmd.Run(); err != nil {
			t.Errorf("the commit %s of --version is not a commit of this repository: %v", m[1], err)
		}
	}
}

// The commands that take a snapshot say, when it is missing, what to give
// and where to find one: one line on stderr, nothing on stdout, exit 2.
// -m without a module and record without a program say so too.
func TestCLIMissingArgs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"resume"}, "pyreplay: resume: missing argument: give a snapshot id such as snap-3; pyreplay ls lists them\n"},
		{[]string{"show"}, "pyreplay: show: missing argument: give a snapshot id such as snap-3; pyreplay ls lists them\n"},
		{[]string{"show", "--json"}, "pyreplay: show: missing argument: give a snapshot id such as snap-3; pyreplay ls lists them\n"},
		{[]string{"resume", "--db", "rec.db"}, "pyreplay: resume: missing argument: give a snapshot id such as snap-3; pyreplay ls --db rec.db lists them\n"},
		{[]string{"show", "snap-1", "snap-2"}, "pyreplay: show takes one snapshot id, got 2 arguments: snap-1 snap-2\n"},
		{[]string{"record", "-m"}, "pyreplay: -m needs a module name, as with python -m: pyreplay record -m MODULE [ARGS...]\n"},
		{[]string{"record", "--db", "rec.db", "--module"}, "pyreplay: -m needs a module name, as with python -m: pyreplay record -m MODULE [ARGS...]\n"},
		{[]string{"tui", "-m"}, "pyreplay: -m needs a module name, as with python -m: pyreplay tui -m MODULE [ARGS...]\n"},
		{[]string{"record"}, "pyreplay: nothing to record: give a program (pyreplay record prog.py) or a module (-m name)\n"},
	}
	for _, c := range cases {
		res := runPyreplay(t, dir, c.args...)
		what := "pyreplay " + strings.Join(c.args, " ")
		if res.Code != 2 || res.Stdout != "" || res.Stderr != c.want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", what, res.Code, res.Stdout, res.Stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".pyreplay")); err == nil {
		t.Errorf("a command that was missing its argument created a recording")
	}
}

// `pyreplay tui -m pkg ARGS`: the arguments after the module are the
// module's, pyreplay's options before it apply (here a breakpoint that is
// never reached, so the program runs to its end before any screen is
// drawn and the TUI reports its exit status). Runs in tmux.
func TestCLITUIModuleArgs(t *testing.T) {
	bin := testutil.Binary(t)
	dir := pkgDir(t)
	py := testutil.PythonFor(t, "3.11")
	cmd := fmt.Sprintf("%s tui --db rec.db --python %s -b pkg/__main__.py:%d -m pkg -q --db other.db --exit 5 --help-not; echo \"tui exited with $?\"; sleep 60",
		bin, py, pkgLine(t, "NEVER"))
	tm := newTmux(t, dir, 100, 24, nil, cmd)
	s := tm.waitFor("the module's end", "tui exited with")
	// argparse rejects --help-not: the module's own usage error, status 2
	if !strings.Contains(s, "usage: pkg") || !strings.Contains(s, "unrecognized arguments: --help-not") {
		t.Errorf("the module did not get its arguments:\n%s", s)
	}
	cmd = fmt.Sprintf("%s tui --db rec.db --python %s -b pkg/__main__.py:%d -m pkg -q --db other.db --exit 5 -b x; echo \"tui exited with $?\"; sleep 60",
		bin, py, pkgLine(t, "NEVER"))
	tm = newTmux(t, dir, 100, 24, nil, cmd)
	s = tm.waitFor("the module's end", "tui exited with 5")
	t.Logf("screen:\n%s", s)
	if !strings.Contains(s, "pyreplay: starting -m pkg -q --db other.db --exit 5 -b x") ||
		!strings.Contains(s, "parsed True x other.db None []") || !strings.Contains(s, "exit code 5") {
		t.Errorf("the module did not get its arguments, or its exit status was lost:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
		t.Errorf("pyreplay tui took the module's --db other.db")
	}
}
