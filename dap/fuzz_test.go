package dap

// Fuzzing the adapter's input (issue 11): the wire decoder alone, and
// streams of messages decoded and dispatched against a replay of a real
// recording (fixtures/tui/shop.json); plus a bounded random-request run
// through the real connection loop. `make test` fuzzes each briefly; plain
// `go test` runs the seed corpus in testdata/fuzz.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/recording"
)

// FuzzWire: whatever the bytes, the decoder returns a body of at most
// maxContentLen that reads back the same once framed again, or an error —
// always an error when no CR comes within maxHeaderLen bytes.
func FuzzWire(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		if i := bytes.IndexByte(in, '\r'); i < 0 || i > maxHeaderLen {
			if body, err := readMessage(bufio.NewReader(bytes.NewReader(in))); err == nil {
				t.Fatalf("a header without CR in %d bytes was accepted: %q", maxHeaderLen, body)
			}
		}
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			body, err := readMessage(r)
			if err != nil {
				return
			}
			if len(body) > maxContentLen {
				t.Fatalf("a body of %d bytes", len(body))
			}
			framed := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
			again, err := readMessage(bufio.NewReader(strings.NewReader(framed)))
			if err != nil || !bytes.Equal(again, body) {
				t.Fatalf("%q does not read back: %q %v", framed, again, err)
			}
		}
	})
}

// spawning lists the requests that start a Python process even in a
// replay (a resume; an evaluation in the past): the fuzzer must not run
// programs, and they would make it slow.
var spawning = map[string]bool{"pyreplayResume": true, "evaluate": true}

// FuzzDispatch: a stream of messages is decoded and each one dispatched to
// a session replaying a recording. Every message that is not well-formed
// JSON of another type than "request" gets exactly one response; none is an
// internal error (a recovered panic); everything written is framed JSON.
func FuzzDispatch(f *testing.F) {
	db := shopRecording(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, out := replayConn(t, db)
		defer c.dbg.Close()
		r := bufio.NewReader(bytes.NewReader(in))
		want := 0
		for {
			raw, err := readMessage(r)
			if err != nil {
				break
			}
			var req request
			jerr := json.Unmarshal(raw, &req)
			if jerr == nil && spawning[req.Command] {
				continue
			}
			if jerr != nil || req.Type == "request" {
				want++
			}
			c.handle(raw)
		}
		got := 0
		w := bufio.NewReader(out)
		for {
			raw, err := readMessage(w)
			if err != nil {
				break
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("the adapter wrote invalid JSON: %q", raw)
			}
			if m["type"] != "response" {
				continue
			}
			got++
			if msg, _ := m["message"].(string); strings.Contains(msg, "internal error") {
				t.Fatalf("%s", msg)
			}
		}
		if out.Len() > 0 {
			t.Fatalf("the adapter wrote %d bytes that are not a framed message", out.Len())
		}
		if got != want {
			t.Fatalf("%d responses to %d requests", got, want)
		}
	})
}

// TestRandomRequests sends 3,000 requests of every kind the adapter
// handles, with random arguments (numbers out of range, wrong types,
// nulls, stale references), through the real connection loop, to a replay
// session: each gets its response, and the adapter is still serving at
// the end.
func TestRandomRequests(t *testing.T) {
	db := shopRecording(t)
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- (&Server{}).Serve(b) }()
	defer func() {
		a.Close()
		<-done
	}()
	in := make(chan map[string]any, 64)
	go func() {
		r := bufio.NewReader(a)
		for {
			raw, err := readMessage(r)
			if err != nil {
				close(in)
				return
			}
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			if m["type"] == "response" {
				in <- m
			}
		}
	}()
	seq := 0
	call := func(cmd string, args any) map[string]any {
		seq++
		body, _ := json.Marshal(map[string]any{"seq": seq, "type": "request", "command": cmd, "arguments": args})
		_ = a.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if _, err := fmt.Fprintf(a, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
			t.Fatalf("request %d (%s): the adapter stopped reading: %v", seq, cmd, err)
		}
		select {
		case m, ok := <-in:
			if !ok {
				t.Fatalf("request %d (%s %v): the adapter closed the connection", seq, cmd, args)
			}
			if int(m["request_seq"].(float64)) != seq {
				t.Fatalf("request %d (%s): a response to %v", seq, cmd, m["request_seq"])
			}
			if msg, _ := m["message"].(string); strings.Contains(msg, "internal error") {
				t.Fatalf("%s %v: %s", cmd, args, msg)
			}
			return m
		case <-time.After(20 * time.Second):
			t.Fatalf("request %d (%s %v): no response", seq, cmd, args)
			return nil
		}
	}
	call("initialize", map[string]any{"adapterID": "pyreplay"})
	if m := call("launch", map[string]any{"recording": db}); m["success"] != true {
		t.Fatalf("launch: %v", m["message"])
	}
	var cmds []string
	for name := range handlers {
		if !spawning[name] && name != "disconnect" && name != "terminate" {
			cmds = append(cmds, name)
		}
	}
	for name := range unsupported {
		cmds = append(cmds, name)
	}
	cmds = append(cmds, "noSuchRequest")
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 3000; i++ {
		cmd := cmds[rng.Intn(len(cmds))]
		call(cmd, randomArgs(rng))
	}
	if m := call("threads", nil); m["success"] != true {
		t.Fatalf("threads after the random requests: %v", m)
	}
}

