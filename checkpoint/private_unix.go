//go:build unix

package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// checkPrivate refuses an image directory that someone else could have
// written: it must be a real directory owned by the effective user, with no
// group or other write permission.
func checkPrivate(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("the CRIU image %s is not a directory", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("the CRIU image %s belongs to another user (uid %d)", dir, sys.Uid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the CRIU image %s is writable by other users (mode %o)", dir, st.Mode().Perm())
	}
	// The files hold the program's whole memory: neither readable nor
	// writable by others (Dump makes them 0600).
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		fst, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if !fst.Mode().IsRegular() {
			return fmt.Errorf("the CRIU image %s holds %s, which is not a regular file", dir, e.Name())
		}
		if fst.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("the CRIU image %s has %s open to other users (mode %o)", dir, e.Name(), fst.Mode().Perm())
		}
		if sys, ok := fst.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
			return fmt.Errorf("the CRIU image %s has %s belonging to another user (uid %d)", dir, e.Name(), sys.Uid)
		}
	}
	return nil
}
