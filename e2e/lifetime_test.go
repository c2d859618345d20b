package e2e

// The program lives and dies with pyreplay (issue 11): killed with it,
// signals to pyreplay relayed once, pyreplay's status mirrors the
// program's, the run records how it ended, nothing left in the temporary
// directory.

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/recording"
)

type waiting struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *strings.Builder
	pid    int // the program's
	tmp    string
	db     string
}

// startWaiter records fixtures/lifetime/waiter.py with args, in a session
// of its own (no controlling terminal) and a private $TMPDIR, and waits
// for the program to print its pid.
func startWaiter(t *testing.T, args ...string) *waiting {
	t.Helper()
	dir := testutil.CopyFixture(t, "lifetime", t.TempDir())
	w := &waiting{tmp: t.TempDir(), db: filepath.Join(dir, "rec.db"), stderr: &strings.Builder{}}
	py := testutil.PythonFor(t, "3.12")
	w.cmd = exec.Command(testutil.Binary(t), append([]string{"record", "--db", w.db, "--python", py, "waiter.py"}, args...)...)
	w.cmd.Dir = dir
	w.cmd.Env = append(os.Environ(), "TMPDIR="+w.tmp)
	w.cmd.Stderr = w.stderr
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
	w.out = bufio.NewReader(stdout)
	w.pid = readPid(t, w.out, w.stderr)
	t.Cleanup(func() { _ = syscall.Kill(w.pid, syscall.SIGKILL) })
	return w
}

func readPid(t *testing.T, r *bufio.Reader, stderr *strings.Builder) int {
	t.Helper()
	line, _ := r.ReadString('\n')
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "pid" {
		t.Fatalf("the program did not start: %q\n%s", line, stderr)
	}
	pid, _ := strconv.Atoi(f[1])
	return pid
}

func (w *waiting) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("pyreplay did not end\n%s", w.stderr)
	}
	return w.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// runEnd is how the recording says the run ended (nil: it never ended).
func runEnd(t *testing.T, db string) *int {
	t.Helper()
	store, err := recording.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run, err := store.GetRun(1)
	if err != nil {
		t.Fatal(err)
	}
	return run.ExitCode
}

// leftovers lists what pyreplay left in the private directory under $TMPDIR
// besides the installed shim and the scratch directories' parent. A
// SIGKILL'd pyreplay's scratch directory (internal/scratch) stays until
// another pyreplay sweeps it: with killed, one holding only its lock is
// not listed.
func leftovers(t *testing.T, tmp string, killed bool) []string {
	t.Helper()
	var out []string
	base := filepath.Join(tmp, "pyreplay-"+strconv.Itoa(os.Getuid()))
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "shim-") && e.Name() != "scratch" {
			out = append(out, e.Name())
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(base, "scratch"))
	for _, d := range dirs {
		files, _ := os.ReadDir(filepath.Join(base, "scratch", d.Name()))
		if killed && len(files) == 1 && files[0].Name() == "lock" {
			continue
		}
		out = append(out, filepath.Join("scratch", d.Name()))
	}
	return out
}

// Killing pyreplay (SIGTERM: relayed; SIGKILL: the parent-death signal)
// ends the program within a second; pyreplay dies by the same signal; a
// SIGTERM'd run records -15, a SIGKILL'd one never ends; no configuration
// file is left behind either way.
func TestLifetimeKilled(t *testing.T) {
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL} {
		t.Run(name, func(t *testing.T) {
			w := startWaiter(t)
			if err := syscall.Kill(w.cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			ws := w.wait(t)
			programGone(t, w.pid, time.Second)
			if !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("pyreplay ended with %v, want death by %v\n%s", ws, sig, w.stderr)
			}
			end := runEnd(t, w.db)
			switch {
			case sig == syscall.SIGTERM && (end == nil || *end != -int(syscall.SIGTERM)):
				t.Errorf("the run's exit_code is %v, want -15", end)
			case sig == syscall.SIGKILL && end != nil:
				t.Errorf("the run's exit_code is %d, want none (pyreplay was killed)", *end)
			}
			if l := leftovers(t, w.tmp, sig == syscall.SIGKILL); len(l) > 0 {
				t.Errorf("left in the temporary directory: %v", l)
			}
		})
	}
}

