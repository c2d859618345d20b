package session

// Breakpoints of a debugging session: line, function and exception filters,
// sent to the live program and matched against the history's stops.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/wire"
)

// ------------------------------------------------------------------ breakpoints

// LineBreakpoints are the breakpoints set in one file.
func (d *Engine) LineBreakpoints(path string) []LineBreakpoint {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]LineBreakpoint(nil), d.lineBPs[absPath(path, "")]...)
}

// SetLineBreakpoints replaces the breakpoints of one file.
func (d *Engine) SetLineBreakpoints(path string, bps []LineBreakpoint) []BreakpointResult {
	path = absPath(path, "")
	out := make([]BreakpointResult, len(bps))
	d.mu.Lock()
	python := d.python
	d.mu.Unlock()
	// the lines CPython runs (nil in a replay, where no interpreter is
	// chosen: a breakpoint there matches the snapshots of its line)
	var lines []int
	var err error
	if python != "" {
		lines, err = launch.RunLines(python, path)
	} else if _, serr := os.Stat(path); serr != nil {
		err = serr
	}
	var keep []LineBreakpoint
	for i, b := range bps {
		out[i] = BreakpointResult{ID: b.ID, Line: b.Line}
		if err != nil {
			out[i].Message = fmt.Sprintf("cannot read %s: %v", path, err)
			continue
		}
		// a line CPython never runs moves to the next one that does
		line := b.Line
		if lines != nil {
			line = 0
			for _, l := range lines {
				if l >= b.Line {
					line = l
					break
				}
			}
		}
		if line == 0 {
			out[i].Message = fmt.Sprintf("line %d of %s has no code CPython runs, nor has any line after it", b.Line, filepath.Base(path))
			continue
		}
		b.Line = line
		out[i].Line = line
		out[i].Verified = true
		keep = append(keep, b)
	}
	d.mu.Lock()
	if len(keep) == 0 {
		delete(d.lineBPs, path)
	} else {
		d.lineBPs[path] = keep
	}
	d.mu.Unlock()
	// (the re-execution a Reverse Continue will need starts first: the
	// live program's round trip below takes 10-20 ms)
	d.speculate()
	d.applyBreakpoints(out)
	return out
}

// SetFunctionBreakpoints replaces the function breakpoints.
func (d *Engine) SetFunctionBreakpoints(bps []FuncBreakpoint) []BreakpointResult {
	out := make([]BreakpointResult, len(bps))
	d.mu.Lock()
	base, replay := d.baseDir, d.replay
	d.mu.Unlock()
	q := map[int][]string{}
	var keep []FuncBreakpoint
	for i, b := range bps {
		out[i] = BreakpointResult{ID: b.ID}
		name := strings.TrimSpace(b.Name)
		if replay {
			q[b.ID] = []string{name}
			out[i].Verified = true
			keep = append(keep, b)
			continue
		}
		res, err := launch.ParseBreakpoint(name, base, "")
		if err != nil || len(res) == 0 || res[0].Func == "" {
			if err == nil {
				err = fmt.Errorf("%q is not a function name", name)
			}
			out[i].Message = err.Error()
			continue
		}
		for _, r := range res {
			q[b.ID] = append(q[b.ID], r.Func)
		}
		out[i].Verified = true
		keep = append(keep, b)
	}
	d.mu.Lock()
	d.funcBPs, d.funcQ = keep, q
	d.mu.Unlock()
	d.applyBreakpoints(out)
	return out
}

// SetExceptionFilters sets the exception filters: raised, uncaught.
func (d *Engine) SetExceptionFilters(filters []string) error {
	if err := checkFilters(filters); err != nil {
		return err
	}
	d.mu.Lock()
	d.filters = append([]string(nil), filters...)
	d.mu.Unlock()
	d.applyBreakpoints(nil)
	return nil
}

func checkFilters(filters []string) error {
	for _, f := range filters {
		if f != "raised" && f != "uncaught" {
			return fmt.Errorf("unknown exception filter %q (pyreplay has \"raised\" and \"uncaught\")", f)
		}
	}
	return nil
}

