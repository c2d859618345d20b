package e2e

// Private by default (issue 11): the recording and its directory, the shim
// pyreplay unpacks, and nothing from another user ever runs.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/pyshim"
)

// Under umask 000 a recording's directory is 0700 and the database, its
// -wal and its -shm are 0600 while the program writes them; an existing
// .pyreplay left open by an older version is closed.
func TestRecordingPrivate(t *testing.T) {
	py := testutil.PythonFor(t, "3.12")
	for _, existing := range []bool{false, true} {
		t.Run("existing_dir_"+strconv.FormatBool(existing), func(t *testing.T) {
			dir := testutil.CopyFixture(t, "safety", t.TempDir())
			if existing {
				if err := os.Mkdir(filepath.Join(dir, ".pyreplay"), 0o755); err != nil {
					t.Fatal(err)
				}
				_ = os.Chmod(filepath.Join(dir, ".pyreplay"), 0o755)
			}
			db := filepath.Join(dir, ".pyreplay", "recording.db")
			res := recRun(t, dir, "", "sh", "-c", `umask 000; exec "$@"`, "sh", testutil.Binary(t), "record", "--python", py, "modes.py", db)
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s", res.Code, res.Stderr)
			}
			want := "mode 600\nmode-wal 600\nmode-shm 600\ndir 700\n"
			if res.Stdout != want {
				t.Errorf("modes while recording:\n%s\nwant\n%s", res.Stdout, want)
			}
			st, err := os.Stat(db)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("recording.db after the run: %v %v", st.Mode(), err)
			}
		})
	}
}

// A shim directory that is not the user's own and closed is never used:
// planted by another user (world-writable, another owner), open to others,
// a symbolic link elsewhere, or holding a changed file. The program runs
// as usual from a verified copy, and nothing planted runs.
func TestShimPlanted(t *testing.T) {
	py := testutil.PythonFor(t, "3.12")
	uid := os.Getuid()
	plant := func(t *testing.T, dir, marker string) {
		t.Helper()
		shim := filepath.Join(dir, "shim-"+pyshim.Version)
		if err := os.MkdirAll(filepath.Join(shim, "pyreplay_shim"), 0o777); err != nil {
			t.Fatal(err)
		}
		evil := "open(" + strconv.Quote(marker) + ", 'w').write('ran')\n"
		for _, f := range []string{"boot.py", "pyreplay_shim/__init__.py", "pyreplay_shim/main.py"} {
			if err := os.WriteFile(filepath.Join(shim, f), []byte(evil), 0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, tmp, base, marker string)
		root  bool // needs root (chown to another user)
	}{
		{"another_owner", func(t *testing.T, tmp, base, marker string) {
			plant(t, base, marker)
			_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error {
				_ = os.Chmod(p, 0o777)
				return os.Lchown(p, 65534, 65534)
			})
		}, true},
		{"open_to_others", func(t *testing.T, tmp, base, marker string) {
			plant(t, base, marker)
			_ = os.Chmod(base, 0o777)
		}, false},
		{"symlink", func(t *testing.T, tmp, base, marker string) {
			elsewhere := filepath.Join(tmp, "elsewhere")
			if err := os.Mkdir(elsewhere, 0o700); err != nil {
				t.Fatal(err)
			}
			plant(t, elsewhere, marker)
			if err := os.Symlink(elsewhere, base); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"changed_file", func(t *testing.T, tmp, base, marker string) {
			if err := os.Mkdir(base, 0o700); err != nil {
				t.Fatal(err)
			}
			plant(t, base, marker)
			_ = filepath.Walk(base, func(p string, info os.FileInfo, _ error) error {
				mode := os.FileMode(0o600)
				if info.IsDir() {
					mode = 0o700
				}
				return os.Chmod(p, mode)
			})
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.root && uid != 0 {
				t.Skip("needs root to give a directory to another user")
			}
			tmp := t.TempDir()
			home := t.TempDir()
			base := filepath.Join(tmp, "pyreplay-"+strconv.Itoa(uid))
			marker := filepath.Join(tmp, "planted-code-ran")
			c.setup(t, tmp, base, marker)
			dir := testutil.CopyFixture(t, "safety", t.TempDir())
			db := filepath.Join(dir, "rec.db")
			cmd := exec.Command(testutil.Binary(t), "record", "--db", db, "--python", py, "modes.py", db)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("the planted shim ran\n%s", out)
			}
			if !strings.Contains(string(out), "mode 600") {
				t.Errorf("the program did not run as usual:\n%s", out)
			}
			// where the shim went: the same place once repaired, else the user's cache
			used := filepath.Join(base, "shim-"+pyshim.Version)
			if c.name != "changed_file" {
				if !strings.Contains(string(out), "warning:") {
					t.Errorf("no warning about %s:\n%s", base, out)
				}
				used = filepath.Join(home, ".cache", "pyreplay", "shim-"+pyshim.Version)
			}
			checkInstalled(t, used)
		})
	}
}

// checkInstalled asserts that dir holds the embedded shim, directories 0700
// and files 0600.
func checkInstalled(t *testing.T, dir string) {
	t.Helper()
	boot, err := os.ReadFile(filepath.Join(dir, "boot.py"))
	if err != nil {
		t.Fatalf("no shim in %s: %v", dir, err)
	}
	want, _ := os.ReadFile(filepath.Join(testutil.Root(), "pyshim", "boot.py"))
	if string(boot) != string(want) {
		t.Errorf("%s/boot.py is not the shim's", dir)
	}
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || strings.Contains(p, "__pycache__") {
			return nil
		}
		if want := os.FileMode(0o600); info.IsDir() && info.Mode().Perm() != 0o700 || !info.IsDir() && info.Mode().Perm() != want {
			t.Errorf("%s: mode %v", p, info.Mode())
		}
		return nil
	})
}
