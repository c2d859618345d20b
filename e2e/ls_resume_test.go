package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// ls and show say for each snapshot whether pyreplay resume would rebuild it
// exactly or refuse it, and why (the check resume makes, nothing run).
func TestLsSaysHowEachSnapshotResumes(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir, db := resFixture(t, "resume", "gens.py")
	c := testutil.Cmd{Dir: dir}
	// line 31 resumes exactly; line 44 stops inside a generator expression
	rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "gens.py:31", "-b", "gens.py:44@2", "gens.py")
	if rec.Code != 0 {
		t.Fatalf("record: %s", rec.Stderr)
	}
	type row struct {
		ID        string `json:"id"`
		Line      int    `json:"line"`
		Resume    string `json:"resume"`
		ResumeWhy string `json:"resume_why"`
	}
	var rows []row
	ls := c.Pyreplay(t, "ls", "--db", db, "--json")
	if err := json.Unmarshal([]byte(ls.Stdout), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("ls --json: %v\n%s", err, ls.Stdout)
	}
	exact, refused := rows[0], rows[1]
	if exact.Line != 31 || exact.Resume != "exact" || exact.ResumeWhy != "" {
		t.Fatalf("snapshot at line 31: %+v, want resume exact", exact)
	}
	if refused.Resume != "refused" || !strings.Contains(refused.ResumeWhy, "comprehension") || !strings.Contains(refused.ResumeWhy, "gens.py:44") {
		t.Fatalf("snapshot in the generator expression: %+v, want refused naming the construct and gens.py:44", refused)
	}
	// resume agrees with what ls said
	if r := c.Pyreplay(t, "resume", refused.ID, "--db", db); r.Code == 0 || !strings.Contains(r.Stderr, "comprehension") {
		t.Fatalf("resume %s: exit %d, %s", refused.ID, r.Code, r.Stderr)
	}
	var one row
	show := c.Pyreplay(t, "show", refused.ID, "--db", db, "--json")
	if err := json.Unmarshal([]byte(show.Stdout), &one); err != nil || one.Resume != "refused" || one.ResumeWhy != refused.ResumeWhy {
		t.Fatalf("show --json: %v %+v", err, one)
	}
	text := c.Pyreplay(t, "ls", "--db", db).Stdout
	if !strings.Contains(text, "RESUME") || !strings.Contains(text, "exact") || !strings.Contains(text, "refused") {
		t.Fatalf("ls has no RESUME column:\n%s", text)
	}
}
