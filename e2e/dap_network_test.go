package e2e

// `pyreplay dap --listen` on the network (issue 11): loopback only unless
// --allow-remote, then a token in launch; a stalled or malformed client
// never keeps the next one waiting.

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// startListener runs `pyreplay dap --listen ARGS...` and returns the address
// it listens on and its first line on stderr.
func startListener(t *testing.T, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t), append([]string{"dap", "--listen"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	addr := regexp.MustCompile(`listening on (\S+?);?\s`).FindStringSubmatch(line)
	if addr == nil {
		t.Fatalf("no address in %q", line)
	}
	return addr[1], line
}

func dial(t *testing.T, addr string) (*dapConn, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return newDAPConn(t, conn, conn), conn
}

// A non-loopback address is refused without --allow-remote: nothing listens.
func TestDAPListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0"} {
		cmd := exec.Command(testutil.Binary(t), "dap", "--listen", addr)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not a loopback address") || strings.Contains(string(out), "listening on") {
			t.Errorf("--listen %s: %v %s", addr, err, out)
		}
	}
}

// With --allow-remote the adapter prints a token; a launch without it (or
// with another) is an error response and runs nothing, and nothing else is
// served before it; with the token the program runs.
func TestDAPAllowRemoteNeedsToken(t *testing.T) {
	dir := testutil.CopyFixture(t, "safety", t.TempDir())
	py := testutil.PythonFor(t, "3.12")
	db := filepath.Join(dir, "rec.db")
	marker := filepath.Join(dir, "ran")
	addr, line := startListener(t, "0.0.0.0:0", "--allow-remote")
	m := regexp.MustCompile(`"token": "([0-9a-f]{32})"`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no token printed: %q", line)
	}
	addr = strings.Replace(addr, "0.0.0.0", "127.0.0.1", 1)
	launch := map[string]any{"program": filepath.Join(dir, "marker.py"), "args": []string{marker}, "python": py, "db": db, "cwd": dir}
	for _, token := range []any{nil, "wrong"} {
		c, conn := dial(t, addr)
		c.send("initialize", map[string]any{"adapterID": "pyreplay"})
		c.wait("initialize", isResponse("initialize"))
		c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": filepath.Join(dir, "marker.py")}, "breakpoints": []any{}})
		if r := c.wait("setBreakpoints", isResponse("setBreakpoints")); r["success"] != false {
			t.Errorf("setBreakpoints before an authorized launch succeeded")
		}
		args := map[string]any{}
		for k, v := range launch {
			args[k] = v
		}
		if token != nil {
			args["token"] = token
		}
		c.send("launch", args)
		r := c.wait("launch", isResponse("launch"))
		if r["success"] != false || !strings.Contains(r["message"].(string), "token") {
			t.Errorf("launch with token %v: %v", token, r)
		}
		c.send("configurationDone", nil)
		c.wait("configurationDone", isResponse("configurationDone"))
		conn.Close()
	}
	// a failed launch answers before starting anything: nothing is running
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the program ran without the token")
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a recording was created without the token")
	}
	c, _ := dial(t, addr)
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	c.wait("initialize", isResponse("initialize"))
	launch["token"] = m[1]
	c.send("launch", launch)
	if r := c.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("launch with the token: %v", r["message"])
	}
	c.send("configurationDone", nil)
	c.wait("terminated", isEvent("terminated"))
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the program did not run with the token: %v", err)
	}
}

// A client that connects and says nothing, one that stops in the middle
// of a message, and one that sends a header line without end are dropped
// (the last at once, the others after --read-timeout); the next client is
// served.
func TestDAPStalledClients(t *testing.T) {
	addr, _ := startListener(t, "127.0.0.1:0", "--read-timeout", "1s")
	dial(t, addr) // silent
	_, partial := dial(t, addr)
	if _, err := partial.Write([]byte("Content-Length: 50\r\n\r\n{\"seq\":")); err != nil {
		t.Fatal(err)
	}
	endless, conn := dial(t, addr)
	go func() {
		// a header line without CR, 16 MB long: the adapter stops reading it
		// after a few bytes (once it serves this client) and closes
		junk := []byte("Content-Length: " + strings.Repeat("9", 1<<20))
		for i := 0; i < 16; i++ {
			if _, err := conn.Write(junk); err != nil {
				return
			}
		}
	}()
	c, _ := dial(t, addr)
	c.send("initialize", map[string]any{"adapterID": "pyreplay"})
	if r := c.wait("initialize", isResponse("initialize")); r["success"] != true {
		t.Fatalf("initialize: %v", r)
	}
	said := ""
	for m := range endless.in { // closed when the adapter closes the connection
		if b, ok := m["body"].(map[string]any); ok && m["event"] == "output" {
			said += b["output"].(string)
		}
	}
	if !strings.Contains(said, "unreadable message") {
		t.Errorf("the client with an endless header was told %q", said)
	}
}
