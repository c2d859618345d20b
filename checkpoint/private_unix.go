//go:build unix

package checkpoint

import (
	"fmt"
	"os"
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
	return nil
}
