package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	findMu    sync.Mutex
	findCache = map[string]findResult{} // by candidate path: checked once per process
)

type findResult struct {
	c   *CRIU
	err error
}

// Find returns a usable CRIU: $PYREPLAY_CRIU when set (only that one), else
// `criu` on PATH, else criu in each of extraDirs (e.g. the repository's
// .cache/criu, see CacheDirs). A candidate is usable when `criu --version`
// is >= 4.1 and `criu check` passes; both are run once per process and
// candidate. The error is one line saying what is missing.
func Find(extraDirs ...string) (*CRIU, error) {
	if p := os.Getenv("PYREPLAY_CRIU"); p != "" {
		return probe(p, "$PYREPLAY_CRIU")
	}
	var cands []string
	if p, err := exec.LookPath("criu"); err == nil {
		cands = append(cands, p)
	}
	for _, d := range extraDirs {
		p := filepath.Join(d, "criu")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return nil, errors.New("no criu found (pyreplay needs CRIU >= " + MinVersion + ": install your distribution's criu package, or run `make criu` in the pyreplay repository, or set PYREPLAY_CRIU)")
	}
	var first error
	for _, p := range cands {
		c, err := probe(p, "")
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// CacheDirs are the places `make criu` puts criu for a pyreplay binary at
// exe: <repo>/.cache/criu when exe is <repo>/bin/pyreplay (or any binary
// one or two levels inside the repository).
func CacheDirs(exe string) []string {
	if exe == "" {
		exe, _ = os.Executable()
	}
	if exe == "" {
		return nil
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	d := filepath.Dir(exe)
	return []string{filepath.Join(d, "..", ".cache", "criu"), filepath.Join(d, "..", "..", ".cache", "criu")}
}

var versionRE = regexp.MustCompile(`(?m)^Version:\s*(\d+)\.(\d+)(?:\.(\d+))?`)

func probe(path, via string) (*CRIU, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		path = abs
	}
	findMu.Lock()
	defer findMu.Unlock()
	if r, ok := findCache[path]; ok {
		return r.c, r.err
	}
	c, err := probe1(path, via)
	findCache[path] = findResult{c, err}
	return c, err
}

func probe1(path, via string) (*CRIU, error) {
	where := path
	if via != "" {
		where = via + "=" + path
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cannot run criu (%s): %v", where, oneLine(err.Error(), out))
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s does not say its CRIU version (pyreplay needs CRIU >= %s)", where, MinVersion)
	}
	maj, _ := strconv.Atoi(string(m[1]))
	min, _ := strconv.Atoi(string(m[2]))
	ver := fmt.Sprintf("%d.%d", maj, min)
	if len(m[3]) > 0 {
		ver += "." + string(m[3])
	}
	if maj < 4 || maj == 4 && min < 1 {
		return nil, fmt.Errorf("criu %s at %s is too old: pyreplay needs CRIU >= %s (older ones fail on Linux 6.x's vDSO); `make criu` builds 4.2", ver, where, MinVersion)
	}
	c := &CRIU{Path: path, Version: ver, Unprivileged: os.Geteuid() != 0}
	if c.Unprivileged && !hasCapCheckpointRestore(path) {
		return nil, fmt.Errorf("CRIU needs root or CAP_CHECKPOINT_RESTORE: run pyreplay as root, or `setcap cap_checkpoint_restore,cap_sys_ptrace+eip %s`", path)
	}
	args := append(c.baseArgs(), "check")
	out, err = exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		s := string(out)
		if strings.Contains(s, "Operation not permitted") || strings.Contains(s, "must be run as root") || strings.Contains(s, "Permission denied") {
			return nil, fmt.Errorf("criu check (%s) was refused permission: CRIU needs root or CAP_CHECKPOINT_RESTORE (and CAP_SYS_PTRACE)", where)
		}
		return nil, fmt.Errorf("criu %s (%s) fails `criu check` on this kernel (%s): %s", ver, where, kernelRelease(), lastError(out, err))
	}
	return c, nil
}

func (c *CRIU) baseArgs() []string {
	if c.Unprivileged {
		return []string{"--unprivileged"}
	}
	return nil
}

// hasCapCheckpointRestore reports whether the binary carries file
// capabilities that include CAP_CHECKPOINT_RESTORE (40).
func hasCapCheckpointRestore(path string) bool {
	buf := make([]byte, 64)
	n, err := getxattr(path, "security.capability", buf)
	if err != nil || n < 12 {
		return false
	}
	// vfs_cap_data: magic_etc, then {permitted, inheritable} low words, then high words (v2/v3).
	if n < 20 {
		return false
	}
	permHigh := uint32(buf[12]) | uint32(buf[13])<<8 | uint32(buf[14])<<16 | uint32(buf[15])<<24
	return permHigh&(1<<(40-32)) != 0
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown kernel"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// harmlessErrors are CRIU "Error" lines logged by restores that succeed
// too: never the cause of a failure.
var harmlessErrors = []string{
	"Can't setup RLIMIT_NOFILE for self",
}

// lastError picks the most telling line of criu's output: the first
// "Error (file:line): ..." line that is not a known harmless one is the
// cause (later ones and the closing "Dumping FAILED." / "Restoring
// FAILED." only follow from it); without one, the last line that mentions
// an error.
func lastError(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "Error ("); i >= 0 {
			l = l[i:]
			if j := strings.Index(l, "): "); j >= 0 {
				l = l[j+3:]
			}
			if harmless(l) || strings.HasSuffix(l, "FAILED.") {
				continue
			}
			return l
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if harmless(l) {
			continue
		}
		if strings.Contains(l, "Error") || strings.Contains(l, "error") || strings.Contains(l, "FAIL") {
			return l
		}
	}
	if len(lines) > 0 && lines[len(lines)-1] != "" {
		return lines[len(lines)-1]
	}
	return err.Error()
}

func harmless(l string) bool {
	for _, h := range harmlessErrors {
		if strings.Contains(l, h) {
			return true
		}
	}
	return false
}

func oneLine(e string, out []byte) string {
	if s := strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0])); s != "" {
		return e + ": " + s
	}
	return e
}
