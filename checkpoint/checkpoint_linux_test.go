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
	c, err := Find(filepath.Join(testutil.Root(), ".cache", "criu"))
	if err != nil {
		t.Skipf("no usable CRIU, the CRIU tests are skipped: %v", err)
	}
	return c
}

func testKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// newestPython is the newest installed CPython (the CRIU tests are about
// the process, not the interpreter version; PYREPLAY_CRIU_ALL_PYTHONS=1
// runs them on every one).
func pythons(t *testing.T) []testutil.Python {
	all := testutil.Pythons(t)
	if os.Getenv("PYREPLAY_CRIU_ALL_PYTHONS") != "" {
		return all
	}
	return all[len(all)-1:]
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
		t.Run(py.Minor, func(t *testing.T) {
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
