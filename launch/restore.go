package launch

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/trust"
)

// RestoreImage restores the CRIU image in dir (a snapshot's, record
// --criu) with pyreplay's own stdio, tells the copy it is one (it then
// never writes to the recording), relays SIGINT, SIGTERM and SIGHUP to it
// and waits for its end. The image is verified with the user's key first.
func RestoreImage(dir string) (Result, error) {
	c, err := checkpoint.Find(checkpoint.CacheDirs("")...)
	if err != nil {
		return Result{}, err
	}
	key, err := trust.UserKey()
	if err != nil {
		return Result{}, err
	}
	child, parent, err := criuChannel()
	if err != nil {
		return Result{}, err
	}
	defer parent.Close()
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT) // the program's alone, as for a recording
	defer signal.Stop(quit)
	relay := make(chan os.Signal, 4)
	signal.Notify(relay, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(relay)
	r, err := c.Restore(dir, checkpoint.RestoreOptions{Key: key, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Files: map[string]*os.File{"control": child}, LogDir: os.Getenv("PYREPLAY_CRIU_LOGDIR")})
	child.Close()
	if err != nil {
		return Result{}, err
	}
	if _, err := parent.Write([]byte("{\"restored\": true}\n")); err != nil {
		r.Kill()
		r.Wait()
		return Result{}, fmt.Errorf("cannot reach the restored program: %v", err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-relay:
				_ = r.Signal(s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	st, err := r.Wait()
	close(done)
	if err != nil {
		return Result{}, err
	}
	if st.Signal != 0 {
		return Result{Signal: st.Signal, ExitCode: st.ExitCode()}, nil
	}
	return Result{ExitCode: st.Code}, nil
}
