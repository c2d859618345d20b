package session

import (
	"bufio"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pyreplay/pyreplay/internal/scratch"
)

// runStatus is a FIFO a re-execution writes "done" to (its spec's Done)
// once its events are all in its Out file (pyshim lineout.said_done), so
// that they are read while its processes still end: ending costs 10-30 ms
// where page tables are virtualised, and a counting run ends after the
// forked copy that recorded its events, which ends first.
type runStatus struct {
	dir   string
	f     *os.File    // read and write: opening does not wait for a writer
	lines chan string // what the run wrote, a line at a time
}

func newRunStatus() (*runStatus, error) {
	dir, f, err := privateFIFO("pyreplay-status-", "status.fifo")
	if err != nil {
		return nil, err
	}
	s := &runStatus{dir: dir, f: f, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines) // (closed)
	}()
	return s, nil
}

func (s *runStatus) path() string { return filepath.Join(s.dir, "status.fifo") }

// wait is nil once the run said it is done, else the run's end (ended:
// its error); a nil s waits for the end alone.
func (s *runStatus) wait(ended <-chan error) error {
	if s == nil {
		return <-ended
	}
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return <-ended
			}
			if l == "done" {
				return nil
			}
		case err := <-ended:
			return err // (done, then ended: its Out is as complete)
		}
	}
}

// close ends the reader (after the runs' ends: what they write after it
// is lost).
func (s *runStatus) close() {
	if s != nil {
		s.f.Close()
		os.RemoveAll(s.dir)
		for range s.lines {
		}
	}
}

// privateFIFO is a FIFO named name in a new private directory of
// pyreplay's scratch directory (prefix), opened read and write: opening
// does not wait for the other end, and what is written stays until read
// while this end is open.
func privateFIFO(prefix, name string) (dir string, f *os.File, err error) {
	if dir, err = os.MkdirTemp(scratch.Dir(), prefix); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, name)
	if err = syscall.Mkfifo(path, 0o600); err == nil {
		f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, f, nil
}
