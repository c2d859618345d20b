package session

// Opening the engine on a recording (replay) or on a live program
// (launch), starting it, and ending it.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// Launch records and debugs a program live. It returns once the program is
// ready; it runs after Start. The run is built by launch.Build, which
// resolves the breakpoint specs in o first, so that a bad one fails before
// anything runs.
func (d *Engine) Launch(o LaunchOptions) error {
	if o.Target.Script == "" && o.Target.Module == "" {
		return errors.New("launch needs \"program\" (a Python file) or \"module\", or \"recording\" to replay one")
	}
	if err := checkFilters(o.Exceptions); err != nil {
		return err
	}
	cwd := o.Cwd
	if cwd == "" {
		if o.Target.Script != "" {
			cwd = filepath.Dir(absPath(o.Target.Script, ""))
		} else {
			cwd, _ = os.Getwd()
		}
	}
	cwd = absPath(cwd, "")
	target := o.Target
	if !target.IsModule() {
		target.Script = absPath(target.Script, cwd)
	}
	lo := launch.Options{Python: o.Python, Target: target, Args: o.Args, Cwd: cwd,
		DB: absPath(o.DB, cwd), Breakpoints: o.Breakpoints}
	if o.LineHistory {
		// anchors to re-execute from (linehistory.go), as record --trace's
		if python, err := launch.FindPython(o.Python); err == nil {
			lo.UseAnchors(launch.Minor(python), o.History)
		}
	}
	p, err := launch.Build(lo)
	if errors.Is(err, launch.ErrNoProgram) {
		return fmt.Errorf("%v; check \"program\" in the launch configuration", err)
	}
	if err != nil {
		return err
	}
	d.setSpecs(p.Config.Breakpoints)
	_ = d.SetExceptionFilters(o.Exceptions)
	// the breakpoints go to the live program over its control channel
	// (Start), not in its configuration
	p.Config.Breakpoints = nil
	p.Config.Criu = d.withCriu(o.Criu)
	p.Config.ChildSessions, p.Config.SubProcessOff = o.ChildSessions && !o.NoDebug, o.NoSubProcess
	env := os.Environ()
	for k, v := range o.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "PYTHONUNBUFFERED=1")
	d.mu.Lock()
	d.store, d.opts, d.python, d.baseDir, d.env = p.Store, o, p.Python, p.BaseDir, env
	d.lines = o.LineHistory && !o.NoDebug
	d.mu.Unlock()
	l, err := startLive(p.Python, p.Config, p.Dir, env, d)
	if err != nil {
		_ = p.Store.EndRun(p.Config.Run, 2)
		return err
	}
	d.mu.Lock()
	d.live = l
	d.mu.Unlock()
	d.warmReexecutions(l)
	return nil
}

// warmReexecutions has a warm interpreter ready for the first
// re-execution of live program l's run, when going back by line will
// need one (launch/warm.go): a Step Back sent the instant a stop arrives
// does not wait for Python to start.
func (d *Engine) warmReexecutions(l *Live) {
	d.mu.Lock()
	on := d.lines && l.proc != nil
	d.mu.Unlock()
	if on {
		l.proc.WarmReexecutions()
	}
}

// Attach debugs a live child of another session's program, waiting at
// o.Control; it returns once the child is ready and runs it after Start.
func (d *Engine) Attach(o AttachOptions) error {
	if err := checkFilters(o.Exceptions); err != nil {
		return err
	}
	store, err := recording.Open(o.DB)
	if err != nil {
		return err
	}
	_ = d.SetExceptionFilters(o.Exceptions)
	d.mu.Lock()
	d.store, d.python = store, o.Python
	d.opts = LaunchOptions{Python: o.Python, JustMyCode: o.JustMyCode, LineHistory: o.LineHistory}
	d.lines = o.LineHistory
	d.mu.Unlock()
	l, err := attachLive(o.Control, d, d.runExit)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.live = l
	d.mu.Unlock()
	return nil
}

// runExit is the exit code run ended with, once it has.
func (d *Engine) runExit(run int64) (int, bool) {
	d.mu.Lock()
	st := d.store
	d.mu.Unlock()
	if st == nil {
		return 0, false
	}
	r, err := st.GetRun(run)
	if err != nil || r.ExitCode == nil {
		return 0, false
	}
	return *r.ExitCode, true
}

