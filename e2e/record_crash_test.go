package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// kill -9 of a program that snapshots in a loop, at a random moment (most
// likely in the middle of writing one): the recording opens, lists every
// snapshot completed before the kill, and each of them reads back whole.
func TestRecordCrashSafety(t *testing.T) {
	py := testutil.Python{Minor: "3.11", Path: testutil.PythonFor(t, "3.11")}
	dir := fixtureDir(t)
	db := filepath.Join(t.TempDir(), "rec.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.Binary(t), "record", "--db", db, "--python", py.Path, "crashloop.py")
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	pid, done := 0, 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "pid" {
			pid, _ = strconv.Atoi(f[1])
		}
		if len(f) == 2 && f[0] == "done" {
			done, _ = strconv.Atoi(f[1])
			if done == 25 {
				break
			}
		}
	}
	if pid == 0 || done < 25 {
		t.Fatalf("the program did not get going (pid %d, %d snapshots)\n%s", pid, done, stderr.String())
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "done" {
			done, _ = strconv.Atoi(f[1])
		}
	}
	err = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("pyreplay should end as its program did, killed by SIGKILL: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "Traceback") {
		t.Errorf("stderr: %s", stderr.String())
	}

	list := lsJSON(t, dir, db)
	if len(list) < done {
		t.Fatalf("%d snapshots were reported done, the recording lists %d", done, len(list))
	}
	if len(list) > done+1 {
		t.Errorf("the recording lists %d snapshots, %d were done (one more may have committed before the kill)", len(list), done)
	}
	for i, s := range list {
		if s.Label != "n"+itoa(i+1) {
			t.Errorf("snapshot %d is labelled %q, want n%d", i, s.Label, i+1)
		}
		snap := showJSON(t, dir, db, s.ID)
		if tf := topFrame(t, snap); tf.Function != "<module>" || snap.Globals["__main__"]["i"].Repr != itoa(i+1) {
			t.Errorf("%s does not read back whole: i=%s", s.ID, snap.Globals["__main__"]["i"].Repr)
		}
	}
	res := recRun(t, dir, "", py.Path, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", db)
	if strings.TrimSpace(res.Stdout) != "ok" {
		t.Errorf("integrity_check after kill -9: %q %s", res.Stdout, res.Stderr)
	}
	// the recording takes further runs
	res = runRecord(t, py, dir, db, "", "triggers.py")
	if res.Code != 0 {
		t.Errorf("recording after the crash: exit %d\n%s", res.Code, res.Stderr)
	}
	if n := len(lsJSON(t, dir, db)); n != len(list)+2 {
		t.Errorf("after one more run: %d snapshots, want %d", n, len(list)+2)
	}
	_ = os.Remove(db)
}

// Snapshots taken in a thread and in forked worker processes land in the
// recording (a child never reuses its parent's SQLite connection) and read
// back; the program's output is the same as without pyreplay.
func TestRecordThreadsAndForks(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.13"} {
		minor := minor
		t.Run("py"+minor, func(t *testing.T) {
			t.Parallel()
			py := testutil.Python{Minor: minor, Path: testutil.PythonFor(t, minor)}
			dir := fixtureDir(t)
			db := filepath.Join(t.TempDir(), "rec.db")
			want := runPlain(t, py, dir, "", "forks.py", "fork")
			got := runRecord(t, py, dir, db, "", "-b", markerSpec(t, dir, "forks.py", "work", ""), "forks.py", "fork")
			if got.Stdout != want.Stdout || got.Code != want.Code {
				t.Fatalf("output: %q (exit %d), want %q (exit %d)\n%s", got.Stdout, got.Code, want.Stdout, want.Code, got.Stderr)
			}
			list := lsJSON(t, dir, db)
			if len(list) != 4 {
				t.Fatalf("want 4 snapshots (a thread, 3 pool workers), got %d", len(list))
			}
			xs := map[string]bool{}
			for _, s := range list {
				snap := showJSON(t, dir, db, s.ID)
				xs[topFrame(t, snap).Locals["x"].Repr] = true
			}
			if !xs["7"] || !xs["1"] || !xs["2"] || !xs["3"] {
				t.Errorf("the snapshots' x: %v", xs)
			}
			res := recRun(t, dir, "", py.Path, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", db)
			if strings.TrimSpace(res.Stdout) != "ok" {
				t.Errorf("integrity_check: %q %s", res.Stdout, res.Stderr)
			}
		})
	}
}

// Ctrl-C (SIGINT to the terminal's process group) ends a recorded program as
// it ends a plain one: a KeyboardInterrupt traceback and death by SIGINT.
func TestRecordCtrlC(t *testing.T) {
	py := testutil.Python{Minor: "3.11", Path: testutil.PythonFor(t, "3.11")}
	dir := fixtureDir(t)
	db := filepath.Join(t.TempDir(), "rec.db")
	interrupt := func(name string, args ...string) (string, syscall.WaitStatus) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line != "ready\n" {
			t.Fatalf("%s: %q", name, line)
		}
		time.Sleep(300 * time.Millisecond) // into time.sleep
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("%s did not end on SIGINT", name)
		}
		return stderr.String(), cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	wantErr, wantWS := interrupt(py.Path, "sleeper.py")
	gotErr, gotWS := interrupt(testutil.Binary(t), "record", "--db", db, "--python", py.Path, "sleeper.py")
	gotErr, _ = splitSummary(t, gotErr)
	if !strings.HasSuffix(wantErr, "KeyboardInterrupt\n") || gotErr != wantErr {
		t.Errorf("stderr:\n%s\nwant\n%s", gotErr, wantErr)
	}
	if !wantWS.Signaled() || !gotWS.Signaled() || gotWS.Signal() != wantWS.Signal() {
		t.Errorf("status: %v, want %v", gotWS, wantWS)
	}
}
