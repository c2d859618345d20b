package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

const secretsProg = `API_TOKEN = "tok-123456"
def login(user, password):
    conf = {"db_password": "hunter2", "host": "db.local", "nested": {"auth_header": "Bearer x"}}
    my_pin = "pin-4242"
    print("login", user, len(password), conf["db_password"], my_pin, API_TOKEN)
login("ann", "pw-very-secret")
`

// The views a recording shows (ls/show/TUI/DAP) never hold the values of
// secret-looking names; resume still restores the real values.
func TestRedactSecrets(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.py"), []byte(secretsProg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testutil.Cmd{Dir: dir}
	secrets := []string{"pw-very-secret", "hunter2", "Bearer x", "tok-123456"}
	for _, tc := range []struct {
		flags   []string
		hidden  []string
		visible []string
	}{
		{nil, secrets, []string{"db.local", "pin-4242"}},
		{[]string{"--redact", "MY_*"}, append([]string{"pin-4242"}, secrets...), []string{"db.local"}},
		{[]string{"--no-redact"}, nil, append([]string{"pin-4242"}, secrets...)},
	} {
		db := filepath.Join(dir, "rec"+strings.Join(tc.flags, "")+".db")
		args := append([]string{"record", "--python", py, "--db", db, "-b", "s.py:5"}, tc.flags...)
		rec := c.Pyreplay(t, append(args, "s.py")...)
		if rec.Code != 0 || !strings.Contains(rec.Stdout, "hunter2") {
			t.Fatalf("record %v: %+v", tc.flags, rec)
		}
		show := c.Pyreplay(t, "show", "snap-1", "--db", db, "--json")
		for _, s := range tc.hidden {
			if strings.Contains(show.Stdout, s) {
				t.Errorf("%v: the views show %q:\n%s", tc.flags, s, show.Stdout)
			}
		}
		for _, s := range tc.visible {
			if !strings.Contains(show.Stdout, s) {
				t.Errorf("%v: the views lost %q:\n%s", tc.flags, s, show.Stdout)
			}
		}
		if len(tc.hidden) > 0 && !strings.Contains(show.Stdout, "redacted") {
			t.Errorf("%v: no value marked redacted", tc.flags)
		}
		r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
		if r.Code != 0 || r.Stdout != "login ann 14 hunter2 pin-4242 tok-123456\n" {
			t.Fatalf("%v: resume does not restore the real values: %+v", tc.flags, r)
		}
	}
}

// os.environ is a mapping, not a dict: its repr and its children in the
// views redact secret-looking variables too (issue 11); resume still has
// the real value. (The secret has letters: no timestamp or id can hold it.)
func TestRedactEnviron(t *testing.T) {
	py := testutil.PythonFor(t, "3.11")
	dir := t.TempDir()
	prog := "import os\ndef main():\n    env = os.environ\n    print(\"token\", env[\"MY_API_TOKEN\"])\nmain()\n"
	if err := os.WriteFile(filepath.Join(dir, "e.py"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "tok-env-999"
	c := testutil.Cmd{Dir: dir, Env: []string{"MY_API_TOKEN=" + secret}}
	db := filepath.Join(dir, "rec.db")
	rec := c.Pyreplay(t, "record", "--python", py, "--db", db, "-b", "e.py:4", "e.py")
	if rec.Code != 0 || rec.Stdout != "token "+secret+"\n" {
		t.Fatalf("record: %+v", rec)
	}
	show := c.Pyreplay(t, "show", "snap-1", "--db", db, "--json")
	if show.Code != 0 || !strings.Contains(show.Stdout, `"env"`) {
		t.Fatalf("show: %+v", show)
	}
	if strings.Contains(show.Stdout, secret) {
		t.Errorf("the views show the environment's secret:\n%s", show.Stdout)
	}
	if !strings.Contains(show.Stdout, "redacted") {
		t.Errorf("no value marked redacted:\n%s", show.Stdout)
	}
	r := c.Pyreplay(t, "resume", "snap-1", "--db", db)
	if r.Code != 0 || r.Stdout != "token "+secret+"\n" {
		t.Fatalf("resume does not restore the real value: %+v", r)
	}
}
