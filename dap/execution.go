package dap

import (
	"encoding/json"

	godap "github.com/google/go-dap"

	"github.com/pyreplay/pyreplay/recording"
)

func (c *conn) onContinue(req *request) (any, error) {
	c.h.reset()
	if err := c.dbg.Continue(); err != nil {
		return nil, err
	}
	return godap.ContinueResponseBody{AllThreadsContinued: true}, nil
}

func (c *conn) onNext(req *request) (any, error)    { return nil, c.step(req, "next") }
func (c *conn) onStepIn(req *request) (any, error)  { return nil, c.step(req, "stepIn") }
func (c *conn) onStepOut(req *request) (any, error) { return nil, c.step(req, "stepOut") }

// step steps the stopped thread; another thread, held at its next line
// while this stop lasts, cannot step on its own: said, rather than
// stepping the stopped one instead.
func (c *conn) step(req *request, kind string) error {
	var a godap.NextArguments // (stepIn's and stepOut's have the same threadId)
	if err := decode(req, &a); err != nil {
		return err
	}
	if stopped := c.stoppedThread(); a.ThreadId != 0 && a.ThreadId != stopped {
		return errorf("thread %d is held at its next line while thread %d is stopped: step thread %d, or continue (a breakpoint or step reached in thread %d then stops there)",
			a.ThreadId, stopped, stopped, a.ThreadId)
	}
	c.h.reset()
	return c.dbg.Step(kind)
}

func (c *conn) onStepBack(req *request) (any, error) {
	c.h.reset()
	return nil, c.dbg.StepBack()
}

func (c *conn) onReverseContinue(req *request) (any, error) {
	c.h.reset()
	return nil, c.dbg.ReverseContinue()
}

func (c *conn) onPause(req *request) (any, error) {
	return nil, c.dbg.Pause()
}

// ResumeArgs are the arguments of the custom request "pyreplayResume".
type ResumeArgs struct {
	Snapshot json.RawMessage `json:"snapshot"` // snap-N or N; default: the current stop
}

// ResumeBody is its response body.
type ResumeBody struct {
	Snapshot string `json:"snapshot"`
	Run      int64  `json:"run"`
}

// onResume: "Resume from here" — a fresh process continues from the
// snapshot of the current stop (past or live) and is debugged from then on.
func (c *conn) onResume(req *request) (any, error) {
	var a ResumeArgs
	if err := decode(req, &a); err != nil {
		return nil, err
	}
	n, err := snapArg(a.Snapshot)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		st, _, _, err := c.dbg.Current()
		if err != nil {
			return nil, err
		}
		n = st.Snap
	}
	c.h.reset()
	run, err := c.dbg.ResumeFrom(n)
	if err != nil {
		return nil, err
	}
	return ResumeBody{Snapshot: recording.SnapID(n), Run: run}, nil
}
