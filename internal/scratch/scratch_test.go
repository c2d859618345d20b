package scratch

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helperEnv, in a re-executed test binary, names the base it makes a
// scratch directory under; it prints the directory and waits to be killed.
const helperEnv = "PYREPLAY_SCRATCH_TEST_BASE"

func TestMain(m *testing.M) {
	if b := os.Getenv(helperEnv); b != "" {
		d, _, err := create(b)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(d)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHelper starts a process that makes a scratch directory under b and
// keeps it; its directory.
func startHelper(t *testing.T, b string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+b)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the helper printed no directory: %v", err)
	}
	return cmd, strings.TrimSpace(line)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestSweepRemovesTheKilledOnly(t *testing.T) {
	b := t.TempDir()
	liveCmd, live := startHelper(t, b)
	killed, dead := startHelper(t, b)
	if err := killed.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	killed.Wait()
	parent := filepath.Join(b, "scratch")
	old := time.Now().Add(-2 * stale)
	// left by processes killed between mkdir and lock, or while removing
	staleStaging := filepath.Join(parent, staging+"1-1")
	staleBare := filepath.Join(parent, "2-2")
	freshBare := filepath.Join(parent, "3-3")
	for _, p := range []string{staleStaging, staleBare, freshBare} {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{staleStaging, staleBare} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if !exists(filepath.Join(dead, "lock")) {
		t.Fatalf("the killed helper's directory %s has no lock", dead)
	}

	mine, l, err := create(b)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, p := range []string{dead, staleStaging, staleBare} {
		if exists(p) {
			t.Errorf("%s was not swept", p)
		}
	}
	for _, p := range []string{live, mine, freshBare} {
		if !exists(p) {
			t.Errorf("%s was swept", p)
		}
	}
	if st, err := os.Stat(mine); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, %v; want 0700", mine, st.Mode(), err)
	}
	if !strings.HasPrefix(filepath.Base(mine), fmt.Sprintf("%d-", os.Getpid())) {
		t.Errorf("%s is not named after this process", mine)
	}

	// the live helper's lock goes with it
	liveCmd.Process.Kill()
	liveCmd.Wait()
	_, l2, err := create(b)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if exists(live) {
		t.Errorf("%s was not swept after its owner was killed", live)
	}
	if !exists(mine) {
		t.Errorf("%s (held by this process) was swept", mine)
	}
}

func TestDirAndRemove(t *testing.T) {
	b := t.TempDir()
	base = func() (string, error) { return b, nil }
	d := Dir()
	if d == "" || filepath.Dir(d) != filepath.Join(b, "scratch") {
		t.Fatalf("Dir() = %q, want a directory in %s", d, filepath.Join(b, "scratch"))
	}
	if again := Dir(); again != d {
		t.Errorf("Dir() = %q, then %q", d, again)
	}
	Remove()
	if exists(d) {
		t.Errorf("%s is still there after Remove", d)
	}
	if again := Dir(); again != "" {
		t.Errorf("Dir() after Remove = %q, want \"\"", again)
	}
}
