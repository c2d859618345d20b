//go:build !linux

package tracer

import "syscall"

func setParentDeathSignal(a *syscall.SysProcAttr) {}
