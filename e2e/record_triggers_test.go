package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// triggerRun records triggers.py with the given breakpoint specs (markers
// written as @name are replaced by their line) and returns its snapshots.
func triggerRun(t *testing.T, py testutil.Python, dir string, specs ...string) (testutil.Result, []snapSummary, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "rec.db")
	var args []string
	for _, s := range specs {
		if i := strings.Index(s, ":@"); i >= 0 {
			file := s[:i]
			rest := s[i+2:]
			name := rest
			suffix := ""
			if j := strings.IndexAny(rest, "@ "); j >= 0 {
				name, suffix = rest[:j], rest[j:]
			}
			s = markerSpec(t, dir, file, name, suffix)
		}
		args = append(args, "-b", s)
	}
	res := runRecord(t, py, dir, db, "", append(args, "triggers.py")...)
	if res.Code != 0 {
		t.Fatalf("record %v: exit %d\n%s", specs, res.Code, res.Stderr)
	}
	want := "total 30\narea 6\ninner 2\nhelper 42\ntrace None\nsnapshot returned False\nresumed False\n"
	if res.Stdout != want {
		t.Errorf("record %v: the program's output changed:\n%s", specs, res.Stdout)
	}
	return res, lsJSON(t, dir, db), db
}

// only returns the snapshots with the given reason.
func only(list []snapSummary, reason string) []snapSummary {
	var out []snapSummary
	for _, s := range list {
		if s.Reason == reason {
			out = append(out, s)
		}
	}
	return out
}

