package checkpoint

import "syscall"

func getxattr(path, name string, buf []byte) (int, error) { return syscall.Getxattr(path, name, buf) }