// SIGTERM, SIGHUP and SIGINT reach a program that handles them exactly
// once, whether sent to pyreplay's pid or to its whole process group, and
// pyreplay exits with the program's code.
func TestLifetimeRelayedOnce(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		for _, group := range []bool{false, true} {
			name := sig.String()
			if group {
				name += "_to_group"
			}
			t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
				w := startWaiter(t, "count")
				target := w.cmd.Process.Pid
				if group {
					target = -target
				}
				if err := syscall.Kill(target, sig); err != nil {
					t.Fatal(err)
				}
				line, _ := w.out.ReadString('\n')
				ws := w.wait(t)
				if line != "count 1\n" {
					t.Errorf("the program printed %q, want count 1\n%s", line, w.stderr)
				}
				if ws.ExitStatus() != 3 {
					t.Errorf("pyreplay ended with %v, want exit 3", ws)
				}
				if end := runEnd(t, w.db); end == nil || *end != 3 {
					t.Errorf("the run's exit_code is %v, want 3", end)
				}
			})
		}
	}
}

// A program that dies by a signal makes pyreplay die by the same one
// (not 128+N), as plain Python's status shows; the run records -N.
func TestLifetimeExitBySignal(t *testing.T) {
	py := testutil.PythonFor(t, "3.12")
	for _, name := range []string{"SIGUSR1", "SIGALRM", "SIGTERM"} {
		t.Run(name, func(t *testing.T) {
			dir := testutil.CopyFixture(t, "lifetime", t.TempDir())
			db := filepath.Join(dir, "rec.db")
			status := func(args ...string) syscall.WaitStatus {
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Dir = dir
				_ = cmd.Run()
				return cmd.ProcessState.Sys().(syscall.WaitStatus)
			}
			want := status(py, "waiter.py", "die", name)
			got := status(testutil.Binary(t), "record", "--db", db, "--python", py, "waiter.py", "die", name)
			if !want.Signaled() || !got.Signaled() || got.Signal() != want.Signal() {
				t.Errorf("status %v, want %v as plain Python", got, want)
			}
			if end := runEnd(t, db); end == nil || *end != -int(want.Signal()) {
				t.Errorf("the run's exit_code is %v, want %d", end, -int(want.Signal()))
			}
		})
	}
}

// With a controlling terminal the program shares pyreplay's process group:
// Ctrl-C reaches it once, from the terminal, and pyreplay does not send it
// again.
func TestLifetimeTerminalCtrlC(t *testing.T) {
	master, slave := openPty(t)
	dir := testutil.CopyFixture(t, "lifetime", t.TempDir())
	py := testutil.PythonFor(t, "3.12")
	cmd := exec.Command(testutil.Binary(t), "record", "--db", filepath.Join(dir, "rec.db"), "--python", py, "waiter.py", "count")
	cmd.Dir = dir
	// TERM=dumb: bubbletea's init asks the terminal for its background
	// colour, and this pseudo-terminal never answers (a 5 s wait)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	defer func() { _ = cmd.Process.Kill() }()
	out := bufio.NewReader(master)
	var all strings.Builder
	readUntil := func(prefix string) string {
		for {
			line, err := out.ReadString('\n')
			all.WriteString(line)
			if i := strings.Index(line, prefix); i >= 0 {
				return strings.TrimSpace(line[i:])
			}
			if err != nil {
				t.Fatalf("no %q from the program:\n%s", prefix, all.String())
			}
		}
	}
	pid, _ := strconv.Atoi(strings.Fields(readUntil("pid "))[1])
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if got := readUntil("count "); got != "count 1" {
		t.Errorf("the program counted %q, want count 1", got)
	}
	_ = cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.ExitStatus() != 3 {
		t.Errorf("pyreplay ended with %v, want exit 3\n%s", ws, all.String())
	}
}

// programGone waits for pid to have ended: no longer there, or a zombie
// (an orphan whose new parent, here the container's init, may never reap it).
func programGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the program (pid %d) outlived pyreplay by more than %v", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openPty opens a pseudo-terminal pair (without dependencies: /dev/ptmx,
// unlock, then its number).
func openPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock, n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}
