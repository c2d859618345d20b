package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

// The init of a restore's PID namespace is the binary that called Restore,
// re-executed with initEnv set: this package's init function takes over
// before main runs (any binary that links checkpoint can restore). It
//   - mounts a private /proc for the new PID namespace,
//   - runs `criu restore -d -S` (detached, the restored process made its
//     sibling, i.e. our child, so its parent-death signal holds),
//   - writes "restored PID" or "error REASON" to fd 3, then waits for the
//     restored process and writes "exit N" or "signal N",
//   - passes SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 on to it.
//
// When it exits the kernel kills whatever else is left in the namespace.
const initEnv = "PYREPLAY_CRIU_RESTORE_INIT"

type initConfig struct {
	Criu    string   `json:"criu"`
	Args    []string `json:"args"`
	Dir     string   `json:"dir"`
	WorkDir string   `json:"work_dir"`
	Pid     int      `json:"pid"`
	Inherit []string `json:"inherit"` // fd[N]:pipe:[ino] ...
}

func init() {
	if v := os.Getenv(initEnv); v != "" && os.Getpid() == 1 {
		os.Exit(restoreInit(v))
	}
}

func restoreInit(v string) int {
	os.Unsetenv(initEnv)
	status := os.NewFile(3, "status")
	syscall.CloseOnExec(3)
	say := func(format string, a ...any) { fmt.Fprintf(status, format+"\n", a...) }
	var cfg initConfig
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		say("error bad restore configuration: %v", err)
		return 1
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		say("error cannot make the mounts private: %v", err)
		return 1
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		say("error cannot mount /proc for the new PID namespace: %v", err)
		return 1
	}
	// Signals arrive before the program runs again: hold them until then.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)

	args := append(append([]string(nil), cfg.Args...), "restore", "-D", cfg.Dir, "-W", cfg.WorkDir,
		"-o", "restore.log", "--shell-job", "-d", "-S")
	for _, in := range cfg.Inherit {
		args = append(args, "--inherit-fd", in)
	}
	cmd := exec.Command(cfg.Criu, args...)
	devnull, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, os.Stderr, os.Stderr
	// Our fds 4.. are the files to hand in, at the same numbers for criu.
	cmd.ExtraFiles = []*os.File{devnull}
	for i := range cfg.Inherit {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(4+i), "inherit-"+strconv.Itoa(i)))
	}
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(cfg.WorkDir, "restore.log"))
		say("error %s", lastError(log, err))
		return 1
	}
	for i := range cfg.Inherit {
		cmd.ExtraFiles[1+i].Close()
	}
	say("restored %d", cfg.Pid)
	go func() {
		for s := range sigs {
			_ = syscall.Kill(cfg.Pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			say("error lost the restored process %d: %v", cfg.Pid, err)
			return 1
		}
		if pid != cfg.Pid {
			continue // a reparented descendant
		}
		switch {
		case ws.Exited():
			say("exit %d", ws.ExitStatus())
		case ws.Signaled():
			say("signal %d", int(ws.Signal()))
		default:
			continue
		}
		return 0
	}
}
