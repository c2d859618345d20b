// Package scratch gives this process a private scratch directory for the
// temporary files of pyreplay and of the programs it runs (their
// configurations, sockets, FIFOs, a re-execution's private copies):
// <base>/scratch/<pid>-<random>, mode 0700, where base is the user's
// private pyreplay directory the shim is installed in (pyshim.Install).
//
// The directory holds a file "lock" this process keeps open with an
// exclusive flock (close-on-exec: children do not inherit it): the kernel
// releases the lock when the process ends, however. Remove takes the directory
// away at a normal end; a process killed before that leaves it behind, and
// the next pyreplay to make its own removes every directory whose lock
// nobody holds (sweep).
package scratch

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pyreplay/pyreplay/pyshim"
)

// staging is the name prefix of a directory not yet locked: create makes
// it under this name, locks it, then renames it, so a directory with a
// final name always has its owner's lock (or no owner).
const staging = ".new-"

// stale is the age after which a directory without a lock held (a
// staging one, one without a lock file) is taken as left by a process
// killed while making or removing it.
const stale = time.Minute

// base is the directory the scratch directories go under.
var base = func() (string, error) {
	boot, err := pyshim.Install() // <base>/shim-<version>/boot.py
	if err != nil {
		return "", err
	}
	return filepath.Dir(filepath.Dir(boot)), nil
}

var (
	mu   sync.Mutex
	made bool // Dir has tried to make it
	dir  string
	lock *os.File
)

// Dir is this process's scratch directory, made on the first call; "" when
// it cannot be made (the caller then uses the default temporary
// directory, as os.CreateTemp and os.MkdirTemp do with "").
func Dir() string {
	mu.Lock()
	defer mu.Unlock()
	if !made {
		made = true
		if b, err := base(); err == nil {
			dir, lock, _ = create(b)
		}
	}
	return dir
}

// Remove removes this process's scratch directory and what it holds, if it
// was made; a later Dir is "".
func Remove() {
	mu.Lock()
	defer mu.Unlock()
	made = true
	if lock == nil {
		return
	}
	os.RemoveAll(dir)
	lock.Close()
	dir, lock = "", nil
}

// create makes a scratch directory under root's "scratch", locked by the
// returned file, and sweeps the ones whose owners are gone.
func create(root string) (string, *os.File, error) {
	parent := filepath.Join(root, "scratch")
	if err := os.Mkdir(parent, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", nil, err
	}
	pid := strconv.Itoa(os.Getpid())
	tmp, err := os.MkdirTemp(parent, staging+pid+"-") // (mode 0700)
	if err != nil {
		return "", nil, err
	}
	// (os.OpenFile opens with O_CLOEXEC)
	l, err := os.OpenFile(filepath.Join(tmp, "lock"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = unix.Flock(int(l.Fd()), unix.LOCK_EX)
		if err != nil {
			l.Close()
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	d := filepath.Join(parent, strings.TrimPrefix(filepath.Base(tmp), staging))
	if err := os.Rename(tmp, d); err != nil {
		l.Close()
		os.RemoveAll(tmp)
		return "", nil, err
	}
	sweep(parent, d)
	return d, l, nil
}

// sweep removes the directories in parent other than mine whose lock can
// be taken (their owner is gone: the kernel released its lock), and the
// staging ones and those without a lock file that are older than stale.
func sweep(parent, mine string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(parent, e.Name())
		if !e.IsDir() || p == mine {
			continue
		}
		if !strings.HasPrefix(e.Name(), staging) {
			l, err := os.OpenFile(filepath.Join(p, "lock"), os.O_RDWR, 0)
			if err == nil {
				if unix.Flock(int(l.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
					os.RemoveAll(p)
				}
				l.Close()
				continue
			}
			if !errors.Is(err, os.ErrNotExist) {
				continue
			}
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > stale {
			os.RemoveAll(p)
		}
	}
}
