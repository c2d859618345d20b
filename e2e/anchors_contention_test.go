package e2e

// Time travel's anchors while another process is busy on the program's
// CPU: a live session (pyreplay dap, no breakpoint, and one with a stop
// along the run) and record --trace keep taking periodic anchors at about
// the policy's pace (launch.AnchorPolicy) to the run's end. On 3.8-3.11 a
// checkpoint is asked for with a pending call that sets a trace function
// on the main thread (pyshim periodic.py); when that call came during the
// snapshot at the program's first line, or during a stop, the live
// session's tracing turned off right after and took the checkpoint's trace
// function with it, and no anchor came again for the rest of the run (a
// recording with the first line's anchor only: under contention, ~1 live
// session in 6-10; after a stop, every time).

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// ~0.35 s of plain Python, about twice that sharing its CPU.
const contendedProg = `def work(k):
    n = 0
    for i in range(k):
        n += i % 7
    return n


def main():
    total = 0
    for step in range(10):
        total += work(300000)
    print(total)


main()
`

// contendedCPU keeps one CPU this test may use busy (a Python loop,
// pinned there, ending by itself after a minute should the test be killed)
// until the test ends; that CPU.
func contendedCPU(t *testing.T, python string) string {
	t.Helper()
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset is not installed")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("sched_getaffinity: %v", err)
	}
	cpu := -1
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		t.Skip("no CPU in this process's affinity mask")
	}
	c := strconv.Itoa(cpu)
	busy := exec.Command("taskset", "-c", c, python, "-c",
		"import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end:\n    pass\n")
	if err := busy.Start(); err != nil {
		t.Fatalf("busy loop: %v", err)
	}
	t.Cleanup(func() { _ = busy.Process.Kill(); _ = busy.Wait() })
	return c
}

// liveContended runs prog to its end in a live session (time travel on, as
// by default) whose adapter and program are pinned to cpu; with stopLine,
// it stops there once (a conditional breakpoint) and continues a moment
// later. The recording's snapshots.
func liveContended(t *testing.T, py, cpu, dir, prog, db string, stopLine int) []traceSnap {
	t.Helper()
	cmd := exec.Command("taskset", "-c", cpu, testutil.Binary(t), "dap")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	c := newDAPConn(t, stdout, stdin)
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"program": prog, "python": py, "db": db, "cwd": dir})
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("launch: %v", r["message"])
	}
	if stopLine > 0 {
		c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
			"breakpoints": []map[string]any{{"line": stopLine, "condition": "step == 1"}}})
		c.wait("setBreakpoints", isResponse("setBreakpoints"))
	}
	c.send("configurationDone", nil)
	if stopLine > 0 {
		c.wait("stopped", isEvent("stopped"))
		// a stop as long as a few of the anchors' periods: one is asked
		// for meanwhile
		time.Sleep(150 * time.Millisecond)
		c.send("continue", map[string]any{"threadId": 1})
	}
	c.wait("terminated", isEvent("terminated"))
	return traceLs(t, dir, db)
}

// periodicAfter counts the periodic anchors after the first snapshot of
// the reason given (all of them for "").
func periodicAfter(list []traceSnap, reason string) (n int, summary string) {
	from := -1.0
	var s []string
	for _, x := range list {
		if from < 0 && (reason == "" || x.Reason == reason) {
			from = x.Time
		}
		if x.Reason == "periodic" && from >= 0 && x.Time > from {
			n++
		}
		s = append(s, fmt.Sprintf("%s@%.3f", x.Reason, x.Time-list[0].Time))
	}
	return n, strings.Join(s, " ")
}

// Under contention, every session of each version holds several periodic
// anchors (3.8-3.11: one per 25 ms, 3.12+: per 50 ms, of a run of ~0.7 s;
// at least 3 asked), and a stop along the run does not end them.
func TestAnchorsUnderContention(t *testing.T) {
	const least = 3
	for _, py := range testutil.Pythons(t) {
		minor, _ := strconv.Atoi(strings.TrimPrefix(py.Minor, "3."))
		if !strings.HasPrefix(py.Minor, "3.") || minor < 8 || minor > 12 {
			continue // (the pending-call mechanism's versions, and the first of sys.monitoring's)
		}
		t.Run("py"+py.Minor, func(t *testing.T) {
			cpu := contendedCPU(t, py.Path)
			dir := t.TempDir()
			prog := writeProg(t, dir, "prog.py", contendedProg)
			for i := 0; i < 2; i++ {
				list := liveContended(t, py.Path, cpu, dir, prog, filepath.Join(dir, fmt.Sprintf("live%d.db", i)), 0)
				n, s := periodicAfter(list, "")
				t.Logf("live session %d: %d periodic anchors", i+1, n)
				if n < least || list[0].Reason != "entry" {
					t.Errorf("live session %d: %d periodic anchors, want the first line's and at least %d: %s", i+1, n, least, s)
				}
			}
			list := liveContended(t, py.Path, cpu, dir, prog, filepath.Join(dir, "stop.db"), 11)
			n, s := periodicAfter(list, "breakpoint")
			t.Logf("live session with a stop: %d periodic anchors after it", n)
			if n < least {
				t.Errorf("live session with a stop: %d periodic anchors after it, want at least %d: %s", n, least, s)
			}
			db := filepath.Join(dir, "trace.db")
			r := testutil.Cmd{Dir: dir, Env: buffered, Timeout: 60 * time.Second}.Run(t,
				"taskset", "-c", cpu, testutil.Binary(t), "record", "--db", db, "--python", py.Path, "--trace", "prog.py")
			if r.Code != 0 {
				t.Fatalf("record --trace: %+v", r)
			}
			n, s = periodicAfter(traceLs(t, dir, db), "")
			t.Logf("record --trace: %d periodic anchors", n)
			if n < least {
				t.Errorf("record --trace: %d periodic anchors, want at least %d: %s", n, least, s)
			}
		})
	}
}
