//go:build !linux

package checkpoint

import (
	"syscall"
	"time"
)

// Find says CRIU checkpoints need Linux.
func Find(extraDirs ...string) (*CRIU, error) { return nil, ErrUnsupported }

// CacheDirs is empty outside Linux.
func CacheDirs(exe string) []string { return nil }

// Dump says CRIU checkpoints need Linux.
func (c *CRIU) Dump(pid int, dir string, opts DumpOptions) (*Image, error) {
	return nil, ErrUnsupported
}

// Restore says CRIU checkpoints need Linux.
func (c *CRIU) Restore(dir string, opts RestoreOptions) (*Restored, error) {
	return nil, ErrUnsupported
}

// Restored is a restored program (never, outside Linux).
type Restored struct {
	Pid     int
	HostPid int
	Took    time.Duration
}

// Wait says CRIU checkpoints need Linux.
func (r *Restored) Wait() (Status, error) { return Status{}, ErrUnsupported }

// Signal says CRIU checkpoints need Linux.
func (r *Restored) Signal(sig syscall.Signal) error { return ErrUnsupported }

// Kill does nothing outside Linux.
func (r *Restored) Kill() {}

const metaName = "meta.json"

// Probe says CRIU checkpoints need Linux.
func (c *CRIU) Probe() error { return ErrUnsupported }
