package e2e

// --every takes no signal or timer from the program (issue 11): its
// signal.alarm watchdog, its own ITIMER_REAL and handler, and fork() behave
// exactly as without pyreplay, and checkpoints keep coming meanwhile.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

func TestEveryLeavesTheProgramsTimers(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		t.Run("py"+minor, func(t *testing.T) {
			py := testutil.Python{Minor: minor, Path: testutil.PythonFor(t, minor)}
			dir := testutil.CopyFixture(t, "safety", t.TempDir())
			for _, mode := range []string{"watchdog", "timer", "fork"} {
				db := filepath.Join(t.TempDir(), "rec.db")
				want, wantWS := statusOf(t, dir, py.Path, "alarm.py", mode)
				got, gotWS := statusOf(t, dir, testutil.Binary(t), "record", "--db", db, "--python", py.Path, "--every", "20ms", "alarm.py", mode)
				gotErr, _ := splitSummary(t, got.Stderr)
				if got.Stdout != want.Stdout || gotErr != want.Stderr {
					t.Errorf("%s: output %q %q, want %q %q", mode, got.Stdout, gotErr, want.Stdout, want.Stderr)
				}
				if gotWS != wantWS {
					t.Errorf("%s: status %v, want %v as plain Python", mode, gotWS, wantWS)
				}
				phases := map[string]int{}
				for _, s := range only(lsJSON(t, dir, db), "periodic") {
					if f := topFrame(t, showJSON(t, dir, db, s.ID)); f.Function == "spin" {
						phases[f.Locals["phase"].Repr]++
					}
				}
				for _, phase := range map[string][]string{"watchdog": {"'watchdog'"}, "timer": {"'own-timer'"}, "fork": {"'before-fork'", "'after-fork'"}}[mode] {
					if phases[phase] < 3 {
						t.Errorf("%s: %d checkpoints in phase %s, want them to keep coming (%v)", mode, phases[phase], phase, phases)
					}
				}
			}
		})
	}
}

// statusOf runs a command and returns its output and wait status.
func statusOf(t *testing.T, dir, name string, args ...string) (testutil.Result, syscall.WaitStatus) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("%s %v did not run", name, args)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return testutil.Result{Stdout: out.String(), Stderr: errb.String(), Code: ws.ExitStatus()}, ws
}
