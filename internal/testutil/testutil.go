// Package testutil runs the real pyreplay binary and the real CPythons
// installed on this machine for the project's tests.
package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/pyenv"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the pyreplay binary: $PYREPLAY_BIN (set by the
// Makefile, which builds it once), else a fresh build into a temp directory.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("PYREPLAY_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "pyreplay-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "pyreplay")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/pyreplay")
		cmd.Dir = Root()
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building pyreplay: %v", binErr)
	}
	return binPath
}

// Python is one installed CPython.
type Python struct {
	Minor string // "3.11"
	Path  string
}

var (
	pyOnce sync.Once
	pys    map[string]pyenv.Python
)

// Supported lists the CPython minor versions pyreplay supports.
var Supported = pyenv.Supported

// Pythons returns the supported CPythons present, oldest first. Absent
// versions are logged as skipped; 3.11 is required.
func Pythons(t testing.TB) []Python {
	t.Helper()
	pyOnce.Do(func() { pys = pyenv.Discover() })
	var out []Python
	for _, v := range Supported {
		p, ok := pys[v]
		if !ok {
			if v == "3.11" {
				t.Fatalf("CPython 3.11 is required for the tests and was not found under %s/versions", pyenv.Root())
			}
			t.Logf("skipping CPython %s: not installed", v)
			continue
		}
		out = append(out, Python{Minor: v, Path: p.Path})
	}
	return out
}

// PythonFor returns the interpreter for one minor version, skipping the test if absent.
func PythonFor(t testing.TB, minor string) string {
	t.Helper()
	pyOnce.Do(func() { pys = pyenv.Discover() })
	p, ok := pys[minor]
	if !ok {
		if minor == "3.11" {
			t.Fatalf("CPython 3.11 is required for the tests and was not found")
		}
		t.Skipf("CPython %s is not installed", minor)
	}
	return p.Path
}

// ForEachPython runs f as a subtest per installed CPython.
func ForEachPython(t *testing.T, f func(t *testing.T, py Python)) {
	for _, py := range Pythons(t) {
		py := py
		t.Run("py"+py.Minor, func(t *testing.T) { f(t, py) })
	}
}

// Result is the outcome of a command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Cmd describes one command to run.
type Cmd struct {
	Dir     string
	Env     []string
	Stdin   string
	Timeout time.Duration
}

// Run runs name with args and returns its output and exit code.
func (c Cmd) Run(t testing.TB, name string, args ...string) Result {
	t.Helper()
	to := c.Timeout
	if to == 0 {
		to = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), to)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("running %s %v: %v", name, args, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v timed out after %v\nstderr: %s", name, args, to, se.String())
	}
	return Result{Stdout: so.String(), Stderr: se.String(), Code: code}
}

// Pyreplay runs the pyreplay binary.
func (c Cmd) Pyreplay(t testing.TB, args ...string) Result {
	t.Helper()
	return c.Run(t, Binary(t), args...)
}

// Fixtures is the fixtures directory.
func Fixtures() string { return filepath.Join(Root(), "fixtures") }

// CopyFixture copies fixtures/name (file or directory) into dir and returns the copy's path.
func CopyFixture(t testing.TB, name, dir string) string {
	t.Helper()
	src := filepath.Join(Fixtures(), name)
	dst := filepath.Join(dir, filepath.Base(name))
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// SortedKeys returns the sorted keys of m.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
