package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const metaName = "meta.json"

// meta.json: what Restore needs besides CRIU's own images.
type imageMeta struct {
	Version   int       `json:"version"`
	Pid       int       `json:"pid"`
	Criu      string    `json:"criu"`
	Files     []ExtFile `json:"files"`
	Threads   int       `json:"threads"`
	Processes int       `json:"processes"`
	Took      float64   `json:"dump_seconds"`
	Created   string    `json:"created"`
}

// Dump images the process pid and its descendants into dir (created 0700;
// it must not exist or be empty) with `criu dump --leave-running
// --shell-job`: the process carries on once the dump is written. The
// process should be paused at a known point by its own doing (the shim
// waits for Dump's answer), with no open file that changes afterwards (see
// README.md: the SQLite connection is closed first). The image is signed
// with opts.Key. On failure dir is removed and the error is one line with
// CRIU's reason.
func (c *CRIU) Dump(pid int, dir string, opts DumpOptions) (*Image, error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("no key to sign the CRIU image with")
	}
	files, err := externalFiles(pid, opts.Files)
	if err != nil {
		return nil, err
	}
	if err := makeImageDir(dir); err != nil {
		return nil, fmt.Errorf("cannot create the CRIU image directory: %v", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	threads, procs := countTasks(pid)

	args := append(c.baseArgs(), "dump", "-t", strconv.Itoa(pid), "-D", dir, "-W", dir,
		"-o", "dump.log", "--shell-job", "--leave-running")
	seenTTY := map[string]bool{}
	for _, f := range files {
		switch {
		case strings.HasPrefix(f.ID, "socket:["):
			// A Unix socket whose peer is outside the dumped tree: fine to
			// leave disconnected, Restore hands in a new one (--inherit-fd).
			args = append(args, "--external", "unix["+strings.TrimSuffix(strings.TrimPrefix(f.ID, "socket:["), "]")+"]")
		case strings.HasPrefix(f.ID, "tty["):
			if !seenTTY[f.ID] {
				args = append(args, "--external", f.ID)
			}
			seenTTY[f.ID] = true
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "dump.log"))
		if ctx.Err() != nil {
			return nil, fmt.Errorf("criu dump of process %d took longer than %v", pid, timeout)
		}
		return nil, fmt.Errorf("criu dump of process %d failed: %s", pid, dumpReason(append(log, out...), err))
	}
	if err := detachExternalTTYs(dir); err != nil {
		return nil, fmt.Errorf("cannot prepare the CRIU image's terminal for a restore: %v", err)
	}
	// The images hold the whole memory of the program: private to us,
	// not only through the directory's mode.
	if err := privateFiles(dir); err != nil {
		return nil, err
	}
	m := imageMeta{Version: 1, Pid: pid, Criu: c.Version, Files: files, Threads: threads, Processes: procs,
		Took: took.Seconds(), Created: time.Now().UTC().Format(time.RFC3339)}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, metaName), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := Sign(dir, opts.Key); err != nil {
		return nil, fmt.Errorf("cannot sign the CRIU image: %v", err)
	}
	ok = true
	return &Image{Dir: dir, Pid: pid, Took: took, Bytes: dirSize(dir), Files: files, Criu: c.Version,
		Threads: threads, Processes: procs}, nil
}

// dumpReason turns CRIU's log into one line a user can act on.
func dumpReason(log []byte, err error) string {
	s := string(log)
	switch {
	case strings.Contains(s, "file locks are hold"):
		return "the program holds file locks (an open SQLite connection, flock/fcntl locks)"
	case strings.Contains(s, "External socket is used") || strings.Contains(s, "Can't dump half of stream unix connection"):
		return "the program has a Unix socket connected to another process"
	case strings.Contains(s, "Connected TCP socket"):
		return "the program has an established TCP connection"
	case strings.Contains(s, "Can't dump ghost file") || strings.Contains(s, "ghost"):
		if strings.Contains(s, "Error") {
			return "the program has a deleted file open that is too big to keep (" + lastError(log, err) + ")"
		}
	}
	return lastError(log, err)
}

// externalFiles resolves the descriptors Restore must hand in anew: stdio
// that are pipes, sockets, terminals, character devices (/dev/null) or
// regular files, and the named ones.
func externalFiles(pid int, named map[string]int) ([]ExtFile, error) {
	var out []ExtFile
	for fd, name := range []string{"stdin", "stdout", "stderr"} {
		if _, dup := named[name]; dup {
			continue
		}
		p := fmt.Sprintf("/proc/%d/fd/%d", pid, fd)
		id, err := os.Readlink(p)
		if err != nil {
			continue // closed
		}
		var st syscall.Stat_t
		switch {
		case strings.HasPrefix(id, "pipe:[") || strings.HasPrefix(id, "socket:["):
			out = append(out, ExtFile{Name: name, Fd: fd, ID: id})
		case syscall.Stat(p, &st) != nil || !strings.HasPrefix(id, "/"):
		case st.Mode&syscall.S_IFMT == syscall.S_IFCHR && isTTY(p):
			// a terminal (recorded in one): CRIU would restore it only
			// from its own stdin, and as the recording's terminal. Dumped
			// as external (--external tty[rdev:dev]), the copy writes to
			// and reads from the restorer's stdio, whatever they are.
			out = append(out, ExtFile{Name: name, Fd: fd, ID: fmt.Sprintf("tty[%x:%x]", st.Rdev, st.Dev)})
		case st.Mode&syscall.S_IFMT == syscall.S_IFREG || st.Mode&syscall.S_IFMT == syscall.S_IFCHR:
			// stdio redirected to a file (> out.txt) or a device
			// (>/dev/null): the restored copy writes to the restorer's,
			// and CRIU's size check on the file (which keeps growing
			// after the dump) does not apply. CRIU names a file it
			// inherits by its path without the "/".
			out = append(out, ExtFile{Name: name, Fd: fd, ID: strings.TrimPrefix(id, "/")})
		}
	}
	for name, fd := range named {
		id, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			return nil, fmt.Errorf("process %d has no descriptor %d (%s): %v", pid, fd, name, err)
		}
		if !strings.HasPrefix(id, "pipe:[") && !strings.HasPrefix(id, "socket:[") {
			return nil, fmt.Errorf("descriptor %d (%s) of process %d is %s: only pipes and Unix sockets can be handed in anew", fd, name, pid, id)
		}
		out = append(out, ExtFile{Name: name, Fd: fd, ID: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fd < out[j].Fd })
	return out, nil
}

// countTasks counts the threads and processes of the tree rooted at pid.
func countTasks(pid int) (threads, procs int) {
	var walk func(p int)
	walk = func(p int) {
		procs++
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		threads += len(tasks)
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, t.Name()))
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					walk(n)
				}
			}
		}
	}
	walk(pid)
	return
}

func readMeta(dir string) (*imageMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return nil, fmt.Errorf("the CRIU image %s has no %s: %v", dir, metaName, err)
	}
	var m imageMeta
	if err := json.Unmarshal(b, &m); err != nil || m.Version != 1 || m.Pid <= 0 {
		return nil, fmt.Errorf("the CRIU image %s has a damaged %s", dir, metaName)
	}
	return &m, nil
}

// isTTY reports whether the file at path (a /proc/PID/fd link) is a
// terminal: TCGETS succeeds on it.
func isTTY(path string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	var t syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return e == 0
}

// privateFiles makes the files in dir (CRIU writes them 0644) 0600.
func privateFiles(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
