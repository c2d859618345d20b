package launch

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/trust"
)

// Stdio are the files a restored copy gets as its stdin, stdout and stderr
// (nil: pyreplay's own).
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

// Copy is a program restored from a CRIU image, running.
type Copy struct {
	r    *checkpoint.Restored
	live *os.File // our end of the copy's live-session socket (see LiveFile)
	back func()   // gives the terminal back to pyreplay (foreground)
}

// CriuUsable is nil when a CRIU that can restore images is found, else
// why not (one line).
func CriuUsable() error {
	_, err := checkpoint.Find(checkpoint.CacheDirs("")...)
	return err
}

// StartRestore restores the CRIU image in dir (a snapshot's, record
// --criu) with stdio, tells the copy it is one (it then never writes to
// the recording, and a live session's copy runs undebugged) and returns
// it running. The image is verified with the user's key first.
func StartRestore(dir string, stdio Stdio) (*Copy, error) {
	c, err := checkpoint.Find(checkpoint.CacheDirs("")...)
	if err != nil {
		return nil, err
	}
	key, err := trust.UserKey()
	if err != nil {
		return nil, err
	}
	child, parent, err := criuChannel()
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	// an image of a live session's stop: the copy's end of its session
	// socket, which nothing is sent on; ours stays open until the copy ends
	liveCopy, live, err := criuChannel()
	if err != nil {
		child.Close()
		return nil, err
	}
	or := func(f, std *os.File) *os.File {
		if f != nil {
			return f
		}
		return std
	}
	r, err := c.Restore(dir, checkpoint.RestoreOptions{Key: key, Stdin: or(stdio.Stdin, os.Stdin),
		Stdout: or(stdio.Stdout, os.Stdout), Stderr: or(stdio.Stderr, os.Stderr),
		Files: map[string]*os.File{"control": child, LiveFile: liveCopy}, LogDir: os.Getenv("PYREPLAY_CRIU_LOGDIR")})
	child.Close()
	liveCopy.Close()
	if err != nil {
		live.Close()
		return nil, err
	}
	// the copy reads pyreplay's terminal: it becomes the foreground job
	// before it runs on (it waits for the line below)
	back := func() {}
	if in := or(stdio.Stdin, os.Stdin); in == os.Stdin {
		back = foreground(in, r.HostPid)
	}
	if _, err := parent.Write([]byte("{\"restored\": true}\n")); err != nil {
		r.Kill()
		r.Wait()
		back()
		live.Close()
		return nil, fmt.Errorf("cannot reach the restored program: %v", err)
	}
	return &Copy{r: r, live: live, back: back}, nil
}

// Wait waits for the copy's end.
func (c *Copy) Wait() (Result, error) {
	st, err := c.r.Wait()
	c.back()
	c.live.Close()
	if err != nil {
		return Result{}, err
	}
	if st.Signal != 0 {
		return Result{Signal: st.Signal, ExitCode: st.ExitCode()}, nil
	}
	return Result{ExitCode: st.Code}, nil
}

// Signal sends sig to the copy.
func (c *Copy) Signal(sig syscall.Signal) error { return c.r.Signal(sig) }

// Kill ends the copy and everything it started.
func (c *Copy) Kill() { c.r.Kill() }

// RestoreImage restores the CRIU image in dir with pyreplay's own stdio
// (StartRestore), relays SIGINT, SIGTERM and SIGHUP to the copy and waits
// for its end.
func RestoreImage(dir string) (Result, error) {
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT) // the program's alone, as for a recording
	defer signal.Stop(quit)
	relay := make(chan os.Signal, 4)
	signal.Notify(relay, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(relay)
	cp, err := StartRestore(dir, Stdio{})
	if err != nil {
		return Result{}, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-relay:
				_ = cp.Signal(s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	res, err := cp.Wait()
	close(done)
	return res, err
}
