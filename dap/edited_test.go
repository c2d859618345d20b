package dap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// "allowEdited": true: Resume from Here after fixing the bug continues in
// the edited source (the fix in a function off the stack is what runs),
// and says so in the Debug Console.
func TestResumeFromHereEdited(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"orders.py", "pricing.py"} {
		b, err := os.ReadFile(filepath.Join(testutil.Root(), "e2e", "testdata", "edits", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	py := testutil.PythonFor(t, "3.11")
	db := filepath.Join(dir, "rec.db")
	if r := (testutil.Cmd{Dir: dir}).Pyreplay(t, "record", "--python", py, "--db", db, "-b", "orders.py:26@2", "orders.py"); r.Code != 1 {
		t.Fatalf("record: %+v", r)
	}
	pricing := filepath.Join(dir, "pricing.py")
	b, _ := os.ReadFile(pricing)
	fixed := strings.Replace(string(b), `return o["qty"] * o["price"]`, `return o["qty"] * (o["price"] or 0.0)`, 1)
	if err := os.WriteFile(pricing, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"recording": db, "allowEdited": true, "python": py})
	c.event("initialized")
	c.request("configurationDone", nil)
	c.stopped()
	c.request("pyreplayResume", nil)
	c.event("continued")
	c.stopped() // where the snapshot was taken, in the fresh process
	c.request("continue", msg{"threadId": 1})
	c.expectExit(0)
	out := c.output.String()
	if !strings.Contains(out, "pricing.py: changed function cost") || !strings.Contains(out, " cake: 0.00\n  jam: 7.20\n") {
		t.Fatalf("output:\n%s", out)
	}
}
