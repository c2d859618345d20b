package session

// Evaluating arbitrary expressions in the past: a helper Python process
// (pyshim/pyreplay_shim/pasteval.py) loads the snapshot's state afresh for
// each evaluation and evaluates there, so the live program is never
// touched and every evaluation sees the past exactly as recorded.

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/pyshim"
	"github.com/pyreplay/pyreplay/wire"
)

type pastEval struct {
	mu     sync.Mutex
	python string
	db     string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	id     int
}

func (p *pastEval) start() error {
	boot, err := pyshim.Install()
	if err != nil {
		return err
	}
	shim := filepath.Dir(boot)
	cmd := exec.Command(p.python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); del sys.argv[1]; from pyreplay_shim import pasteval; pasteval.main()", shim, p.db)
	key, err := trust.UserKey()
	if err != nil {
		return err
	}
	// the key reaches this process only (pasteval.load checks each snapshot's signature)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYREPLAY_KEY="+hex.EncodeToString(key))
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s for evaluating in the past: %v", p.python, err)
	}
	p.cmd, p.in, p.out = cmd, in, bufio.NewReader(out)
	return nil
}

func (p *pastEval) stopLocked() {
	if p.cmd != nil {
		p.in.Close()
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// eval evaluates expr in frame of snapshot s (timeout: CommandTimeout).
func (p *pastEval) eval(s *wire.Snapshot, frame int, expr string) (wire.Value, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		if err := p.start(); err != nil {
			return wire.Value{}, err
		}
	}
	p.id++
	mod := s.Frames[frame].ModuleName
	b, _ := json.Marshal(map[string]any{"id": p.id, "snap": s.N, "frame": frame, "module": mod, "expr": expr})
	type result struct {
		ID    int        `json:"id"`
		OK    bool       `json:"ok"`
		Value wire.Value `json:"value"`
		Error string     `json:"error"`
	}
	ch := make(chan result, 1)
	errc := make(chan error, 1)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		p.stopLocked()
		return wire.Value{}, errors.New("the evaluator for the past ended")
	}
	go func(r *bufio.Reader) {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				errc <- err
				return
			}
			var res result
			if json.Unmarshal(line, &res) == nil && res.ID == p.id {
				ch <- res
				return
			}
		}
	}(p.out)
	select {
	case res := <-ch:
		if !res.OK {
			return wire.Value{}, errors.New(res.Error)
		}
		return res.Value, nil
	case <-errc:
		p.stopLocked()
		return wire.Value{}, errors.New("the evaluator for the past ended")
	case <-time.After(CommandTimeout):
		p.stopLocked()
		return wire.Value{}, fmt.Errorf("evaluating in the past took longer than %v", CommandTimeout)
	}
}

func (p *pastEval) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}
