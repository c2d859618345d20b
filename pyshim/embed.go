// Package pyshim embeds the Python side of pyreplay (standard library only)
// and installs it into a private directory at run time.
package pyshim

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

//go:embed boot.py pyreplay_shim/*.py
var files embed.FS

// Version identifies the embedded shim (a hash of its files).
var Version = func() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}()

var (
	installOnce sync.Once
	installBoot string
	installErr  error
)

// Install makes sure a private copy of the shim exists and returns the path
// of its entry script. The copy lives in $TMPDIR/pyreplay-<uid>/shim-<version>
// and is used only when the directories up to it are the user's own and
// closed to others, and every file is the embedded one (see verify); a
// directory that fails the check is never used: the shim goes to
// ~/.cache/pyreplay instead, or, failing that, to a fresh temporary
// directory of this process.
func Install() (string, error) {
	installOnce.Do(func() { installBoot, installErr = install() })
	return installBoot, installErr
}

func install() (string, error) {
	uid := os.Getuid()
	bases := []string{filepath.Join(os.TempDir(), fmt.Sprintf("pyreplay-%d", uid))}
	if cache, err := os.UserCacheDir(); err == nil {
		bases = append(bases, filepath.Join(cache, "pyreplay"))
	}
	var problems []string
	for _, base := range bases {
		boot, err := installIn(base)
		if err == nil {
			if len(problems) > 0 {
				fmt.Fprintf(os.Stderr, "pyreplay: warning: %s; using %s instead\n", strings.Join(problems, "; "), base)
			}
			return boot, nil
		}
		problems = append(problems, err.Error())
	}
	tmp, err := os.MkdirTemp("", fmt.Sprintf("pyreplay-%d-", uid))
	if err != nil {
		return "", fmt.Errorf("%s; and no private temporary directory: %v", strings.Join(problems, "; "), err)
	}
	fmt.Fprintf(os.Stderr, "pyreplay: warning: %s; using %s instead\n", strings.Join(problems, "; "), tmp)
	return installIn(tmp)
}

// installIn installs the shim under base (created 0700 when missing, with
// its parents).
func installIn(base string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %v", filepath.Dir(base), err)
	}
	if err := os.Mkdir(base, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("cannot create %s: %v", base, err)
	}
	if err := checkPrivate(base); err != nil {
		return "", err
	}
	dir := filepath.Join(base, "shim-"+Version)
	boot := filepath.Join(dir, "boot.py")
	if _, err := os.Lstat(dir); err == nil {
		if verify(dir) == nil {
			return boot, nil
		}
		// only this user can write in base: the copy is damaged, not planted
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("cannot replace the damaged shim in %s: %v", dir, err)
		}
	}
	tmp, err := os.MkdirTemp(base, "tmp-shim-")
	if err != nil {
		return "", err
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another process may have won the race: check its copy
	}
	if err := verify(dir); err != nil {
		return "", err
	}
	return boot, nil
}

// write copies the embedded files into dir: directories 0700 (with the
// __pycache__ Python will use, so that its mode is ours, not the umask's),
// files 0600.
func write(dir string) error {
	return fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, p)
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
			if p != "." {
				return os.Mkdir(filepath.Join(target, "__pycache__"), 0o700)
			}
			return nil
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

// checkPrivate accepts a directory (not a symbolic link) owned by this user
// with no access for group or others, whose parent only this user or root
// can change (or is sticky, like /tmp).
func checkPrivate(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if owner(st) != os.Getuid() || st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is not private (owner uid %d, mode %04o; want uid %d, mode 0700)", dir, owner(st), st.Mode().Perm(), os.Getuid())
	}
	parent := filepath.Dir(dir)
	pst, err := os.Stat(parent)
	if err != nil {
		return err
	}
	if o := owner(pst); (o != os.Getuid() && o != 0) || (pst.Mode().Perm()&0o022 != 0 && pst.Mode()&fs.ModeSticky == 0) {
		return fmt.Errorf("%s can be changed by other users (owner uid %d, mode %04o)", parent, o, pst.Mode().Perm())
	}
	return nil
}

// verify checks an installed shim: every entry owned by this user, not a
// symbolic link, not writable by group or others; the directory itself
// closed to others; exactly the embedded files with the embedded contents,
// plus only Python's own __pycache__ directories and their files.
func verify(dir string) error {
	uid := os.Getuid()
	want := map[string][]byte{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			want[p], _ = files.ReadFile(p)
		}
		return err
	})
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() || owner(st) != uid || st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("the shim directory %s is not private (mode %v, owner uid %d)", dir, st.Mode(), owner(st))
	}
	seen := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		inCache := strings.Contains(filepath.ToSlash(rel), "__pycache__")
		info, err := d.Info()
		if err != nil {
			if inCache && errors.Is(err, fs.ErrNotExist) {
				return nil // a bytecode file Python was replacing meanwhile
			}
			return err
		}
		if owner(info) != uid || info.Mode()&fs.ModeSymlink != 0 || info.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%s is not the user's own (mode %v, owner uid %d)", p, info.Mode(), owner(info))
		}
		content, known := want[filepath.ToSlash(rel)]
		switch {
		case d.IsDir():
			return nil
		case inCache:
			return nil
		case !known:
			return fmt.Errorf("%s is not part of the shim", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, content) {
			return fmt.Errorf("%s differs from the shim's", p)
		}
		seen++
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(want) {
		return fmt.Errorf("the shim in %s is incomplete", dir)
	}
	return nil
}

func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