func (d *Engine) bpPayload() wire.BreakpointsArgs {
	if d.opts.NoDebug {
		return wire.BreakpointsArgs{Lines: []wire.LiveBreakpoint{}, Funcs: []wire.LiveBreakpoint{}, Exceptions: []string{}, JustMyCode: true}
	}
	lines := []wire.LiveBreakpoint{}
	files := make([]string, 0, len(d.lineBPs))
	for f := range d.lineBPs {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		for _, b := range d.lineBPs[f] {
			lines = append(lines, wire.LiveBreakpoint{ID: b.ID, File: f, Line: b.Line, Cond: b.Condition, HitCond: b.HitCondition,
				Log: b.LogMessage, Spec: fmt.Sprintf("%s:%d", f, b.Line)})
		}
	}
	if d.entry != nil {
		lines = append(lines, *d.entry)
	}
	funcs := []wire.LiveBreakpoint{}
	for _, b := range d.funcBPs {
		for _, q := range d.funcQ[b.ID] {
			funcs = append(funcs, wire.LiveBreakpoint{ID: b.ID, Func: q, Cond: b.Condition, HitCond: b.HitCondition, Spec: b.Name})
		}
	}
	return wire.BreakpointsArgs{Lines: lines, Funcs: funcs, Exceptions: append([]string{}, d.filters...), JustMyCode: d.opts.JustMyCode}
}

// applyBreakpoints sends the whole breakpoint set to a started live program
// and marks the ones it rejected.
func (d *Engine) applyBreakpoints(res []BreakpointResult) {
	d.mu.Lock()
	l := d.live
	if l == nil || !d.started {
		d.mu.Unlock()
		return
	}
	args := d.bpPayload()
	d.mu.Unlock()
	var body wire.BreakpointsReply
	if err := l.Call(wire.CmdBreakpoints, args, &body); err != nil {
		d.emit(OutputEvent{Category: "console", Text: fmt.Sprintf("pyreplay: breakpoints not applied yet: %v\n", err)})
		return
	}
	for i := range res {
		if msg, ok := body.Errors[fmt.Sprint(res[i].ID)]; ok {
			res[i].Verified = false
			res[i].Message = msg
		}
	}
}

// matches says whether a stop is one a breakpoint would stop at: the
// target of continue / reverse continue in history. With no line or
// function breakpoint, a replay stops everywhere.
func (d *Engine) matches(i int) bool {
	st := d.hist[i]
	if _, past := d.virtual[st.Snap]; past {
		// a line of the past (line history): a breakpoint's hits there
		// are found by line (continueLine, reverseContinueLine), and one
		// visited before is no stop of its own
		return false
	}
	s, err := d.snapLocked(st.Snap)
	if err != nil {
		return false
	}
	if len(d.lineBPs) == 0 && len(d.funcBPs) == 0 {
		if d.replay {
			return true
		}
	}
	if st.Reason == "exception" || (d.replay && st.Label == "exception") {
		if len(d.filters) > 0 {
			return true
		}
	}
	if top := topUser(s); top != nil {
		for _, b := range d.lineBPs[absPath(top.File, "")] {
			if b.Line == top.Line && b.LogMessage == nil {
				return true
			}
		}
	}
	for _, b := range d.funcBPs {
		names := d.funcQ[b.ID]
		for _, q := range names {
			if s.Function == q || strings.HasSuffix(s.Function, "."+q) {
				if top := topUser(s); top != nil && (top.Kind == "entry" || top.Kind == "hook" || st.Reason == "function" || st.Label == "function") {
					return true
				}
			}
		}
	}
	return false
}

// setSpecs makes resolved command-line breakpoints (launch.Build: the
// CLI's rule, which refuses a line without code) the session's line and
// function breakpoints, replacing them. A spec's breakpoints share its id
// (its place among the specs, from 1).
func (d *Engine) setSpecs(bps []launch.Breakpoint) {
	lines := map[string][]LineBreakpoint{}
	var funcs []FuncBreakpoint
	q := map[int][]string{}
	for _, b := range bps {
		id := b.Index + 1
		if b.Func != "" {
			if len(q[id]) == 0 {
				funcs = append(funcs, FuncBreakpoint{ID: id, Name: strings.TrimSpace(b.Spec)})
			}
			q[id] = append(q[id], b.Func)
			continue
		}
		lb := LineBreakpoint{ID: id, Line: b.Line, Condition: b.Cond}
		if b.Hit > 0 {
			lb.HitCondition = fmt.Sprintf("==%d", b.Hit)
		}
		lines[b.File] = append(lines[b.File], lb)
	}
	d.mu.Lock()
	d.lineBPs, d.funcBPs, d.funcQ = lines, funcs, q
	d.mu.Unlock()
}

// LineMarks are the lines to mark as breakpoints in a source view, by
// absolute file: the line breakpoints set, and the lines where the history
// stopped at a breakpoint or on entering a function.
func (d *Engine) LineMarks() map[string]map[int]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]map[int]bool{}
	add := func(file string, line int) {
		if out[file] == nil {
			out[file] = map[int]bool{}
		}
		out[file][line] = true
	}
	for f, bps := range d.lineBPs {
		for _, b := range bps {
			add(f, b.Line)
		}
	}
	for _, st := range d.hist {
		if r := st.Summary.Reason; r == "breakpoint" || r == "function" {
			add(st.Summary.File, st.Summary.Line)
		}
	}
	return out
}
