//go:build !linux

package launch

import "os"

// foreground: CRIU copies exist on Linux only.
func foreground(tty *os.File, pid int) (back func()) { return func() {} }