// OpenRecording replays a recording. Its history is the snapshots of one
// run (o.Snap's, or the first run's), or of every run with o.AllRuns; the
// cursor is at o.Snap.
func (d *Engine) OpenRecording(path string, o OpenOptions) error {
	store, err := recording.Open(absPath(path, ""))
	if err != nil {
		return err
	}
	all, err := store.List(0)
	if err != nil {
		store.Close()
		return fmt.Errorf("%s: %v", path, err)
	}
	if len(all) == 0 {
		store.Close()
		return fmt.Errorf("%w in %s; record one with `pyreplay record -b FILE:LINE PROG.py`", ErrEmpty, store.Path)
	}
	run := all[0].Run
	if o.AllRuns {
		run = all[len(all)-1].Run
	}
	start := -1
	for i, s := range all {
		if o.Snap > 0 && s.N == o.Snap {
			run, start = s.Run, i
		}
	}
	if o.Snap > 0 && start < 0 {
		store.Close()
		return fmt.Errorf("%s: %w in %s (`pyreplay ls` lists them)", recording.SnapID(o.Snap), recording.ErrNoSnapshot, store.Path)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.store, d.replay, d.open, d.run = store, true, o, run
	d.lines = o.LineHistory
	d.baseDir = filepath.Dir(absPath(path, ""))
	if r, err := store.GetRun(run); err == nil {
		d.baseDir = r.Cwd
		if t := launch.ParseTarget(r.Program); !t.IsModule() {
			d.baseDir = filepath.Dir(absPath(t.Script, r.Cwd))
		}
	}
	d.hist, d.cur = nil, -1
	for _, s := range all {
		if !o.AllRuns && s.Run != run {
			continue
		}
		if (o.Snap > 0 && s.N == o.Snap) || (o.Snap == 0 && d.cur < 0 && s.Run == run) {
			d.cur = len(d.hist)
		}
		d.hist = append(d.hist, replayStop(s))
	}
	if d.lines {
		go d.warmReplay(run, all)
	}
	return nil
}

// warmReplay has a warm interpreter ready for the first re-execution of
// a replay with line history (launch/warm.go): the interpreter resuming
// the run's last snapshot would use, and its hash seed. Only for a
// snapshot signed with the user's key (checked once for the session, off
// the engine's lock: it reads the whole state): the interpreter's path
// comes from it, and opening a recording to browse it runs nothing an
// unchecked recording names.
func (d *Engine) warmReplay(run int64, all []wire.Summary) {
	last := int64(0)
	for _, s := range all {
		if s.Run == run {
			last = s.N
		}
	}
	if d.verifyOnce(last) != nil {
		return
	}
	snap, err := d.store.Get(last)
	if err != nil {
		return
	}
	d.mu.Lock()
	python, ended := d.reexecPython(), d.ended
	d.mu.Unlock()
	if ended {
		return // (closed meanwhile)
	}
	if python, err := launch.SnapshotPython(python, snap); err == nil {
		launch.Warm(python, snap.Meta.HashSeed)
	}
}

func replayStop(s wire.Summary) Stop {
	return Stop{Snap: s.N, Reason: "snapshot", Label: s.Reason, Summary: s}
}

// Reload adds the snapshots recorded since a replay was opened (a resumed
// run writes to the same recording) to its history, and says how many.
func (d *Engine) Reload() (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.replay || d.store == nil {
		return 0, nil
	}
	run := d.run
	if d.open.AllRuns {
		run = 0
	}
	list, err := d.store.List(run)
	if err != nil {
		return 0, err
	}
	known := map[int64]bool{}
	for _, st := range d.hist {
		known[st.Snap] = true
	}
	n := 0
	for _, s := range list {
		if !known[s.N] {
			d.hist = append(d.hist, replayStop(s))
			n++
		}
	}
	return n, nil
}

// Start lets the program run (configurationDone), or shows the opening
// snapshot of a replay.
func (d *Engine) Start() error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return nil
	}
	d.started = true
	if d.replay || d.live == nil {
		d.mu.Unlock()
		if d.replay {
			d.emit(StoppedEvent{Reason: "entry", Description: "replaying the recording"})
		}
		return nil
	}
	l := d.live
	args := wire.StartArgs{BreakpointsArgs: d.bpPayload(), StopOnEntry: d.opts.StopOnEntry && !d.opts.NoDebug}
	// line history: a snapshot at the first line to re-execute from
	// (linehistory.go), not a stop (with stopOnEntry, that stop's is one)
	args.Anchor = d.lines
	d.mu.Unlock()
	return l.Call(wire.CmdStart, args, nil)
}

// WaitStop waits until the live program has stopped or ended (the first
// stop after Start), at most timeout. It consumes the engine's events: call
// it before a front end reads them.
func (d *Engine) WaitStop(timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		st := d.State()
		if !st.Live || !st.Running {
			return nil
		}
		select {
		case _, ok := <-d.Events():
			if !ok {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("the program did not stop within %v", timeout)
		}
	}
}

// Terminate ends the live program (its exit is reported), or ends a replay.
func (d *Engine) Terminate() {
	d.killCopy() // its end is reported as the session's
	d.mu.Lock()
	l := d.live
	ended := d.ended
	if l == nil {
		d.ended = true
	}
	d.mu.Unlock()
	if l != nil {
		l.Terminate(2 * time.Second)
		return
	}
	if !ended {
		d.emit(TerminatedEvent{})
	}
}

// Close ends everything without reporting: kills the live program and
// closes the recording.
func (d *Engine) Close() {
	d.mu.Lock()
	l, cp := d.live, d.copy
	d.live, d.copy = nil, nil // (a copy's end is then not reported)
	d.ended = true
	st := d.store
	past, lines := d.past, d.lines
	d.past = nil
	parked := d.parked
	d.parked = nil
	var making []chan struct{}
	for _, ch := range d.making {
		making = append(making, ch)
	}
	d.mu.Unlock()
	// a window being made in the background (prefetch) ends first: its
	// re-execution writes to the recording
	deadline := time.After(10 * time.Second)
	for _, ch := range making {
		select {
		case <-ch:
		case <-deadline:
		}
	}
	for _, pe := range past {
		pe.close()
	}
	if l != nil {
		l.Kill()
	}
	if cp != nil {
		cp.Kill()
	}
	d.parking.Wait() // (ended: none starts after this)
	d.waitRunning(10 * time.Second)
	if parked != nil {
		parked.end(10 * time.Second) // (before the store closes: it drops its run)
	}
	if st != nil {
		st.Close()
	}
	if lines {
		launch.Cool() // (the warm interpreters waiting for its re-executions)
	}
	d.events.close()
}

func absPath(p, base string) string {
	if p == "" {
		return p
	}
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		if base == "" {
			base, _ = os.Getwd()
		}
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}
