package session

// Resume from Here through a CRIU image: when exact resume refuses a stop
// and the live session (launch "criu": true) or the recording (record
// --criu) imaged it, the copy restored from the image runs to its end as
// `pyreplay resume` runs it, its output reported as the program's and its
// end as the session's. It runs undebugged: the copy's session socket is
// not the engine's (launch.StartRestore).

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
)

// consoleWriter reports each line written to it as a console message
// (launch.Criu.Warn: a stop that could not be imaged).
type consoleWriter struct{ d *Engine }

func (w consoleWriter) Write(p []byte) (int, error) {
	w.d.emit(OutputEvent{Category: "console", Text: string(p)})
	return len(p), nil
}

// withCriu is o's CRIU (nil when off) reporting failed dumps as console
// messages.
func (d *Engine) withCriu(c *launch.Criu) *launch.Criu {
	if c == nil {
		return nil
	}
	cp := *c
	cp.Warn = consoleWriter{d}
	return &cp
}

// restoreCopy restores snapshot n's CRIU image in dir (exact resume
// refused it: why) in place of the live program, and reports its output
// and end. The caller holds no lock.
func (d *Engine) restoreCopy(n int64, dir, why string) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	d.mu.Lock()
	old := d.live
	d.live = nil
	d.mu.Unlock()
	if old != nil {
		old.Kill()
	}
	cp, err := launch.StartRestore(dir, launch.Stdio{Stdout: outW, Stderr: errW})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if old != nil {
			d.mu.Lock()
			d.ended = true
			d.mu.Unlock()
			d.emit(ExitedEvent{Code: 137})
			d.emit(TerminatedEvent{})
		}
		return fmt.Errorf("cannot resume %s from its CRIU image: %v", recording.SnapID(n), err)
	}
	d.mu.Lock()
	d.copy = cp
	d.liveStop = -1
	d.gen++
	d.started = true
	d.ended, d.exited, d.exitCode = false, false, 0
	d.mu.Unlock()
	d.emit(OutputEvent{Category: "console", Text: fmt.Sprintf(
		"pyreplay: resumed %s from its CRIU image (exact resume refuses: %s); the copy runs to its end without stops\n",
		recording.SnapID(n), why)})
	d.emit(ContinuedEvent{})
	done := make(chan struct{}, 2)
	pump := func(r io.ReadCloser, category string) {
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				d.emit(OutputEvent{Category: category, Text: line})
			}
			if err != nil {
				done <- struct{}{}
				return
			}
		}
	}
	go pump(outR, "stdout")
	go pump(errR, "stderr")
	go func() {
		res, err := cp.Wait()
		<-done
		<-done
		code := res.ExitCode
		if err != nil {
			d.emit(OutputEvent{Category: "stderr", Text: "pyreplay: " + strings.TrimSpace(err.Error()) + "\n"})
			code = 1
		}
		d.mu.Lock()
		if d.copy != cp {
			d.mu.Unlock()
			return
		}
		d.copy = nil
		d.ended, d.exited, d.exitCode = true, true, code
		d.mu.Unlock()
		d.emit(ExitedEvent{Code: code})
		d.emit(TerminatedEvent{})
	}()
	return nil
}

// killCopy ends a restored copy (Close, Terminate); reports nothing.
func (d *Engine) killCopy() {
	d.mu.Lock()
	cp := d.copy
	d.mu.Unlock()
	if cp != nil {
		cp.Kill()
	}
}
