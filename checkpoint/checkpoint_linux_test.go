package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// usable returns the CRIU the tests use: Find's, with the repository's
// .cache/criu (made by `make criu`) as the last resort.
func usable(t *testing.T) *CRIU {
	t.Helper()
	probeOnce.Do(func() {
		probed, probeErr = FindDumping(filepath.Join(testutil.Root(), ".cache", "criu"))
	})
	if probeErr != nil {
		t.Skipf("no usable CRIU, the CRIU tests are skipped: %v", probeErr)
	}
	return probed
}

var (
	probeOnce sync.Once
	probed    *CRIU
	probeErr  error
)

func testKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// pythons are the installed CPythons (newest first) for the round trip;
// the other tests use the newest only.
func pythons(t *testing.T) []testutil.Python {
	all := testutil.Pythons(t)
	out := make([]testutil.Python, len(all))
	for i, p := range all {
		out[len(all)-1-i] = p
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// original is a run of testdata/worker.py started the way pyreplay starts
// a recorded program: stdio are pipes to us, a control socket to us.
type original struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuf
	stdinW         *os.File
	ctl            net.Listener
	done           chan struct{}
	err            error
	recording      string
}

func startOriginal(t *testing.T, py, dir string, items, dumpAt int, delay float64, heapMB int) *original {
	t.Helper()
	o := &original{done: make(chan struct{}), recording: filepath.Join(dir, "recording.db")}
	sock := filepath.Join(dir, "ctl")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	o.ctl = ln
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	o.stdinW = stdinW
	o.cmd = exec.Command(py, "testdata/worker.py", o.recording, sock, fmt.Sprint(items), fmt.Sprint(dumpAt), fmt.Sprint(delay), fmt.Sprint(heapMB))
	o.cmd.Stdin, o.cmd.Stdout, o.cmd.Stderr = stdinR, &o.stdout, &o.stderr
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	go func() { o.err = o.cmd.Wait(); close(o.done) }()
	t.Cleanup(func() {
		o.cmd.Process.Kill()
		<-o.done
		stdinW.Close()
		ln.Close()
	})
	return o
}

// serveDump answers the program's one dump request: it calls dump (which
// makes the image), then tells the program "dumped". It returns what dump
// returned.
func (o *original) serveDump(t *testing.T, dump func(pid, ctlFd int) (*Image, error)) (*Image, error) {
	t.Helper()
	conn, err := o.ctl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no dump request from the program: %v (stderr: %s)", err, o.stderr.String())
	}
	var req struct {
		Event string `json:"event"`
		Fd    int    `json:"fd"`
	}
	if err := json.Unmarshal(line, &req); err != nil || req.Event != "criu-dump" {
		t.Fatalf("unexpected request %q", line)
	}
	img, derr := dump(o.cmd.Process.Pid, req.Fd)
	if _, err := conn.Write([]byte(`{"dumped": true}` + "\n")); err != nil {
		t.Fatal(err)
	}
	return img, derr
}

func (o *original) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-o.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the original did not finish")
	}
	if ee, ok := o.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	return 0
}

// restoredRun is one restore of an image, with its own stdio pipes and
// control socket.
type restoredRun struct {
	r              *Restored
	stdout, stderr syncBuf
	copies         sync.WaitGroup
}

func restore(t *testing.T, c *CRIU, dir string, key []byte) (*restoredRun, error) {
	t.Helper()
	run := &restoredRun{}
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ctl"), os.NewFile(uintptr(fds[1]), "ctl-restored")
	t.Cleanup(func() { ours.Close(); inW.Close() })
	r, err := c.Restore(dir, RestoreOptions{Key: key, Stdin: inR, Stdout: outW, Stderr: errW, Files: map[string]*os.File{"control": theirs}})
	inR.Close()
	outW.Close()
	errW.Close()
	theirs.Close()
	run.copies.Add(2)
	go func() { io.Copy(&run.stdout, outR); outR.Close(); run.copies.Done() }()
	go func() { io.Copy(&run.stderr, errR); errR.Close(); run.copies.Done() }()
	if err != nil {
		run.copies.Wait()
		return nil, err
	}
	run.r = r
	t.Cleanup(r.Kill)
	// The program waits for the answer to its dump request: it is a copy.
	if _, err := ours.Write([]byte(`{"restored": true}` + "\n")); err != nil {
		t.Fatal(err)
	}
	return run, nil
}