var argNames = []string{"threadId", "frameId", "variablesReference", "start", "count", "startFrame", "levels",
	"source", "breakpoints", "lines", "filters", "filterOptions", "expression", "context", "format", "sourceReference",
	"path", "line", "column", "condition", "hitCondition", "logMessage", "name", "snapshot", "granularity", "singleThread"}

// randomArgs makes an arguments object of a few known names with values
// of any JSON type, biased towards the numbers that matter: 0, 1, small
// handles, negatives and the extremes.
func randomArgs(rng *rand.Rand) any {
	switch rng.Intn(10) {
	case 0:
		return nil
	case 1:
		return []any{1, "x"}
	}
	args := map[string]any{}
	for n := rng.Intn(5); n >= 0; n-- {
		args[argNames[rng.Intn(len(argNames))]] = randomValue(rng, 2)
	}
	return args
}

func randomValue(rng *rand.Rand, depth int) any {
	switch k := rng.Intn(12); {
	case k < 4:
		return []int{0, 1, 2, 3, 5, 8, -1, -1 << 31, 1<<31 - 1, 1 << 53}[rng.Intn(10)]
	case k < 6:
		return []string{"", "x", "shop.py", "snap-3", "1 +", "\x00", strings.Repeat("a", 300)}[rng.Intn(7)]
	case k == 6:
		return nil
	case k == 7:
		return rng.Intn(2) == 0
	case k == 8:
		return 1.5
	case depth > 0 && k == 9:
		l := make([]any, rng.Intn(4))
		for i := range l {
			l[i] = randomValue(rng, depth-1)
		}
		return l
	case depth > 0:
		m := map[string]any{}
		for n := rng.Intn(3); n >= 0; n-- {
			m[argNames[rng.Intn(len(argNames))]] = randomValue(rng, depth-1)
		}
		return m
	}
	return 0
}

// replayConn is a connection whose output goes to a buffer, already
// replaying db.
func replayConn(t testing.TB, db string) (*conn, *bytes.Buffer) {
	out := &bytes.Buffer{}
	c := newConn(&Server{}, bufferRW{out})
	c.handle([]byte(`{"seq":1,"type":"request","command":"initialize","arguments":{"adapterID":"pyreplay"}}`))
	launch, _ := json.Marshal(map[string]any{"seq": 2, "type": "request", "command": "launch", "arguments": map[string]any{"recording": db}})
	c.handle(launch)
	if !bytes.Contains(out.Bytes(), []byte(`"request_seq":2,"success":true`)) {
		t.Fatalf("replay launch failed: %s", out.Bytes())
	}
	out.Reset()
	return c, out
}

type bufferRW struct{ *bytes.Buffer }

func (bufferRW) Close() error { return nil }

var (
	shopOnce sync.Once
	shopPath string
	shopErr  error
)

// shopRecording writes fixtures/tui/shop.json (a real recording of
// fixtures/tui/shop.py, normalised) into a recording, once per process.
func shopRecording(t testing.TB) string {
	shopOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pyreplay-dap-fuzz-")
		if err != nil {
			shopErr = err
			return
		}
		shopPath = filepath.Join(dir, "shop.db")
		shopErr = writeShop(shopPath)
	})
	if shopErr != nil {
		t.Fatal(shopErr)
	}
	return shopPath
}

func writeShop(path string) error {
	b, err := os.ReadFile(filepath.Join(testutil.Fixtures(), "tui", "shop.json"))
	if err != nil {
		return err
	}
	var fx struct {
		Runs      []map[string]any `json:"runs"`
		Snapshots []map[string]any `json:"snapshots"`
		Sources   []map[string]any `json:"sources"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		return err
	}
	st, err := recording.Create(path)
	if err != nil {
		return err
	}
	defer st.Close()
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for _, r := range fx.Runs {
		if _, err := st.DB.Exec(`INSERT INTO runs(id, program, argv, cwd, python, version, started, ended, exit_code) VALUES (?,?,?,?,?,?,?,?,?)`,
			r["id"], r["program"], js(r["argv"]), r["cwd"], r["python"], r["version"], r["started"], r["ended"], r["exit_code"]); err != nil {
			return err
		}
	}
	for _, s := range fx.Snapshots {
		if _, err := st.DB.Exec(`INSERT INTO snapshots(id, run, reason, label, file, line, function, time, stdout_bytes, stderr_bytes, frames, globals, placeholders, meta, state, size)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, s["id"], s["run"], s["reason"], s["label"], s["file"], s["line"], s["function"], s["time"],
			s["stdout_bytes"], s["stderr_bytes"], js(s["frames"]), js(s["globals"]), js(s["placeholders"]), js(s["meta"]), []byte{}, s["size"]); err != nil {
			return err
		}
	}
	for _, s := range fx.Sources {
		if _, err := st.DB.Exec(`INSERT INTO sources(sha256, path, text) VALUES (?,?,?)`, s["sha256"], s["path"], s["text"]); err != nil {
			return err
		}
	}
	return nil
}
