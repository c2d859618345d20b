package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dapClient is a minimal Debug Adapter Protocol client over a child
// process's stdio. Messages are kept as generic JSON so that it talks to any
// adapter (pyreplay's and debugpy's, whose custom events go-dap cannot decode).
type dapClient struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	wmu   sync.Mutex
	seq   int
	msgs  chan map[string]any
	back  []map[string]any // read but not yet wanted
	done  chan struct{}
	rerr  error
	trace func(dir string, m map[string]any)
}

func startDAP(cmd *exec.Cmd) (*dapClient, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &dapClient{cmd: cmd, in: in, msgs: make(chan map[string]any, 1024), done: make(chan struct{})}
	go c.read(bufio.NewReaderSize(out, 1<<20))
	return c, nil
}

func (c *dapClient) read(r *bufio.Reader) {
	defer close(c.done)
	tp := textproto.NewReader(r)
	for {
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			c.rerr = err
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			c.rerr = fmt.Errorf("bad header %v", h)
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			c.rerr = err
			return
		}
		var m map[string]any
		if err := json.Unmarshal(buf, &m); err != nil {
			c.rerr = err
			return
		}
		if c.trace != nil {
			c.trace("<-", m)
		}
		c.msgs <- m
	}
}

// send writes a request and returns its seq.
func (c *dapClient) send(command string, args any) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.seq++
	m := map[string]any{"seq": c.seq, "type": "request", "command": command}
	if args != nil {
		m["arguments"] = args
	}
	b, _ := json.Marshal(m)
	if c.trace != nil {
		c.trace("->", m)
	}
	if _, err := fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		return 0, err
	}
	return c.seq, nil
}

// next returns the first message (backlog first) for which match is true.
func (c *dapClient) next(what string, timeout time.Duration, match func(map[string]any) bool) (map[string]any, error) {
	for i, m := range c.back {
		if match(m) {
			c.back = append(c.back[:i], c.back[i+1:]...)
			return m, nil
		}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case m := <-c.msgs:
			if match(m) {
				return m, nil
			}
			c.back = append(c.back, m)
		case <-c.done:
			// drain what was read before the end
			for {
				select {
				case m := <-c.msgs:
					if match(m) {
						return m, nil
					}
					c.back = append(c.back, m)
					continue
				default:
				}
				break
			}
			return nil, fmt.Errorf("adapter closed its output while waiting for %s (%v)", what, c.rerr)
		case <-deadline.C:
			return nil, fmt.Errorf("no %s within %s", what, timeout)
		}
	}
}

func (c *dapClient) response(seq int, timeout time.Duration) (map[string]any, error) {
	m, err := c.next(fmt.Sprintf("response to request %d", seq), timeout, func(m map[string]any) bool {
		return m["type"] == "response" && num(m["request_seq"]) == seq
	})
	if err != nil {
		return nil, err
	}
	if ok, _ := m["success"].(bool); !ok {
		return m, fmt.Errorf("%v failed: %v %v", m["command"], m["message"], m["body"])
	}
	return m, nil
}

func (c *dapClient) event(name string, timeout time.Duration) (map[string]any, error) {
	return c.next("event "+name, timeout, func(m map[string]any) bool {
		return m["type"] == "event" && m["event"] == name
	})
}

// call sends a request and waits for its successful response.
func (c *dapClient) call(command string, args any, timeout time.Duration) (map[string]any, error) {
	seq, err := c.send(command, args)
	if err != nil {
		return nil, err
	}
	return c.response(seq, timeout)
}

// dropEvents forgets the backlog of events (output and the like).
func (c *dapClient) dropEvents() {
	var keep []map[string]any
	for _, m := range c.back {
		if m["type"] != "event" {
			keep = append(keep, m)
		}
	}
	c.back = keep
	for {
		select {
		case m := <-c.msgs:
			if m["type"] != "event" {
				c.back = append(c.back, m)
			}
		default:
			return
		}
	}
}

func (c *dapClient) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

func num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	}
	return -1
}

func body(m map[string]any) map[string]any {
	b, _ := m["body"].(map[string]any)
	return b
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// openSession starts pyreplay dap in r.tmp, launches it with args (with
// the exception filters, when not nil) and waits for its first stop.
func (r *Results) openSession(args map[string]any, filters []string, to time.Duration) (*dapClient, error) {
	cmd := exec.Command(r.bin, "dap")
	cmd.Dir = r.tmp
	cmd.Env = cleanEnv()
	c, err := startDAP(cmd)
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { _, err := c.call("initialize", map[string]any{"adapterID": "pyreplay"}, to); return err },
		func() error { _, err := c.call("launch", args, to); return err },
		func() error { _, err := c.event("initialized", to); return err },
		func() error {
			if filters == nil {
				return nil
			}
			_, err := c.call("setExceptionBreakpoints", map[string]any{"filters": filters}, to)
			return err
		},
		func() error { _, err := c.call("configurationDone", nil, to); return err },
		func() error { _, err := c.event("stopped", to); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}