// Every trigger, on every CPython (3.12+ use sys.monitoring, older ones
// hooks compiled into the program's code).
func TestRecordTriggers(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		prog := filepath.Join(dir, "triggers.py")
		loop := marker(t, prog, "loop")

		t.Run("FILE:LINE every hit", func(t *testing.T) {
			_, list, db := triggerRun(t, py, dir, "triggers.py:@loop")
			bps := only(list, "breakpoint")
			if len(bps) != 5 {
				t.Fatalf("want 5 breakpoint snapshots, got %d: %+v", len(bps), list)
			}
			totals := []string{"0", "0", "1", "5", "14"}
			for i, s := range bps {
				if s.Line != loop || s.Function != "main" || s.File != prog || s.Label != "" {
					t.Errorf("snapshot %d: %+v", i, s)
				}
				f := topFrame(t, showJSON(t, dir, db, s.ID))
				if f.Locals["i"].Repr != itoa(i) || f.Locals["total"].Repr != totals[i] {
					t.Errorf("hit %d: i=%s total=%s, want i=%d total=%s", i+1, f.Locals["i"].Repr, f.Locals["total"].Repr, i, totals[i])
				}
			}
		})

		t.Run("FILE:LINE@K", func(t *testing.T) {
			_, list, db := triggerRun(t, py, dir, "triggers.py:@compute@3")
			bps := only(list, "breakpoint")
			if len(bps) != 1 || bps[0].Function != "compute" {
				t.Fatalf("want one snapshot in compute, got %+v", list)
			}
			s := showJSON(t, dir, db, bps[0].ID)
			if f := topFrame(t, s); f.Locals["i"].Repr != "2" {
				t.Errorf("the 3rd hit has i=%s", f.Locals["i"].Repr)
			}
			if u := userFrames(s); len(u) != 3 || u[1].Function != "main" || u[1].Locals["i"].Repr != "2" {
				t.Errorf("stack: %v", frameNames(s))
			}
		})

		t.Run("FILE:LINE if EXPR", func(t *testing.T) {
			_, list, db := triggerRun(t, py, dir, "triggers.py:@loop if i % 2 == 1 and total > -1")
			bps := only(list, "breakpoint")
			if len(bps) != 2 {
				t.Fatalf("want 2 snapshots (i=1, i=3), got %+v", list)
			}
			for k, want := range []string{"1", "3"} {
				if f := topFrame(t, showJSON(t, dir, db, bps[k].ID)); f.Locals["i"].Repr != want {
					t.Errorf("conditional snapshot %d has i=%s, want %s", k, f.Locals["i"].Repr, want)
				}
			}
		})

		t.Run("condition that raises", func(t *testing.T) {
			res, list, _ := triggerRun(t, py, dir, "triggers.py:@loop if undefined_name > 1")
			if len(only(list, "breakpoint")) != 0 {
				t.Errorf("a failing condition took snapshots: %+v", list)
			}
			stderr, _ := splitSummary(t, res.Stderr)
			if strings.Count(stderr, "pyreplay: breakpoint condition") != 1 || !strings.Contains(stderr, "NameError") {
				t.Errorf("want one line about the failing condition, got:\n%s", stderr)
			}
		})

		for _, fn := range []struct{ spec, qual, local, want string }{
			{"compute", "compute", "i", "0"},
			{"Shape.area", "Shape.area", "self", "Shape"},
			{"area", "Shape.area", "self", "Shape"},
			{"outer.<locals>.inner", "outer.<locals>.inner", "x", "1"},
			{"double", "double", "x", "21"},
		} {
			fn := fn
			t.Run("function "+fn.spec, func(t *testing.T) {
				_, list, db := triggerRun(t, py, dir, fn.spec)
				fs := only(list, "function")
				n := 1
				if fn.spec == "compute" {
					n = 5
				}
				if len(fs) != n {
					t.Fatalf("want %d function snapshots, got %+v", n, list)
				}
				s := showJSON(t, dir, db, fs[0].ID)
				f := topFrame(t, s)
				if fs[0].Function != fn.qual || fs[0].Label != fn.qual || f.Function != fn.qual {
					t.Errorf("function snapshot: %+v (top frame %s)", fs[0], f.Function)
				}
				v := frameLocal(t, f, fn.local)
				if v.Repr != fn.want && v.Type != fn.want {
					t.Errorf("%s = %s %s, want %s", fn.local, v.Type, v.Repr, fn.want)
				}
				if fn.qual == "Shape.area" && (len(v.Children) != 2 || v.Children[0].Repr != "2" || v.Children[1].Repr != "3") {
					t.Errorf("self's attributes: %+v", v.Children)
				}
				// on entry: no line of the body has run yet
				if fn.qual == "compute" {
					if _, ok := f.Locals["sq"]; ok {
						t.Errorf("a function entry snapshot already has sq")
					}
				}
			})
		}

		t.Run("line in an imported module", func(t *testing.T) {
			_, list, db := triggerRun(t, py, dir, "helper_mod.py:@double")
			bps := only(list, "breakpoint")
			if len(bps) != 1 || bps[0].File != filepath.Join(dir, "helper_mod.py") || bps[0].Function != "double" {
				t.Fatalf("want one snapshot in helper_mod.double, got %+v", list)
			}
			s := showJSON(t, dir, db, bps[0].ID)
			if f := topFrame(t, s); f.Locals["x"].Repr != "21" {
				t.Errorf("x = %s", f.Locals["x"].Repr)
			}
			if _, ok := s.Globals["helper_mod"]["FACTOR"]; !ok {
				t.Errorf("the globals of the program's own module helper_mod are not recorded: %v", testutil.SortedKeys(s.Globals))
			}
		})

		t.Run("pyreplay.snapshot", func(t *testing.T) {
			_, list, db := triggerRun(t, py, dir)
			if len(list) != 2 {
				t.Fatalf("want the 2 requested snapshots, got %+v", list)
			}
			if list[0].Reason != "request" || list[0].Label != "checkpoint-1" || list[1].Reason != "request" || list[1].Label != "" {
				t.Errorf("requested snapshots: %+v", list)
			}
			if list[0].Function != "main" || list[0].Line != marker(t, prog, "request") {
				t.Errorf("the snapshot is not where pyreplay.snapshot was called: %+v", list[0])
			}
			s := showJSON(t, dir, db, list[0].ID)
			for _, f := range s.Frames {
				if strings.Contains(f.File, "pyreplay_shim") {
					t.Errorf("a shim frame is in the snapshot: %+v", f)
				}
			}
			if want := int64(len("total 30\narea 6\ninner 2\nhelper 42\ntrace None\n")); list[0].StdoutBytes != want {
				t.Errorf("stdout_bytes %d, want %d", list[0].StdoutBytes, want)
			}
		})

		t.Run("several at once", func(t *testing.T) {
			_, list, _ := triggerRun(t, py, dir, "triggers.py:@loop@2", "triggers.py:@area", "Shape.area", "helper_mod.py:@double")
			var got []string
			for _, s := range list {
				got = append(got, s.Reason+":"+s.Function)
			}
			want := "breakpoint:main function:Shape.area breakpoint:Shape.area breakpoint:double request:main request:main"
			if strings.Join(got, " ") != want {
				t.Errorf("snapshots in order:\n got %s\nwant %s", strings.Join(got, " "), want)
			}
		})
	})
}

