package e2e

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

const prunedProg = `total = 0
for i in range(4):
    total += i
print(total)
`

// A DAP replay of a run whose snapshots are being pruned (--max-snapshots
// deletes the oldest periodic ones while the run goes on) keeps working:
// the stack comes from the next snapshot that still exists, and only a
// session with no snapshot left answers with one clear error.
func TestDAPReplayPruned(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), []byte(prunedProg), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rec.db")
	c := testutil.Cmd{Dir: dir}
	if rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "prog.py:3", "prog.py"); rec.Code != 0 ||
		!strings.Contains(rec.Stderr, "recorded 4 snapshots") {
		t.Fatalf("record: %+v", rec)
	}
	cmd := exec.Command(testutil.Binary(t), "dap")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	d := newDAPConn(t, stdout, stdin)
	d.send("initialize", map[string]any{"adapterID": "pyreplay"})
	d.wait("initialize", isResponse("initialize"))
	d.send("launch", map[string]any{"recording": db})
	if r := d.wait("launch", isResponse("launch")); r["success"] != true {
		t.Fatalf("launch: %v", r["message"])
	}
	d.send("configurationDone", nil)
	d.wait("stopped", isEvent("stopped"))
	h, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	stack := func() map[string]any {
		d.send("stackTrace", map[string]any{"threadId": 1})
		return d.wait("stackTrace", isResponse("stackTrace"))
	}
	topLocal := func() string {
		r := stack()
		if r["success"] != true {
			t.Fatalf("stackTrace after pruning: %v", r["message"])
		}
		fr := r["body"].(map[string]any)["stackFrames"].([]any)
		id := fr[0].(map[string]any)["id"]
		d.send("scopes", map[string]any{"frameId": id})
		sc := d.wait("scopes", isResponse("scopes"))["body"].(map[string]any)["scopes"].([]any)
		d.send("variables", map[string]any{"variablesReference": sc[0].(map[string]any)["variablesReference"]})
		vs := d.wait("variables", isResponse("variables"))["body"].(map[string]any)["variables"].([]any)
		for _, v := range vs {
			if v.(map[string]any)["name"] == "i" {
				return v.(map[string]any)["value"].(string)
			}
		}
		t.Fatalf("no local i in %v", vs)
		return ""
	}
	if got := topLocal(); got != "0" {
		t.Fatalf("first stop: i = %s", got)
	}
	// pruned under the replay: the next two, not yet read
	if _, err := h.Exec(`DELETE FROM snapshots WHERE id IN (2, 3)`); err != nil {
		t.Fatal(err)
	}
	d.send("next", map[string]any{"threadId": 1})
	d.wait("stopped", isEvent("stopped"))
	for k := 0; k < 3; k++ {
		if got := topLocal(); got != "3" {
			t.Fatalf("after pruning (request %d): i = %s, want the next snapshot left (i = 3)", k, got)
		}
	}
	d.send("stepBack", map[string]any{"threadId": 1})
	d.wait("stopped", isEvent("stopped"))
	if got := topLocal(); got != "0" {
		t.Fatalf("step back over the pruned snapshots: i = %s", got)
	}
}
