// Package checkpoint takes and restores CRIU images of a whole recorded
// program process: the fallback for snapshots that exact resume refuses
// (issue 13). It runs the criu binary (>= 4.1, root or
// CAP_CHECKPOINT_RESTORE, Linux only) and depends on nothing else of
// pyreplay but internal/trust's key conventions: callers pass the key.
//
// An image is a directory (ImageDir: <recording>.criu/snap-N/, mode 0700)
// holding CRIU's image files, a description of the process (meta.json: its
// PID, the descriptors that Restore must be handed anew) and a manifest
// (MANIFEST) that authenticates every file with the user's key. Restore
// verifies the manifest before CRIU reads anything: an image is code.
//
// What a dump needs from the dumped process (see README.md): no open file
// that keeps changing after the dump (the shim closes its SQLite connection
// first and reopens it after), its output flushed, and any descriptor whose
// other end is outside the process (stdio pipes, the control socket) named
// in DumpOptions so that Restore can hand in new ones.
package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MinVersion is the oldest CRIU that works: 4.1 learned the split vDSO
// ([vvar] + [vvar_vclock]) of Linux 6.x; Debian bookworm's 3.17 fails
// `criu check` there.
const MinVersion = "4.1"

// ErrUnsupported is returned on systems other than Linux.
var ErrUnsupported = errors.New("CRIU checkpoints need Linux")

// CRIU is a usable criu binary, as found by Find.
type CRIU struct {
	Path    string // absolute path of the binary
	Version string // as `criu --version` says, e.g. "4.2"
	// Unprivileged is set when pyreplay is not root: criu then runs with
	// --unprivileged and needs CAP_CHECKPOINT_RESTORE (file capabilities).
	Unprivileged bool
}

// DumpOptions says how to dump one process.
type DumpOptions struct {
	// Key signs the image (required; internal/trust.UserKey()).
	Key []byte
	// Files names descriptors of the process whose other end is outside it
	// and that Restore must be handed anew, e.g. {"control": 5} for the
	// shim's control socket. Descriptors 0, 1 and 2 are added as "stdin",
	// "stdout" and "stderr" when they are pipes, sockets or regular files
	// (a redirection: the restorer's own are handed in instead, and CRIU's
	// size check on a file that kept growing does not apply). Each named
	// one must be a pipe or a Unix socket.
	Files map[string]int
	// Timeout bounds criu dump (default 60 s).
	Timeout time.Duration
}

// Image is what Dump made.
type Image struct {
	Dir       string
	Pid       int           // the dumped process (its PID again after Restore)
	Took      time.Duration // criu dump alone (the process is frozen for about this long)
	Bytes     int64         // size of the image directory
	Files     []ExtFile     // descriptors Restore hands in anew
	Criu      string        // CRIU version that made it
	Threads   int           // threads of the dumped process (all tasks)
	Processes int           // processes in the dumped tree
}

// ExtFile is a descriptor of the dumped process that Restore replaces.
type ExtFile struct {
	Name string `json:"name"` // "stdin", "stdout", "stderr" or a DumpOptions.Files name
	Fd   int    `json:"fd"`   // its number in the dumped process
	ID   string `json:"id"`   // what the kernel calls it: "pipe:[123]", "socket:[456]"
}

// RestoreOptions says how to restore an image.
type RestoreOptions struct {
	// Key verifies the image (required): an image whose manifest does not
	// verify is refused before CRIU reads it.
	Key []byte
	// Stdin, Stdout and Stderr replace the dumped process's stdio when those
	// were pipes or sockets (nil: /dev/null). When two of them were the same
	// pipe (2>&1), the first of Stdout, Stderr, Stdin given is used.
	Stdin, Stdout, Stderr *os.File
	// Files replaces the other descriptors named in DumpOptions.Files. A
	// named descriptor missing here is replaced by /dev/null.
	Files map[string]*os.File
	// LogDir keeps restore.log (default: a temporary directory removed when
	// the restore succeeded).
	LogDir string
	// Timeout bounds criu restore itself (default 60 s), not the program.
	Timeout time.Duration
}

// Status is how a restored program ended.
type Status struct {
	Code   int            // exit status when it exited
	Signal syscall.Signal // the signal that ended it, or 0
}

// Exited says the program exited (rather than being killed by a signal).
func (s Status) Exited() bool { return s.Signal == 0 }

// ExitCode is the status a shell would report: the code, or 128+signal.
func (s Status) ExitCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

func (s Status) String() string {
	if s.Signal != 0 {
		return "killed by " + s.Signal.String()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// ImageDir is where snapshot snap's image of the recording at recPath lives:
// <recPath>.criu/snap-<snap>.
func ImageDir(recPath string, snap int) string {
	return filepath.Join(recPath+".criu", fmt.Sprintf("snap-%d", snap))
}

// Remove deletes an image directory (a missing one is not an error). It
// refuses a directory that does not look like an image (no MANIFEST nor
// meta.json and not named snap-N), so a wrong path never deletes a tree.
func Remove(dir string) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a CRIU image directory", dir)
	}
	if !strings.HasPrefix(filepath.Base(dir), "snap-") && !exists(filepath.Join(dir, ManifestName)) && !exists(filepath.Join(dir, metaName)) {
		return fmt.Errorf("%s is not a CRIU image directory", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	// The <recording>.criu directory goes with its last image.
	parent := filepath.Dir(dir)
	if strings.HasSuffix(parent, ".criu") {
		_ = os.Remove(parent) // fails while not empty
	}
	return nil
}

// RemoveAll deletes every image of the recording at recPath.
func RemoveAll(recPath string) error { return os.RemoveAll(recPath + ".criu") }

// makeImageDir creates dir (0700, parents 0700) and refuses one that
// already has files: CRIU would mix two images.
func makeImageDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("the image directory %s is not empty", dir)
		}
		return os.Chmod(dir, 0o700)
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// FindDumping is Find's CRIU once Probe showed it can dump a process here
// (`criu check` passes on machines where dumps still fail): what the
// tests, the fidelity sweep and the bench require before they use it.
func FindDumping(extraDirs ...string) (*CRIU, error) {
	c, err := Find(extraDirs...)
	if err != nil {
		return nil, err
	}
	if err := c.Probe(); err != nil {
		return nil, err
	}
	return c, nil
}
