package dap

import (
	"github.com/pyreplay/pyreplay/wire"
)

// Thread ids: each Python thread keeps one id for the whole session (by
// its thread ident, which snapshots record), the main thread 1 and the
// others numbered as they are first seen, so that VS Code's threads stay
// put from stop to stop. A recording made before snapshots kept idents
// numbers them per stop: the stopped thread 1, the others after it.

// mainThreadID is the main thread's id (and the stopped thread's when the
// snapshot has no idents).
const mainThreadID = 1

// threadIDs are the ids of snapshot s's threads: the stopped one, then
// each of s.Meta.ThreadStacks.
func (c *conn) threadIDs(s *wire.Snapshot) (stopped int, others []int) {
	m := s.Meta
	if m.ThreadIdent == 0 {
		for k := range m.ThreadStacks {
			others = append(others, mainThreadID+1+k)
		}
		return mainThreadID, others
	}
	stopped = c.threadID(m.ThreadIdent, m.MainIdent)
	for _, t := range m.ThreadStacks {
		others = append(others, c.threadID(t.Ident, m.MainIdent))
	}
	return stopped, others
}

func (c *conn) threadID(ident, main int64) int {
	if ident == main {
		return mainThreadID
	}
	if c.tids == nil {
		c.tids = map[int64]int{}
	}
	id, ok := c.tids[ident]
	if !ok {
		id = mainThreadID + 1 + len(c.tids)
		c.tids[ident] = id
	}
	return id
}

// threadOf is which of s's threads id is: 0 the stopped one, k+1 its
// ThreadStacks[k]; -1 none.
func (c *conn) threadOf(s *wire.Snapshot, id int) int {
	stopped, others := c.threadIDs(s)
	if id == stopped {
		return 0
	}
	for k, o := range others {
		if o == id {
			return k + 1
		}
	}
	return -1
}

// framesOf are the frames of thread k of s (threadOf): the stopped
// thread's, or another thread's as recorded (views only).
func framesOf(s *wire.Snapshot, k int) []wire.Frame {
	if k == 0 {
		return s.Frames
	}
	if k-1 < len(s.Meta.ThreadStacks) {
		return s.Meta.ThreadStacks[k-1].Frames
	}
	return nil
}

// stoppedThread is the id of the current stop's thread.
func (c *conn) stoppedThread() int {
	_, s, _, err := c.dbg.Current()
	if err != nil || s == nil {
		return mainThreadID
	}
	id, _ := c.threadIDs(s)
	return id
}
