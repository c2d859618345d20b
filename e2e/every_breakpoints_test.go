package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// --every and a breakpoint together: a periodic checkpoint taken while a
// breakpoint's frame is traced (3.8-3.11: the hook compiled into the
// module) gives the tracing back, so the breakpoint still fires (before,
// on 3.8-3.11 it was missed once a checkpoint had been taken in its frame).
func TestEveryKeepsBreakpoints(t *testing.T) {
	prog := `import time
t0 = time.time()
while time.time() - t0 < 0.3:
    pass
import textwrap

text = textwrap.dedent("    hello\n")
print(text.strip())
`
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "slow.py"), []byte(prog), 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "rec.db")
		c := testutil.Cmd{Dir: dir}
		r := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "--every", "50ms", "-b", "slow.py:8", "slow.py")
		if r.Code != 0 || r.Stdout != "hello\n" {
			t.Fatalf("record: %+v", r)
		}
		ls := c.Pyreplay(t, "ls", "--db", db)
		if !strings.Contains(ls.Stdout, "periodic") || !strings.Contains(ls.Stdout, "breakpoint  slow.py:8") {
			t.Fatalf("want periodic snapshots and the breakpoint's at slow.py:8:\n%s", ls.Stdout)
		}
	})
}
