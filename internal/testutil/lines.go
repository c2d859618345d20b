package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LineEvent is one line event: the thread (an index into LineTrace.Threads),
// the file (relative to the program's directory) and the line.
type LineEvent struct {
	Thread int
	File   string
	Line   int
}

// LineTrace is the line events of a run in the order they happened, as
// internal/testutil/linetrace.py (the original run, under CPython's own
// tracer) and the shim's linelog.py (a resumed run) write them.
type LineTrace struct {
	Threads []string
	Events  []LineEvent
}

// Counts gives, per file, how many line events each line had.
func (lt *LineTrace) Counts() map[string]map[int]int {
	res := map[string]map[int]int{}
	for _, e := range lt.Events {
		m := res[e.File]
		if m == nil {
			m = map[int]int{}
			res[e.File] = m
		}
		m[e.Line]++
	}
	return res
}

// ReadLineTrace reads a trace file, keeping the events of files (paths
// relative to dir) and naming them by those relative paths.
func ReadLineTrace(path, dir string, files []string) (*LineTrace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Files   []string `json:"files"`
		Threads []string `json:"threads"`
		Seq     [][3]int `json:"seq"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	rel := map[string]string{}
	for _, f := range files {
		rel[realPath(filepath.Join(dir, f))] = f
	}
	names := make([]string, len(raw.Files))
	for i, f := range raw.Files {
		names[i] = rel[realPath(f)]
	}
	lt := &LineTrace{Threads: raw.Threads}
	for _, e := range raw.Seq {
		if e[1] < 0 || e[1] >= len(names) || names[e[1]] == "" {
			continue
		}
		lt.Events = append(lt.Events, LineEvent{Thread: e[0], File: names[e[1]], Line: e[2]})
	}
	return lt, nil
}

func realPath(p string) string {
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		return rp
	}
	return p
}

// TraceLines runs argv (a script or -m MODULE, then arguments) with python
// in c.Dir under CPython's own line tracer (sys.settrace: the events pdb
// stops at, every thread) and returns the line events of files (paths
// relative to c.Dir).
func TraceLines(t testing.TB, c Cmd, python string, files, argv []string) *LineTrace {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lines.json")
	var abs []string
	for _, f := range files {
		abs = append(abs, realPath(filepath.Join(c.Dir, f)))
	}
	script := filepath.Join(Root(), "internal", "testutil", "linetrace.py")
	r := c.Run(t, python, append([]string{script, out, strings.Join(abs, ",")}, argv...)...)
	lt, err := ReadLineTrace(out, c.Dir, files)
	if err != nil {
		t.Fatalf("no line events from %v: %v\n%s", argv, err, r.Stderr)
	}
	return lt
}

// LineEvents is TraceLines counted: for each file, how many line events
// each line had.
func LineEvents(t testing.TB, c Cmd, python string, files, argv []string) map[string]map[int]int {
	t.Helper()
	return TraceLines(t, c, python, files, argv).Counts()
}
