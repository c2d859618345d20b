package dap_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// A session that is over leaves nothing of itself running in the server:
// the engine's event queue handed its last events (the program's exit,
// said after the client went away) to no one, and its goroutine waited
// for a reader for the server's lifetime, one per session.
func TestSessionLeavesNoGoroutines(t *testing.T) {
	f := setup(t, "straight.py", "3.11")
	c := newClient(t)
	c.launch(f, nil, nil, nil)
	c.event("exited")
	c.conn.Close()
	select {
	case err := <-c.done:
		c.done <- err // (for the client's cleanup)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not end within 10s of the client going away")
	}
	// (the tests of this package run one at a time: none is another's)
	var left []byte
	for wait := 0; wait < 100; wait++ {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = nil
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("session.(*eventQueue).run")) {
				left = append(left, g...)
			}
		}
		if left == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("an ended session's event queue is still waiting:\n%s", left)
}
