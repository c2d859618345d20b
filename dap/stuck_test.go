package dap_test

// What a test that timed out waiting for the server shows, to tell a
// slow machine from a hang: the engine's goroutines (the server runs in
// the test process) and every process this test binary started, with
// its scheduler state and the kernel function it waits in, and, for the
// Python ones, the Python and C stacks of every thread (gdb, when installed).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
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
				if strings.Contains(info[pid], "python") {
					b.WriteString(pythonStacks(pid))
				}
				break
			}
		}
	}
	return b.String()
}

// pythonStacks is the Python and the C stack of every thread of pid,
// read by gdb from the process's memory (the
// interpreter's gdb extension, installed beside every pyenv CPython), or
// "" without gdb.
func pythonStacks(pid int) string {
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gdb, "-q", "-batch", "-nx", "-iex", "set auto-load safe-path /",
		"-p", strconv.Itoa(pid), "-ex", "thread apply all py-bt", "-ex", "set print frame-arguments none", "-ex", "thread apply all bt 10").CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "Using host") && !strings.HasPrefix(l, "Couldn't write") {
			keep = append(keep, "    "+l)
		}
	}
	if err != nil {
		keep = append(keep, fmt.Sprintf("    (gdb: %v)", err))
	}
	return strings.Join(keep, "\n") + "\n"
}
