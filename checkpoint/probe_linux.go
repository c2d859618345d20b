package checkpoint

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Probe dumps a short-lived process (`sleep`, with its stdout and stderr
// pipes to us, as a recorded program's are) the way Dump dumps a program,
// and discards the image. `criu check` passes on machines where a dump
// still fails (a sandbox's cgroup or mount layout, a full disk): Probe says
// so with CRIU's reason before anything relies on a dump working.
func (c *CRIU) Probe() error {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return fmt.Errorf("cannot probe CRIU: no sleep on PATH")
	}
	tmp, err := os.MkdirTemp("", "pyreplay-criu-probe-")
	if err != nil {
		return fmt.Errorf("cannot probe CRIU: %v", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(sleep, "30")
	if _, err := cmd.StdoutPipe(); err != nil {
		return fmt.Errorf("cannot probe CRIU: %v", err)
	}
	if _, err := cmd.StderrPipe(); err != nil {
		return fmt.Errorf("cannot probe CRIU: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot probe CRIU: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	key := make([]byte, 32)
	rand.Read(key)
	_, err = c.Dump(cmd.Process.Pid, filepath.Join(tmp, "probe"), DumpOptions{Key: key, Timeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("criu %s at %s cannot dump a process here: %v", c.Version, c.Path, err)
	}
	return nil
}
