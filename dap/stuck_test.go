package dap_test

// What a test that timed out waiting for the server shows, to tell a
// slow machine from a hang: the engine's goroutines (the server runs in
// the test process) and every process this test binary started, with
// its scheduler state and the kernel function it waits in.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// stuckReport is the engine's goroutines (those in pyreplay's packages
// but not the tests') and the test binary's descendant processes.
func stuckReport() string {
	var b strings.Builder
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if !strings.Contains(s, "github.com/pyreplay/pyreplay/") || strings.Contains(s, "dap_test.stuckReport") {
			continue
		}
		if n++; n > 40 {
			b.WriteString("(more goroutines left out)\n")
			break
		}
		b.WriteString(s)
		b.WriteString("\n\n")
	}
	b.WriteString(descendants(os.Getpid()))
	return b.String()
}

// descendants lists the processes under pid: pid, state (R running, S
// sleeping, T stopped, Z zombie), the kernel function it waits in, and
// its command line.
func descendants(root int) string {
	parent := map[int]int{}
	info := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so after the last ')'
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
		wchan, _ := os.ReadFile(filepath.Join(d, "wchan"))
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		c := strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ")
		if len(c) > 160 {
			c = c[:160] + "..."
		}
		info[pid] = fmt.Sprintf("%d %s wchan=%s %s", pid, f[0], wchan, c)
	}
	var b strings.Builder
	b.WriteString("processes under the test binary:\n")
	for pid := range info {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				b.WriteString("  " + info[pid] + "\n")
				break
			}
		}
	}
	return b.String()
}
