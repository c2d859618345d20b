package session

// Parked re-executions: the next re-execution from an anchor, made ready
// ahead. Resuming an anchor (Go plans the resume, a warm interpreter
// loads the configuration, compiles the plan's code, loads the state and
// rebuilds the stack) is 30-50 ms of every re-execution before the
// program's first line runs again, and a Reverse Continue sent right
// after setting a breakpoint waits for all of it. So once a live stop's
// window is made (prefetchLoop), a re-execution from its anchor is
// started with no spec: it resumes, arrives at the anchor's line and
// waits there (the shim's linehistory._park) until the spec of the next
// re-execution from that anchor comes through a FIFO, then runs as one
// started with it: same events, same output, since nothing of the
// program has run yet.
//
// pyreplay holds the FIFO's write end open from the start until the run
// ends (what a FIFO holds is gone once no one has it open, and the
// process may not have opened it yet): the parked process reads a line,
// the path of the spec's file; closing it without one ends the process
// (cancel, Close, or pyreplay's own end), as does the parent-death
// signal of any quiet run.

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
)

// parkedRun is a re-execution from anchor under python, waiting at its
// arrival for a spec.
type parkedRun struct {
	anchor int64
	python string
	dir    string   // private: the FIFO (the process removes both once it has it open)
	fifo   *os.File // its write end (held open: closing it with no spec ends the run)
	store  *recording.Store
	run    int64         // the run it records into (dropped once it ends unused)
	done   chan error    // its end
	ended  chan struct{} // closed once its run is over (the recording updated)
}

var errParkedGone = errors.New("the parked re-execution ended before its spec came")

// park starts, in the background, a parked re-execution from anchor (the
// one before stays when it is for the same anchor; any other is ended).
func (d *Engine) park(anchor int64) {
	d.mu.Lock()
	store, python, ended := d.store, d.reexecPython(), d.ended
	old := d.parked
	if ended || store == nil || (old != nil && old.anchor == anchor && old.python == python) {
		d.mu.Unlock()
		return
	}
	d.parked = nil
	// (Close waits for this: added while not ended, under d.mu)
	d.parking.Add(1)
	defer d.parking.Done()
	d.mu.Unlock()
	if old != nil {
		old.cancel()
	}
	p, err := startParked(store, python, anchor)
	if err != nil {
		return // (the next re-execution runs as any other)
	}
	d.mu.Lock()
	if d.ended || d.parked != nil {
		d.mu.Unlock()
		p.end(10 * time.Second)
		return
	}
	d.parked = p
	d.mu.Unlock()
	// (one nobody takes meanwhile ends, as a warm interpreter does: it
	// holds the program's state)
	time.AfterFunc(parkIdle, func() {
		d.mu.Lock()
		mine := d.parked == p
		if mine {
			d.parked = nil
		}
		d.mu.Unlock()
		if mine {
			p.cancel()
		}
	})
}

// parkIdle: a parked re-execution not taken within this ends.
const parkIdle = 2 * time.Minute

// startParked resumes anchor of store under python up to its arrival,
// where it waits for a spec (linehistory._park).
func startParked(store *recording.Store, python string, anchor int64) (*parkedRun, error) {
	// (the process reads until this end closes)
	dir, fifo, err := privateFIFO("pyreplay-park-", "spec.fifo")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "spec.fifo")
	prog, err := PrepareResume(launch.Options{Store: store, Snap: anchor, Python: python, History: &launch.HistorySpec{Park: path}}, false)
	if err == nil && prog.Image != "" {
		err = errors.New("a CRIU image is restored, not parked")
	}
	if err != nil {
		fifo.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	prog.Quiet = true
	p := &parkedRun{anchor: anchor, python: python, dir: dir, fifo: fifo, store: store, run: prog.Config.Run,
		done: make(chan error, 1), ended: make(chan struct{})}
	go func() {
		_, err := prog.Run()
		p.done <- err
		close(p.ended)
	}()
	return p, nil
}

// takeParked is the parked re-execution from anchor under python, taken
// (nil when there is none, or it ended).
func (d *Engine) takeParked(anchor int64, python string) *parkedRun {
	d.mu.Lock()
	p := d.parked
	if p == nil || p.anchor != anchor || p.python != python {
		d.mu.Unlock()
		return nil
	}
	d.parked = nil
	d.mu.Unlock()
	return p
}

// finish runs p with spec (its Out set): the spec's file named where p
// reads it, then its end awaited (or its word that its lines are
// written: runStatus). errParkedGone: it ended before, or
// wrote nothing to Out (the caller drops its run and runs the
// re-execution anew).
func (p *parkedRun) finish(spec *launch.HistorySpec, status *runStatus) error {
	defer p.cleanup()
	select {
	case <-p.done:
		return errParkedGone
	default:
	}
	// (not in p.dir: the process removes it once it has the FIFO open)
	var specFile string
	b, err := json.Marshal(spec)
	if err == nil {
		var f *os.File
		if f, err = os.CreateTemp(scratch.Dir(), "pyreplay-spec-*.json"); err == nil {
			specFile = f.Name()
			defer os.Remove(specFile)
			_, err = f.Write(b)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err == nil {
		// (a line: the write end stays open until the run ends, for what
		// it writes is gone once no one holds the FIFO open, and the
		// process may not have opened it yet)
		_, err = p.fifo.WriteString(specFile + "\n")
	}
	if err != nil {
		p.fifo.Close()
	}
	if err != nil {
		<-p.done
		return err
	}
	end := status.wait(p.done)
	if st, serr := os.Stat(spec.Out); serr != nil || st.Size() == 0 {
		return errParkedGone
	}
	return end
}

// cancel ends p without running it (its FIFO closed with no spec), in
// the background.
func (p *parkedRun) cancel() {
	p.fifo.Close()
	go func() {
		<-p.done
		p.cleanup()
		_ = p.store.DropRun(p.run) // (it ran nothing)
	}()
}

// end ends p as cancel does, and waits (at most `wait`) until it has: it
// has the recording open, whose directory may go next (Close).
func (p *parkedRun) end(wait time.Duration) {
	p.fifo.Close()
	select {
	case <-p.done:
		_ = p.store.DropRun(p.run) // (it ran nothing)
	case <-time.After(wait):
	}
	p.cleanup()
}

func (p *parkedRun) cleanup() {
	p.fifo.Close()
	os.RemoveAll(p.dir)
}
