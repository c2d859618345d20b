package session

// Re-executions for time travel by line: the program run again from an
// anchor snapshot, its effects going nowhere (the shim's linehistory.py and
// sandbox.py), up to a stop or a line event, for that stretch's line
// events (a window) or a recorded snapshot of one of its lines.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
)

// A window keeps the last WindowEvents line events of its stretch (and
// each live frame's state where they begin); the events before are
// another window, made when going back reaches them (earlier). The
// re-execution only counts the events before those it keeps, forking a
// copy of itself every WindowForkEvery events for the one nearest them to
// record from (linehistory.py Checkpoints).
var (
	WindowEvents    = 5000
	WindowForkEvery = 20000
)

// reexecute is the window of the stretch that ends at stop: the program
// run again from the latest snapshot of stop's run before it that resumes
// exactly (nil when there is none), tracing the code of stop's frames and
// of the breakpoints set now, up to stop.
func (d *Engine) reexecute(store *recording.Store, python string, stop int64) (*lineWindow, error) {
	if store == nil {
		return nil, nil
	}
	target, err := store.Get(stop)
	if err != nil {
		return nil, err
	}
	all, err := store.List(target.Run)
	if err != nil {
		return nil, err
	}
	anchor := int64(0)
	for k := len(all) - 1; k >= 0 && anchor == 0; k-- {
		if s := all[k]; s.N < stop && s.Run == target.Run {
			if v, _ := launch.ResumeVerdict(store, s.N); v == launch.ResumeExact {
				anchor = s.N
			}
		}
	}
	if anchor == 0 {
		return nil, nil
	}
	until := launch.HistoryUntil{Stdout: target.StdoutBytes, Stderr: target.StderrBytes, Last: target.Reason == "exception"}
	// traced: the stop's frames' codes and the breakpoints' (set now)
	scope := &launch.HistoryScope{}
	bpLines := map[string]bool{}
	d.mu.Lock()
	for f, list := range d.lineBPs {
		for _, b := range list {
			scope.Lines = append(scope.Lines, [3]any{f, b.Line, b.Condition})
			bpLines[bpKey(f, b)] = true
		}
	}
	d.mu.Unlock()
	for _, f := range target.Frames {
		if f.Library {
			continue
		}
		name := f.Function
		if k := strings.LastIndexByte(name, '.'); k >= 0 {
			name = name[k+1:] // (a qualified name: the code's own is its last part)
		}
		scope.Codes = append(scope.Codes, [2]any{f.File, name})
		until.Stack = append(until.Stack, [2]any{f.File, f.Line})
		reprs := map[string]string{}
		for k, v := range f.Locals {
			// (a repr with an address, "<... at 0x...>", differs from run
			// to run: it cannot tell two moments apart)
			if v.Type != "<redacted>" && v.Repr != "<redacted>" && !strings.Contains(v.Repr, " at 0x") {
				reprs[k] = v.Repr
			}
		}
		until.Locals = append(until.Locals, reprs)
	}
	w, err := d.reexecuteTo(store, python, anchor, stop, scope, until)
	if err != nil {
		return nil, err
	}
	w.bpLines = bpLines
	return w, nil
}

// reexecuteTo runs the stretch from anchor to stop again with scope, up to
// until (stop's stack, or a line event's number), and reads its window.
func (d *Engine) reexecuteTo(store *recording.Store, python string, anchor, stop int64, scope *launch.HistoryScope, until launch.HistoryUntil) (*lineWindow, error) {
	spec := &launch.HistorySpec{Until: until, Scope: scope, Limit: WindowEvents, ForkEvery: WindowForkEvery}
	lines, run, err := reexecution(store, python, anchor, spec)
	if err != nil {
		return nil, fmt.Errorf("cannot go back by line from %s: resuming %s: %v", recording.SnapID(stop), recording.SnapID(anchor), err)
	}
	_ = store.DropRun(run) // (it keeps nothing)
	w := &lineWindow{anchor: anchor, stop: stop, head: stop, scope: scope, bpLines: map[string]bool{}}
	end, err := w.parse(lines)
	if err != nil {
		return nil, err
	}
	if until.Last {
		// the stop is the last event with its stack and output
		cut := -1
		for k, e := range w.events {
			if e.C == 1 {
				cut = k
			}
		}
		w.events = w.events[:cut+1]
		if cut >= 0 {
			end = "matched"
		}
	}
	if end != "matched" {
		return nil, fmt.Errorf("%w: re-executing the program from %s did not reach %s (a stop between lines, as a step out's; or its input, files or environment differ from the recorded run's)",
			errUnreached, recording.SnapID(anchor), recording.SnapID(stop))
	}
	return w, nil
}

// recordedStop makes the line of the past n (a virtual stop) a recorded
// snapshot: the program is re-executed from its window's anchor, effects
// going nowhere, to that line event (by its number, with the window's
// scope), snapshotted there and ended (the run is kept): what Resume from
// Here resumes from. n > 0 is returned as it is.
func (d *Engine) recordedStop(n int64) (int64, error) {
	d.mu.Lock()
	v, ok := d.virtual[n]
	made, done := d.recorded[n]
	store, python := d.store, d.reexecPython()
	d.mu.Unlock()
	if !ok {
		return n, nil
	}
	if done {
		return made, nil
	}
	e := v.w.events[v.i]
	if !e.line() {
		return 0, errors.New("this is a caller's line in the middle of a call, not a line event of the history: step back into a traced frame's line first")
	}
	at := e.N
	spec := &launch.HistorySpec{Until: launch.HistoryUntil{Event: &at}, Scope: v.w.scope, Snapshot: true}
	lines, run, err := reexecution(store, python, v.w.anchor, spec)
	if err != nil {
		return 0, err
	}
	var snap int64
	for _, l := range lines {
		if end, ok := endOf(l); ok {
			fmt.Sscanf(end, "snapshot %d", &snap)
		}
	}
	if snap <= 0 {
		_ = store.DropRun(run)
		return 0, fmt.Errorf("cannot resume from this line of the past: re-executing from %s did not reach it", recording.SnapID(v.w.anchor))
	}
	d.mu.Lock()
	d.recorded[n] = snap
	d.mu.Unlock()
	return snap, nil
}

// reexecution resumes anchor with spec (Out set here), its output going
// nowhere, and returns the lines it wrote (its events, then {"end": ...})
// and its run.
func reexecution(store *recording.Store, python string, anchor int64, spec *launch.HistorySpec) ([][]byte, int64, error) {
	out, err := os.CreateTemp("", "pyreplay-lines-*.jsonl")
	if err != nil {
		return nil, 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	spec.Out = out.Name()
	prog, err := PrepareResume(launch.Options{Store: store, Snap: anchor, Python: python, History: spec}, false)
	if err != nil {
		return nil, 0, err
	}
	prog.Quiet = true
	if _, err := prog.Run(); err != nil {
		return nil, prog.Config.Run, err
	}
	f, err := os.Open(out.Name())
	if err != nil {
		return nil, prog.Config.Run, err
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines, prog.Config.Run, sc.Err()
}

// endOf is the "end" of a re-execution's last line ({"end": ...}).
func endOf(line []byte) (string, bool) {
	if !strings.HasPrefix(string(line), `{"end"`) {
		return "", false
	}
	var e struct{ End string }
	_ = json.Unmarshal(line, &e)
	return e.End, true
}

// reexecPython is the interpreter re-executions run under: the session's.
func (d *Engine) reexecPython() string {
	if d.opts.Python != "" {
		return d.opts.Python
	}
	return d.python
}
