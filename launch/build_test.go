package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/launch"
)

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		program string
		want    launch.Target
	}{
		{"prog.py", launch.Target{Script: "prog.py"}},
		{"/abs/dir", launch.Target{Script: "/abs/dir"}},
		{"-m pkg.tool", launch.Target{Module: "pkg.tool"}},
	} {
		got := launch.ParseTarget(tc.program)
		if got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tc.program, got, tc.want)
		}
		if got.String() != tc.program {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.program)
		}
	}
}

func TestBuild(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte("def f():\n    global g\n    g = 1\nf()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "nomain"), 0o755); err != nil {
		t.Fatal(err)
	}

	p, err := launch.Build(launch.Options{Python: py, Target: launch.Target{Script: "prog.py"}, Args: []string{"a"}, Cwd: dir,
		Breakpoints: []string{"prog.py:3@2", "f"}, Every: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Store.Close()
	c := p.Config
	if c.Mode != "record" || c.Program != "prog.py" || c.Module != "" || !reflect.DeepEqual(c.Argv, []string{"prog.py", "a"}) || c.Every != 0.5 {
		t.Errorf("config: %+v", c)
	}
	if c.DB != filepath.Join(dir, ".pyreplay", "recording.db") || c.Run <= 0 || p.Dir != dir || p.BaseDir != dir || p.Python != py {
		t.Errorf("prepared: db %s run %d dir %s base %s python %s", c.DB, c.Run, p.Dir, p.BaseDir, p.Python)
	}
	if len(c.Breakpoints) != 2 || c.Breakpoints[0].File != filepath.Join(dir, "prog.py") || c.Breakpoints[0].Line != 3 || c.Breakpoints[0].Hit != 2 || c.Breakpoints[1].Func != "f" || c.Breakpoints[0].Index != 0 || c.Breakpoints[1].Index != 1 {
		t.Errorf("breakpoints: %+v", c.Breakpoints)
	}
	run, err := p.Store.GetRun(c.Run)
	if err != nil || run.Program != "prog.py" || run.Cwd != dir || !reflect.DeepEqual(run.Argv, c.Argv) {
		t.Errorf("run: %+v (%v)", run, err)
	}

	m, err := launch.Build(launch.Options{Python: py, Target: launch.Target{Module: "pkg.tool"}, Args: []string{"-v"}, Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Store.Close()
	if m.Config.Module != "pkg.tool" || m.Config.Program != "" || !reflect.DeepEqual(m.Config.Argv, []string{"-m", "-v"}) || m.BaseDir != dir {
		t.Errorf("module config: %+v", m.Config)
	}
	if run, err := m.Store.GetRun(m.Config.Run); err != nil || run.Program != "-m pkg.tool" {
		t.Errorf("module run: %+v (%v)", run, err)
	}

	// refusals come before anything is written
	other := filepath.Join(dir, "other.db")
	for _, tc := range []struct {
		name string
		o    launch.Options
		want string
		is   error
	}{
		{"nothing", launch.Options{}, "nothing to run", nil},
		{"missing", launch.Options{Target: launch.Target{Script: "missing.py"}}, "missing.py does not exist", launch.ErrNoProgram},
		{"no __main__", launch.Options{Target: launch.Target{Script: "nomain"}}, "directory without a __main__.py", nil},
		{"no code", launch.Options{Target: launch.Target{Script: "prog.py"}, Breakpoints: []string{"prog.py:2"}}, "global declaration", launch.ErrNoCode},
		{"no cwd", launch.Options{Target: launch.Target{Script: "prog.py"}, Cwd: filepath.Join(dir, "gone")}, "working directory", nil},
	} {
		tc.o.Python, tc.o.DB = py, other
		if tc.o.Cwd == "" {
			tc.o.Cwd = dir
		}
		_, err := launch.Build(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(other); err == nil {
		t.Errorf("a refused build wrote %s", other)
	}
}
