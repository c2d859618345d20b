package e2e

// `pyreplay dap` as VS Code runs it: the built binary on stdio, and
// --listen on loopback; no debuggee outlives its adapter.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

type dapConn struct {
	t   *testing.T
	w   io.Writer
	in  chan map[string]any
	seq int
}

func newDAPConn(t *testing.T, r io.Reader, w io.Writer) *dapConn {
	c := &dapConn{t: t, w: w, in: make(chan map[string]any, 256)}
	go func() {
		br := bufio.NewReader(r)
		for {
			var n int
			line, err := br.ReadString('\n')
			if err != nil {
				close(c.in)
				return
			}
			if _, err := fmt.Sscanf(line, "Content-Length: %d", &n); err != nil {
				continue
			}
			br.ReadString('\n')
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				close(c.in)
				return
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			c.in <- m
		}
	}()
	return c
}

func (c *dapConn) send(cmd string, args any) {
	c.seq++
	b, _ := json.Marshal(map[string]any{"seq": c.seq, "type": "request", "command": cmd, "arguments": args})
	fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(b), b)
}

// wait returns the first message for which match is true (deadline 20s).
func (c *dapConn) wait(what string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatalf("connection closed waiting for %s", what)
			}
			if match(m) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %s within 20s", what)
		}
	}
}

func isEvent(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == "event" && m["event"] == name }
}

func isResponse(cmd string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		if m["type"] == "response" && m["command"] == cmd {
			return true
		}
		return false
	}
}

// start launches slow.py (a long loop) and returns the debuggee's pid.
func (c *dapConn) start(prog, py, db string) int {
	c.t.Helper()
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	c.send("launch", map[string]any{"program": prog, "python": py, "db": db})
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		c.t.Fatalf("launch: %v", r["message"])
	}
	pid := int(c.wait("process", isEvent("process"))["body"].(map[string]any)["systemProcessId"].(float64))
	c.send("configurationDone", nil)
	c.wait("configurationDone", isResponse("configurationDone"))
	return pid
}

func gone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("debuggee %d outlived its adapter", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDAPStdioAdapterEndsDebuggee(t *testing.T) {
	dir := t.TempDir()
	prog := testutil.CopyFixture(t, "dap/slow.py", dir)
	py := testutil.PythonFor(t, "3.11")
	for _, how := range []string{"stdin closed", "adapter killed"} {
		t.Run(strings.ReplaceAll(how, " ", "_"), func(t *testing.T) {
			cmd := exec.Command(testutil.Binary(t), "dap")
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			c := newDAPConn(t, stdout, stdin)
			pid := c.start(prog, py, filepath.Join(dir, "rec.db"))
			c.send("pause", map[string]any{"threadId": 1})
			c.wait("stopped", isEvent("stopped"))
			if how == "stdin closed" {
				stdin.Close()
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("the adapter did not exit when its client went away")
				}
			} else {
				cmd.Process.Kill()
				cmd.Wait()
			}
			gone(t, pid, 10*time.Second)
		})
	}
}

func TestDAPListen(t *testing.T) {
	dir := t.TempDir()
	prog := testutil.CopyFixture(t, "dap/basic.py", dir)
	py := testutil.PythonFor(t, "3.11")
	cmd := exec.Command(testutil.Binary(t), "dap", "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(line)
	if addr == nil {
		t.Fatalf("no address in %q", line)
	}
	// two clients, one after the other
	for i := 0; i < 2; i++ {
		conn, err := net.DialTimeout("tcp", addr[1], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c := newDAPConn(t, conn, conn)
		c.send("initialize", map[string]any{"adapterID": "pyreplay"})
		c.wait("initialize", isResponse("initialize"))
		c.send("launch", map[string]any{"program": prog, "python": py, "db": filepath.Join(dir, "rec.db")})
		c.wait("initialized", isEvent("initialized"))
		c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []any{map[string]any{"line": 11}}})
		c.send("configurationDone", nil)
		c.wait("stopped", isEvent("stopped"))
		c.send("disconnect", map[string]any{})
		c.wait("disconnect", isResponse("disconnect"))
		conn.Close()
	}
}
