//go:build !linux

package launch

import "syscall"

func setParentDeathSignal(a *syscall.SysProcAttr) {}
