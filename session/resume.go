package session

// Resuming from a stop: in a fresh process debugged live from then on
// (ResumeFrom), or run to its end attached to a terminal as `pyreplay
// resume` runs it (ResumeProgram, Program).

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// Program is a program to run under the shim to its end, attached to the
// caller's stdio: `pyreplay record`, `pyreplay resume` and the TUI's
// resume run it.
type Program struct {
	Python string
	Config launch.Config // Config.DB and Config.Run: the run to end
	Dir    string        // working directory ("": the caller's)
	Snap   int64         // the snapshot it resumes from (0: a recording)
	// Stdin, Stdout and Stderr are the program's (nil: the caller's own).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Quiet: a background re-execution (launch.Process.Quiet): no stdin,
	// its output discarded.
	Quiet bool
	// Image, when set, is the snapshot's CRIU image: Run restores it
	// instead (Why says why exact resume refused, "" when forced).
	Image, Why string
	// Edits are the edited files the resume continues in (AllowEdited).
	Edits []launch.FileEdit
}

// EditReport is one line per edited file the resume continues in.
func (p *Program) EditReport() []string { return launch.EditReport(p.Edits) }

// Run runs the program to its end and records how its run ended.
func (p *Program) Run() (launch.Result, error) {
	if p.Image != "" {
		return p.restore()
	}
	proc, err := launch.Prepare(p.Python, p.Config, os.Environ())
	if err != nil {
		return launch.Result{}, err
	}
	proc.Cmd.Dir = p.Dir
	proc.Quiet = p.Quiet
	if p.Stdin != nil {
		proc.Cmd.Stdin = p.Stdin
	}
	if p.Stdout != nil {
		proc.Cmd.Stdout = p.Stdout
	}
	if p.Stderr != nil {
		proc.Cmd.Stderr = p.Stderr
	}
	res, err := proc.Run()
	if err != nil {
		return res, err
	}
	if store, err := recording.Open(p.Config.DB); err == nil {
		_ = store.EndRun(p.Config.Run, res.Status())
		store.Close()
	}
	return res, nil
}

// restore runs the copy restored from p.Image to its end, with p's stdio
// where they are files (a terminal, pipes), else the caller's own.
func (p *Program) restore() (launch.Result, error) {
	var stdio launch.Stdio
	stdio.Stdin, _ = p.Stdin.(*os.File)
	stdio.Stdout, _ = p.Stdout.(*os.File)
	stdio.Stderr, _ = p.Stderr.(*os.File)
	if p.Stdin == nil && p.Stdout == nil && p.Stderr == nil {
		return launch.RestoreImage(p.Image) // pyreplay's stdio, its signals relayed
	}
	cp, err := launch.StartRestore(p.Image, stdio)
	if err != nil {
		return launch.Result{}, err
	}
	return cp.Wait()
}

// PrepareResume plans resuming snapshot o.Snap of o.Store (launch.Build;
// nothing runs yet): exactly, or from the snapshot's CRIU image when exact
// resume refuses it and it has one (record --criu), or when forceCriu.
func PrepareResume(o launch.Options, forceCriu bool) (*Program, error) {
	// (an image is looked for first: one query, so that exact resume costs
	// what it did when there is none)
	// (into edited source: never the image, which holds the recorded code)
	if forceCriu && o.AllowEdited {
		return nil, errors.New("--criu restores the recorded process, which runs the recorded code; it cannot continue in edited source: drop --criu or --allow-edited")
	}
	if dir, ok := launch.CriuImage(o.Store, o.Snap); (ok && !o.AllowEdited) || forceCriu {
		if !ok {
			return nil, fmt.Errorf("%s has no CRIU image (record with --criu to take them)", recording.SnapID(o.Snap))
		}
		if v, why := launch.ResumeVerdict(o.Store, o.Snap); v == launch.ResumeCriu || forceCriu {
			if err := launch.CriuUsable(); err != nil {
				if v == launch.ResumeExact {
					return nil, fmt.Errorf("cannot restore %s's CRIU image: %v", recording.SnapID(o.Snap), err)
				}
				return nil, fmt.Errorf("cannot resume %s: exact resume refuses (%s) and its CRIU image cannot be restored: %v", recording.SnapID(o.Snap), strings.SplitN(why, "\n", 2)[0], err)
			}
			if v == launch.ResumeExact {
				why = ""
			}
			return &Program{Image: dir, Why: why, Snap: o.Snap}, nil
		}
	}
	p, err := launch.Build(o)
	if err != nil {
		return nil, ResumeError(o.Snap, err)
	}
	return &Program{Python: p.Python, Config: p.Config, Dir: p.Dir, Snap: o.Snap, Edits: p.Edits}, nil
}