// An uncaught exception is recorded with the stack where it was raised.
func TestRecordUncaughtException(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		prog := filepath.Join(dir, "exits.py")
		db := filepath.Join(t.TempDir(), "rec.db")
		res := runRecord(t, py, dir, db, "", "exits.py", "raise")
		if res.Code != 1 || !strings.Contains(res.Stderr, "BadConfig: bad config: '{oops'") {
			t.Fatalf("exit %d\n%s", res.Code, res.Stderr)
		}
		list := lsJSON(t, dir, db)
		if len(list) != 1 || list[0].Reason != "exception" || list[0].Label != "BadConfig" || list[0].Function != "parse" || list[0].Line != marker(t, prog, "raise") {
			t.Fatalf("want one exception snapshot in parse, got %+v", list)
		}
		s := showJSON(t, dir, db, list[0].ID)
		if got := strings.Join(frameNames(s), " "); got != "<module>:"+itoa(marker(t, prog, "main-call"))+" main:"+itoa(marker(t, prog, "main-load"))+
			" load:"+itoa(marker(t, prog, "load-parse"))+" parse:"+itoa(marker(t, prog, "raise")) {
			t.Errorf("exception stack: %s", got)
		}
		f := topFrame(t, s)
		if f.Locals["text"].Repr != "'{oops'" {
			t.Errorf("locals where raised: %+v", f.Locals)
		}
		if len(res.Stderr) > 0 && strings.Contains(res.Stderr, "could not record") {
			t.Errorf("%s", res.Stderr)
		}

		// raised inside the standard library: library frames are kept as such
		res = runRecord(t, py, dir, db, "", "exits.py", "library")
		list = lsJSON(t, dir, db)
		if res.Code != 1 || len(list) != 2 || list[1].Reason != "exception" || list[1].Function != "main" {
			t.Fatalf("library exception: exit %d, %+v", res.Code, list)
		}
		s = showJSON(t, dir, db, list[1].ID)
		last := s.Frames[len(s.Frames)-1]
		if !last.Library || !strings.Contains(last.File, "json") || len(last.Locals) != 0 {
			t.Errorf("the innermost frame should be json's, marked library, not expanded: %+v", last)
		}

		// after os.chdir (3.8 names the script relative to the start directory)
		db2 := filepath.Join(t.TempDir(), "chdir.db")
		runRecord(t, py, dir, db2, "", "-b", markerSpec(t, dir, "chdir.py", "after-chdir", ""), "chdir.py")
		cl := lsJSON(t, dir, db2)
		if len(cl) != 2 || cl[0].Reason != "breakpoint" || cl[1].Reason != "exception" {
			t.Fatalf("after chdir: %+v", cl)
		}
		for _, s := range cl {
			for _, f := range showJSON(t, dir, db2, s.ID).Frames {
				if f.Library || f.File != filepath.Join(dir, "chdir.py") || f.SHA256 == "" {
					t.Errorf("%s after chdir: frame %s file %q library %v sha256 %q", s.ID, f.Function, f.File, f.Library, f.SHA256)
				}
			}
		}

		// sys.exit and KeyboardInterrupt are not errors to record
		for _, mode := range []string{"exit3", "keyboard"} {
			runRecord(t, py, dir, db, "", "exits.py", mode)
		}
		if n := len(lsJSON(t, dir, db)); n != 2 {
			t.Errorf("sys.exit or KeyboardInterrupt took a snapshot: %d snapshots", n)
		}
	})
}

// No breakpoint, or one that is never hit, leaves no tracing behind.
func TestRecordNoTraceLeft(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		db := filepath.Join(t.TempDir(), "rec.db")
		_ = os.WriteFile(filepath.Join(dir, "probe.py"), []byte(`import sys
def never():
    return 1
print(sys.gettrace(), sys.getprofile())
if sys.version_info >= (3, 12):
    M = sys.monitoring
    print([M.get_events(t) for t in range(6)])
`), 0o644)
		res := runRecord(t, py, dir, db, "", "-b", "probe.py:3", "probe.py")
		if !strings.HasPrefix(res.Stdout, "None None\n") {
			t.Errorf("a trace or profile function is installed: %q", res.Stdout)
		}
		if minorAtLeast(py, 12) && strings.Contains(res.Stdout, ", 1") {
			// only PY_START (1) may be on, on the tool holding breakpoints
			t.Logf("monitoring events: %s", res.Stdout)
		}
	})
}
