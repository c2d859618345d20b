package dap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// A recording made under another key replays in VS Code — the stack and
// the variables come from the views — but evaluation in the past and
// Resume from Here refuse with one line that says what to do, and nothing
// runs; "trust": true signs it with the user's key and both work.
func TestReplayForeignRecording(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.py")
	src := "def f(x):\n    y = x * 2\n    return y\nprint(\"got\", f(21))\n"
	if err := os.WriteFile(prog, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	them := testutil.Cmd{Dir: dir, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "cfg-theirs")}}
	if r := them.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:2", "prog.py"); r.Code != 0 {
		t.Fatalf("record: %+v", r)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "cfg-mine")) // the adapter's user

	open := func(trust bool) (*client, int) {
		c := newClient(t)
		c.request("initialize", msg{"adapterID": "pyreplay"})
		c.request("launch", msg{"recording": db, "python": py, "trust": trust})
		c.event("initialized")
		c.request("configurationDone", nil)
		c.stopped()
		frames := c.request("stackTrace", msg{"threadId": 1}).body().list("stackFrames")
		if len(frames) == 0 || frames[0].num("line") != 2 {
			t.Fatalf("stack: %v", frames)
		}
		return c, frames[0].num("id")
	}
	c, top := open(false)
	if x, ok := c.locals(top)["x"]; !ok || x.str("value") != "21" {
		t.Fatalf("the views of a foreign recording: %v", c.locals(top))
	}
	for _, req := range []struct {
		cmd  string
		args msg
	}{
		{"evaluate", msg{"expression": "x + 100", "frameId": top, "context": "repl"}},
		{"pyreplayResume", nil},
	} {
		e := c.requestErr(req.cmd, req.args)
		if !strings.Contains(e, "not recorded under your pyreplay key") || !strings.Contains(e, `"trust": true`) || strings.Contains(e, "\n") {
			t.Fatalf("%s on a foreign recording: %q", req.cmd, e)
		}
	}
	if strings.Contains(c.output.String(), "got") {
		t.Fatalf("the program ran: %q", c.output.String())
	}

	c2, top2 := open(true)
	if v := c2.eval(top2, "x + 100", "repl"); v.str("result") != "121" {
		t.Fatalf("evaluate after trust: %v", v)
	}
}