// ResumeError says a refusal of snapshot n as resume does ("cannot resume
// snap-N exactly: ..."); other errors as they are.
func ResumeError(n int64, err error) error {
	if reconstruct.IsRefusal(err) {
		return fmt.Errorf("cannot resume %s exactly: %w", recording.SnapID(n), err)
	}
	return err
}

// ResumeProgram plans resuming the stop at the cursor (or snapshot n when
// n > 0) to run to its end, as `pyreplay resume` does; the caller runs it
// (in the terminal, for the TUI) and then Reloads the history.
func (d *Engine) ResumeProgram(n int64) (*Program, error) {
	d.mu.Lock()
	store, python, edited := d.store, d.opts.Python, d.edited
	if n <= 0 && d.cur >= 0 && d.cur < len(d.hist) {
		n = d.hist[d.cur].Snap
	}
	d.mu.Unlock()
	if store == nil {
		return nil, errors.New("nothing to resume from: no recording is open")
	}
	if n <= 0 {
		return nil, errors.New("no snapshot to resume from")
	}
	return PrepareResume(launch.Options{Store: store, Snap: n, Python: python, AllowEdited: edited}, false)
}

// ResumeFrom starts a fresh process from the snapshot at the cursor (or
// snapshot n when n > 0) and debugs it from then on; the previous live
// process, if any, is ended. The history up to that stop is kept.
func (d *Engine) ResumeFrom(n int64) (int64, error) {
	d.mu.Lock()
	if d.store == nil {
		d.mu.Unlock()
		return 0, errors.New("nothing to resume from: no recording is open")
	}
	if d.runningLocked() {
		d.mu.Unlock()
		return 0, ErrRunning
	}
	idx := d.cur
	if n > 0 {
		idx = -1
		for i, st := range d.hist {
			if st.Snap == n {
				idx = i
			}
		}
		if idx < 0 {
			d.mu.Unlock()
			return 0, fmt.Errorf("%s is not a stop of this session", recording.SnapID(n))
		}
	} else if len(d.hist) == 0 {
		d.mu.Unlock()
		return 0, errors.New("the program has not stopped yet")
	}
	snapN := d.hist[idx].Snap
	s, err := d.snapLocked(snapN)
	store, python, edited := d.store, d.opts.Python, d.edited
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if snapN < 0 {
		// a line of the past (line history): a recorded snapshot of it first
		if snapN, err = d.recordedStop(snapN); err != nil {
			return 0, err
		}
		d.mu.Lock()
		s, err = d.snapLocked(snapN)
		d.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	d.killCopy()
	prep, err := launch.Build(launch.Options{Store: store, Snap: snapN, Python: python, AllowEdited: edited})
	if err != nil {
		if dir, ok := launch.CriuImage(store, snapN); ok && !edited && reconstruct.IsRefusal(err) {
			return 0, d.restoreCopy(snapN, dir, err.Error())
		}
		return 0, ResumeError(snapN, err)
	}
	prep.Config.Criu = d.withCriu(d.opts.Criu)
	d.mu.Lock()
	old := d.live
	d.live = nil
	env := d.env
	if env == nil {
		env = append(os.Environ(), "PYTHONUNBUFFERED=1")
		d.env = env
	}
	d.mu.Unlock()
	if old != nil {
		old.Kill()
	}
	l, err := startLive(prep.Python, prep.Config, prep.Dir, env, d)
	if err != nil {
		d.mu.Lock()
		if old != nil {
			d.ended = true
		}
		d.mu.Unlock()
		if old != nil {
			d.emit(ExitedEvent{Code: 137})
			d.emit(TerminatedEvent{})
		}
		return 0, fmt.Errorf("cannot resume %s: %v", recording.SnapID(snapN), err)
	}
	d.mu.Lock()
	d.hist = d.hist[:idx+1]
	d.cur = idx
	d.live = l
	d.liveStop = -1
	d.gen++
	d.replay = false
	d.started = true
	d.ended, d.exited, d.exitCode = false, false, 0
	d.entry = nil
	if top := topUser(s); top != nil {
		d.entry = &wire.LiveBreakpoint{ID: 0, File: top.File, Line: top.Line, OneShot: true, Spec: "entry"}
	}
	args := d.bpPayload()
	d.entry = nil
	d.mu.Unlock()
	d.warmReexecutions(l)
	for _, line := range launch.EditReport(prep.Edits) {
		d.emit(OutputEvent{Category: "console", Text: "pyreplay: " + line + "\n"})
	}
	d.emit(OutputEvent{Category: "console", Text: fmt.Sprintf("pyreplay: resumed %s in a fresh process (pid %d, run %d)\n", recording.SnapID(snapN), l.Pid(), prep.Config.Run)})
	d.emit(ContinuedEvent{})
	if err := l.Call(wire.CmdStart, args, nil); err != nil {
		return 0, err
	}
	return prep.Config.Run, nil
}
