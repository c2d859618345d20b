package session

// Stepping forward from a line of the past (line history): next, step in
// and step out walk the same line events the program ran, up to the
// stretch's stop (the present, or a replay's recorded stop), as they would
// have live.

import "github.com/pyreplay/pyreplay/launch"

// stepLine moves from the cursor's line of the past to the next line
// event kind asks for: next, the next one of the cursor's frame or, once
// that frame has returned (or yielded), of its callers; stepIn, the next
// one of any frame (the window re-executed tracing all the program's code
// first, rescope); stepOut, the next one of its callers. Past the
// last such event before the stretch's stop, the cursor goes to that
// stop. ok is false when the cursor is not a line of the past.
func (d *Engine) stepLine(kind string) (ok bool, err error) {
	v := d.pastCursor()
	if v == nil {
		return false, nil
	}
	w, i := v.w, v.i
	if kind == "stepIn" && !w.scope.All {
		// the callee's lines: the stretch re-executed tracing every code
		// of the program (once: the window then traces them all)
		d.mu.Lock()
		store, python := d.store, d.reexecPython()
		d.mu.Unlock()
		if w, i, err = d.rescope(store, python, w, i, &launch.HistoryScope{All: true}); err != nil || w == nil {
			return false, err
		}
	}
	// the frames that count, by serial in the window being scanned: the
	// cursor's and its callers' (next), its callers' (stepOut)
	frames := map[int64]bool{}
	for k, s := range w.chainAt(i) {
		if k > 0 || kind == "next" {
			frames[s] = true
		}
	}
	at := w
	hw, j := scanForward(w, i, func(x *lineWindow, j int) bool {
		if x != at {
			frames, at = framesIn(at, x, frames), x
		}
		e := &x.events[j]
		return e.line() && (kind == "stepIn" || frames[e.S])
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	if hw != nil {
		d.moveTo(d.insertVirtualLocked(hw, j), "step", "")
		return true, nil
	}
	// no such line before the stretch's stop: the stop itself
	for k, st := range d.hist {
		if st.Snap == v.w.head {
			d.moveTo(k, "step", "")
			return true, nil
		}
	}
	return false, nil
}

// framesIn is the frames of window w (by serial) in the window after it,
// nw: the same frames of the moment they share (w's last event, nw's
// first line event), matched from the outermost (serialIn).
func framesIn(w, nw *lineWindow, frames map[int64]bool) map[int64]bool {
	out := map[int64]bool{}
	for _, s := range nw.chainAt(nw.firstLine()) {
		if frames[nw.serialIn(w, s)] {
			out[s] = true
		}
	}
	return out
}

// pastCursor is the cursor's line of the past (line history), nil when
// the cursor is at a recorded stop or line history is off.
func (d *Engine) pastCursor() *virtualStop {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.lines || d.cur < 0 || d.cur >= len(d.hist) {
		return nil
	}
	return d.virtual[d.hist[d.cur].Snap]
}