func (run *restoredRun) wait(t *testing.T) Status {
	t.Helper()
	done := make(chan struct{})
	var st Status
	var err error
	go func() { st, err = run.r.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		run.r.Kill()
		t.Fatal("the restored program did not finish")
	}
	if err != nil {
		t.Fatal(err)
	}
	run.copies.Wait()
	return st
}

func countRows(t *testing.T, py, db string) string {
	out, err := exec.Command(py, "-c", `import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select count(*), group_concat(distinct who) from rows").fetchone())`, db).CombinedOutput()
	if err != nil {
		t.Fatalf("reading the recording: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// A program with three threads and a queue, dumped from its worker thread
// mid-run (leave-running), restored twice from the same image - once while
// the original still runs, once after - gives each time exactly the
// original's output after the snapshot and its exit status. The recording
// the original keeps writing (SQLite, WAL) is closed across the dump and
// untouched by the copies. A changed image is refused.
func TestDumpRestore(t *testing.T) {
	c := usable(t)
	for _, py := range pythons(t) {
		py := py
		t.Run(py.Minor, func(t *testing.T) {
			t.Parallel()
			key := testKey(t)
			dir := t.TempDir()
			const items, dumpAt = 24, 8
			o := startOriginal(t, py.Path, dir, items, dumpAt, 0.06, 0)
			imgDir := ImageDir(o.recording, 1)
			img, err := o.serveDump(t, func(pid, ctlFd int) (*Image, error) {
				return c.Dump(pid, imgDir, DumpOptions{Key: key, Files: map[string]int{"control": ctlFd}})
			})
			if err != nil {
				t.Fatalf("dump: %v", err)
			}
			t.Logf("dump: %v, %.1f MB, %d threads, files %v", img.Took, float64(img.Bytes)/1e6, img.Threads, img.Files)
			if img.Threads < 3 {
				t.Errorf("the dumped process had %d threads, want >= 3", img.Threads)
			}
			if st, _ := os.Stat(imgDir); st == nil || st.Mode().Perm() != 0o700 {
				t.Errorf("image directory mode: %v", st)
			}

			// First restore while the original still runs (PID namespaces).
			r1, err := restore(t, c, imgDir, key)
			if err != nil {
				t.Fatalf("restore while the original runs: %v", err)
			}
			select {
			case <-o.done:
				t.Errorf("the original ended before the first restore ran: the test does not show a restore beside it")
			default:
			}
			t.Logf("restore (original running): %v", r1.r.Took)
			st1 := r1.wait(t)
			code := o.wait(t)

			r2, err := restore(t, c, imgDir, key)
			if err != nil {
				t.Fatalf("second restore: %v", err)
			}
			t.Logf("restore (original ended): %v", r2.r.Took)
			st2 := r2.wait(t)

			out := o.stdout.String()
			marker := fmt.Sprintf("about to snapshot at item %d\n", dumpAt)
			i := strings.Index(out, marker)
			if i < 0 || code != 3 || !strings.Contains(out, "done: ") {
				t.Fatalf("the original: exit %d, stdout:\n%s\nstderr:\n%s", code, out, o.stderr.String())
			}
			rest := out[i+len(marker):]
			if !strings.HasPrefix(rest, fmt.Sprintf("item %d:", dumpAt)) {
				t.Fatalf("the original's output after the snapshot starts %q", rest[:min(40, len(rest))])
			}
			for n, r := range []*restoredRun{r1, r2} {
				if got := r.stdout.String(); got != rest {
					t.Errorf("restore %d: stdout\n%s\nwant the original's remainder\n%s", n+1, got, rest)
				}
				if got, want := r.stderr.String(), o.stderr.String(); got != want {
					t.Errorf("restore %d: stderr %q, want %q", n+1, got, want)
				}
				if st := []Status{st1, st2}[n]; st != (Status{Code: code}) {
					t.Errorf("restore %d: %v, want exit status %d", n+1, st, code)
				}
			}
			if got, want := countRows(t, py.Path, o.recording), fmt.Sprintf("(%d, 'original')", items); got != want {
				t.Errorf("recording rows %s, want %s (the copies must not record)", got, want)
			}

			// The images hold the program's memory: private files, not
			// only a private directory.
			ents, err := os.ReadDir(imgDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if st, err := os.Stat(filepath.Join(imgDir, e.Name())); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("image file %s: mode %v (%v), want 0600", e.Name(), st.Mode().Perm(), err)
				}
			}

			t.Run("tampered", func(t *testing.T) {
				cases := map[string]func(d string) error{
					"changed pages": func(d string) error {
						f, err := os.OpenFile(filepath.Join(d, "pages-1.img"), os.O_RDWR, 0)
						if err != nil {
							return err
						}
						defer f.Close()
						b := make([]byte, 1)
						if _, err := f.ReadAt(b, 4096); err != nil {
							return err
						}
						b[0] ^= 0xff
						_, err = f.WriteAt(b, 4096)
						return err
					},
					"added file":     func(d string) error { return os.WriteFile(filepath.Join(d, "extra.img"), []byte("x"), 0o600) },
					"removed file":   func(d string) error { return os.Remove(filepath.Join(d, "meta.json")) },
					"no manifest":    func(d string) error { return os.Remove(filepath.Join(d, ManifestName)) },
					"open to others": func(d string) error { return os.Chmod(d, 0o777) },
					"pages readable by others": func(d string) error {
						return os.Chmod(filepath.Join(d, "pages-1.img"), 0o644)
					},
					"core writable by the group": func(d string) error {
						return os.Chmod(filepath.Join(d, "meta.json"), 0o620)
					},
				}
				for name, tamper := range cases {
					d := filepath.Join(t.TempDir(), "snap-1")
					copyDir(t, imgDir, d)
					if err := Verify(d, key); err != nil {
						t.Fatalf("the copy does not verify: %v", err)
					}
					if err := tamper(d); err != nil {
						t.Fatal(err)
					}
					if _, err := c.Restore(d, RestoreOptions{Key: key}); err == nil {
						t.Errorf("%s: a tampered image was restored", name)
					} else {
						t.Logf("%s: %v", name, err)
					}
				}
				if _, err := c.Restore(imgDir, RestoreOptions{Key: testKey(t)}); err == nil || !strings.Contains(err.Error(), "another key") {
					t.Errorf("an image signed with another key: %v", err)
				}
			})

			if err := Remove(imgDir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(o.recording + ".criu"); !os.IsNotExist(err) {
				t.Errorf("the .criu directory stays after its last image is removed: %v", err)
			}
		})
	}
}

// Why the protocol closes the SQLite connection: CRIU refuses to dump a
// process holding SQLite's WAL locks, and says so in one line.
func TestDumpRefusesOpenSQLite(t *testing.T) {
	c := usable(t)
	py := pythons(t)[0].Path
	dir := t.TempDir()
	cmd := exec.Command(py, "-c", `import sqlite3,sys,time
db=sqlite3.connect(sys.argv[1]); db.execute("pragma journal_mode=wal"); db.execute("create table t(x)"); db.execute("insert into t values(1)"); db.commit()
print("ready", flush=True); time.sleep(30)`, filepath.Join(dir, "recording.db"))
	out, _ := cmd.StdoutPipe()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "ready\n" {
		t.Fatalf("program said %q", l)
	}
	img := filepath.Join(dir, "recording.db.criu", "snap-1")
	_, err := c.Dump(cmd.Process.Pid, img, DumpOptions{Key: testKey(t)})
	if err == nil || !strings.Contains(err.Error(), "file locks") {
		t.Fatalf("dump of a process with an open SQLite WAL connection: %v", err)
	}
	t.Log(err)
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Errorf("a failed dump leaves its directory: %v", err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// firstByte records when the first byte arrived.
type firstByte struct {
	syncBuf
	once sync.Once
	at   time.Time
}

func (f *firstByte) Write(p []byte) (int, error) {
	f.once.Do(func() { f.at = time.Now() })
	return f.syncBuf.Write(p)
}

// TestMeasure reports what an image costs (PYREPLAY_CRIU_MEASURE=1; the
// numbers in README.md): dump time and image size for a small program and
// one with ~100 MB of heap, verification time, restore latency (to the
// process running again, and to its first line of output).
func TestMeasure(t *testing.T) {
	if os.Getenv("PYREPLAY_CRIU_MEASURE") == "" {
		t.Skip("set PYREPLAY_CRIU_MEASURE=1 to measure")
	}
	c := usable(t)
	py := pythons(t)[0]
	for _, heap := range []int{0, 100} {
		for rep := 0; rep < 3; rep++ {
			key := testKey(t)
			dir := t.TempDir()
			o := startOriginal(t, py.Path, dir, 6, 2, 0.01, heap)
			imgDir := ImageDir(o.recording, 1)
			var rss string
			img, err := o.serveDump(t, func(pid, ctlFd int) (*Image, error) {
				b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "VmRSS:") {
						rss = strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
					}
				}
				return c.Dump(pid, imgDir, DumpOptions{Key: key, Files: map[string]int{"control": ctlFd}})
			})
			if err != nil {
				t.Fatal(err)
			}
			o.wait(t)
			t0 := time.Now()
			if err := Verify(imgDir, key); err != nil {
				t.Fatal(err)
			}
			verify := time.Since(t0)

			out := &firstByte{}
			outR, outW, _ := os.Pipe()
			fds, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			ours, theirs := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
			t1 := time.Now()
			r, err := c.Restore(imgDir, RestoreOptions{Key: key, Stdout: outW, Files: map[string]*os.File{"control": theirs}})
			if err != nil {
				t.Fatal(err)
			}
			restored := time.Since(t1)
			outW.Close()
			theirs.Close()
			ours.Write([]byte(`{"restored": true}` + "\n"))
			copied := make(chan struct{})
			go func() { io.Copy(out, outR); close(copied) }()
			st, err := r.Wait()
			<-copied
			ours.Close()
			if err != nil || st.Code != 3 {
				t.Fatalf("restored run: %v %v", st, err)
			}
			t.Logf("heap %3d MB (RSS %s, %d threads): dump %v, image %.1f MB; verify %v; restore %v (criu part %v); first line %v after Restore was called",
				heap, rss, img.Threads, img.Took.Round(time.Millisecond), float64(img.Bytes)/1e6, verify.Round(time.Millisecond),
				restored.Round(time.Millisecond), r.Took.Round(time.Millisecond), out.at.Sub(t1).Round(time.Millisecond))
		}
	}
}

// longImage dumps a worker that runs ~10 s after its snapshot.
func longImage(t *testing.T, c *CRIU, key []byte) (string, *original) {
	t.Helper()
	py := pythons(t)[0].Path
	dir := t.TempDir()
	o := startOriginal(t, py, dir, 200, 1, 0.05, 0)
	imgDir := ImageDir(o.recording, 1)
	if _, err := o.serveDump(t, func(pid, ctlFd int) (*Image, error) {
		return c.Dump(pid, imgDir, DumpOptions{Key: key, Files: map[string]int{"control": ctlFd}})
	}); err != nil {
		t.Fatal(err)
	}
	o.cmd.Process.Kill() // the image is all we need
	return imgDir, o
}

// Signals reach the restored program through its namespace's init, and a
// death by signal is reported as such; Kill ends it.
func TestRestoredSignalAndKill(t *testing.T) {
	c := usable(t)
	key := testKey(t)
	img, _ := longImage(t, c, key)
	run, err := restore(t, c, img, key)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	// The recorded program led its own process group (Setpgid); so does the copy.
	if pg, err := syscall.Getpgid(run.r.HostPid); err != nil || pg != run.r.HostPid {
		t.Errorf("the restored program %d is in process group %d (%v), want its own", run.r.HostPid, pg, err)
	}
	if err := run.r.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := run.wait(t); st != (Status{Signal: syscall.SIGTERM}) || st.ExitCode() != 143 {
		t.Errorf("SIGTERM: %v (exit code %d)", st, st.ExitCode())
	}
	if !strings.HasPrefix(run.stdout.String(), "item 1:") {
		t.Errorf("the restored program printed %q", run.stdout.String())
	}

	run, err = restore(t, c, img, key)
	if err != nil {
		t.Fatal(err)
	}
	run.r.Kill()
	if st := run.wait(t); st.Signal != syscall.SIGKILL {
		t.Errorf("Kill: %v", st)
	}
}

// The restored program never outlives the process that restored it: a
// caller killed with SIGKILL takes the restored program with it.
func TestRestoredDiesWithCaller(t *testing.T) {
	if img := os.Getenv("PYREPLAY_TEST_CALLER_IMAGE"); img != "" {
		// The caller, run as a child of the test below.
		c := usable(t)
		key := []byte(os.Getenv("PYREPLAY_TEST_CALLER_KEY"))
		run, err := restore(t, c, img, key)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("helper %d %d\n", run.r.cmd.Process.Pid, run.r.HostPid)
		time.Sleep(60 * time.Second)
		return
	}
	c := usable(t)
	key := []byte("a key for the caller test, 32 by")
	img, _ := longImage(t, c, key)
	caller := exec.Command(os.Args[0], "-test.run=^TestRestoredDiesWithCaller$", "-test.count=1")
	caller.Env = append(os.Environ(), "PYREPLAY_TEST_CALLER_IMAGE="+img, "PYREPLAY_TEST_CALLER_KEY="+string(key))
	out, _ := caller.StdoutPipe()
	caller.Stderr = os.Stderr
	if err := caller.Start(); err != nil {
		t.Fatal(err)
	}
	defer caller.Wait()
	defer caller.Process.Kill()
	var helper, hostPid int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "helper %d %d", &helper, &hostPid); err == nil {
			break
		}
	}
	if helper == 0 {
		t.Fatal("the caller did not restore")
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", helper, helper))
	kids := strings.Fields(string(b))
	if len(kids) != 1 {
		t.Fatalf("the namespace's init has children %q, want the restored program", kids)
	}
	prog := kids[0]
	if got := fmt.Sprint(hostPid); got != prog {
		t.Errorf("Restored.HostPid %s, the init's child %s", got, prog)
	}
	if st := procState(prog); st == "" || st == "Z" {
		t.Fatalf("the restored program %s is not running (%q)", prog, st)
	}
	caller.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := procState(prog)
		if st == "" || st == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored program %s outlived its caller (state %s)", prog, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func procState(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndex(s, ") "); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

func TestFindRefuses(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	os.WriteFile(old, []byte("#!/bin/sh\necho 'Version: 3.17.1'\n"), 0o755)
	t.Setenv("PYREPLAY_CRIU", old)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "too old") || !strings.Contains(err.Error(), ">= 4.1") {
		t.Errorf("criu 3.17.1: %v", err)
	}
	t.Setenv("PYREPLAY_CRIU", filepath.Join(dir, "missing"))
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "PYREPLAY_CRIU") {
		t.Errorf("missing criu: %v", err)
	}
	failing := filepath.Join(dir, "nocheck")
	os.WriteFile(failing, []byte("#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Version: 4.2'; exit 0; }\necho 'Error (criu/kerndat.c:1): no vvar_vclock' >&2; exit 1\n"), 0o755)
	t.Setenv("PYREPLAY_CRIU", failing)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "criu check") || !strings.Contains(err.Error(), "vvar_vclock") {
		t.Errorf("failing criu check: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Setenv("PYREPLAY_CRIU", "")
		if c, err := Find(filepath.Join(testutil.Root(), ".cache", "criu")); err == nil && c.Unprivileged {
			t.Errorf("root runs criu --unprivileged")
		}
	}
}

func TestSignVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snap-3")
	if err := makeImageDir(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.img"), []byte("hello"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.img"), bytes.Repeat([]byte("x"), 1<<20), 0o600)
	key := testKey(t)
	if err := Sign(dir, key); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, key); err != nil {
		t.Fatal(err)
	}
	// Renaming a file changes what is authenticated.
	os.Rename(filepath.Join(dir, "a.img"), filepath.Join(dir, "c.img"))
	if err := Verify(dir, key); err == nil {
		t.Error("a renamed file verifies")
	}
	os.Rename(filepath.Join(dir, "c.img"), filepath.Join(dir, "a.img"))
	// Editing the manifest (say, another hash) breaks its MAC.
	m, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	os.WriteFile(filepath.Join(dir, ManifestName), bytes.Replace(m, []byte(" 5 a.img"), []byte(" 6 a.img"), 1), 0o600)
	if err := Verify(dir, key); err == nil || !strings.Contains(err.Error(), "MANIFEST was changed") {
		t.Errorf("an edited manifest: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestName), m, 0o600)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "d.img")); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, key); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a symbolic link: %v", err)
	}
	os.Remove(filepath.Join(dir, "d.img"))
	if err := Verify(dir, key); err != nil {
		t.Fatal(err)
	}
	if err := Remove(filepath.Dir(dir)); err == nil {
		t.Error("Remove deletes a directory that is not an image")
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if got := ImageDir("/x/.pyreplay/rec-1/recording.db", 4); got != "/x/.pyreplay/rec-1/recording.db.criu/snap-4" {
		t.Errorf("ImageDir: %s", got)
	}
}
