package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit can be set at link time
// (-ldflags "-X main.version=1.2.0 -X main.commit=abc123"); otherwise they
// come from what the Go toolchain stamps into the binary: the main module's
// version and, for a build from a git checkout, vcs.revision.
var (
	version = ""
	commit  = ""
)

// supportedPythons is the range of CPython versions the shim accepts
// (pyshim/boot.py refuses the others).
const supportedPythons = "3.8–3.13"

// versionText is what `pyreplay --version` prints: pyreplay's version, the
// commit it was built from, the CPython versions it supports and the Go
// toolchain and platform.
func versionText() string {
	v, rev, when, modified := version, commit, "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if commit != "" {
				break // the commit was given at link time: the stamped tree is not it
			}
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pyreplay %s\n", v)
	switch {
	case rev == "":
		b.WriteString("commit: unknown (built without version control information)\n")
	default:
		var notes []string
		if when != "" {
			notes = append(notes, when)
		}
		if modified {
			notes = append(notes, "with uncommitted changes")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, "commit: %s (%s)\n", rev, strings.Join(notes, ", "))
		} else {
			fmt.Fprintf(&b, "commit: %s\n", rev)
		}
	}
	fmt.Fprintf(&b, "python: CPython %s supported\n", supportedPythons)
	fmt.Fprintf(&b, "go:     %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
