// Package pyenv finds the CPythons installed under pyenv, for the tests
// (internal/testutil) and the benchmarks (bench).
package pyenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Supported lists the CPython minor versions pyreplay supports, oldest first.
var Supported = []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}

// Python is one installed CPython.
type Python struct {
	Minor   string // "3.11"
	Version string // "3.11.9"
	Path    string // its bin/python
}

// Root is pyenv's root: $PYENV_ROOT, else `pyenv root`, else ~/.pyenv.
func Root() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	if out, err := exec.Command("pyenv", "root").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".pyenv")
}

// Discover finds the newest patch release of each minor version installed
// under Root()/versions (X.Y.Z directories with a bin/python), by minor.
func Discover() map[string]Python {
	out := map[string]Python{}
	best := map[string]int{}
	root := Root()
	entries, _ := os.ReadDir(filepath.Join(root, "versions"))
	for _, e := range entries {
		parts := strings.Split(e.Name(), ".")
		if len(parts) != 3 {
			continue
		}
		patch, err := strconv.Atoi(parts[2])
		if err != nil {
			continue
		}
		minor := parts[0] + "." + parts[1]
		exe := filepath.Join(root, "versions", e.Name(), "bin", "python")
		if _, err := os.Stat(exe); err != nil {
			continue
		}
		if p, ok := best[minor]; !ok || patch > p {
			best[minor] = patch
			out[minor] = Python{Minor: minor, Version: e.Name(), Path: exe}
		}
	}
	return out
}
