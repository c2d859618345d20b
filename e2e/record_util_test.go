package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// fixtureDir copies fixtures/record into a fresh temporary directory, so
// recordings and __pycache__ never land in the repository.
func fixtureDir(t *testing.T) string {
	t.Helper()
	return testutil.CopyFixture(t, "record", t.TempDir())
}

// run runs name with args in dir with stdin, separately capturing stdout and stderr.
func recRun(t *testing.T, dir, stdin string, name string, args ...string) testutil.Result {
	t.Helper()
	return recRunEnv(t, dir, stdin, nil, name, args...)
}

// recRunEnv is recRun with extra environment variables (NAME= unsets one for Python).
func recRunEnv(t *testing.T, dir, stdin string, env []string, name string, args ...string) testutil.Result {
	t.Helper()
	return testutil.Cmd{Dir: dir, Stdin: stdin, Env: env, Timeout: 90 * time.Second}.Run(t, name, args...)
}

// runCombined runs name with stdout and stderr going to one pipe, as `2>&1` does.
func recRunCombined(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %v: %v", name, args, err)
	}
	return buf.String(), code
}

// plain runs `python ARGS...` without pyreplay.
func runPlain(t *testing.T, py testutil.Python, dir, stdin string, args ...string) testutil.Result {
	t.Helper()
	return recRunEnv(t, dir, stdin, buffered, py.Path, args...)
}

// buffered is the environment of a plain `python prog.py` whatever the
// machine sets: block-buffered stdout into a pipe.
var buffered = []string{"PYTHONUNBUFFERED="}

// record runs `pyreplay record --db DB --python PY ARGS...`.
func runRecord(t *testing.T, py testutil.Python, dir, db, stdin string, args ...string) testutil.Result {
	t.Helper()
	full := append([]string{"record", "--db", db, "--python", py.Path}, args...)
	return recRunEnv(t, dir, stdin, buffered, testutil.Binary(t), full...)
}

// pyreplay runs the binary with args in dir.
func runPyreplay(t *testing.T, dir string, args ...string) testutil.Result {
	t.Helper()
	return recRun(t, dir, "", testutil.Binary(t), args...)
}

var summaryRe = regexp.MustCompile(`^pyreplay: recorded (\d+) snapshots?(: snap-\d+(\.\.snap-\d+)?)? in \S+\n$`)

// splitSummary removes pyreplay's own final summary line from a recording's
// stderr and returns the program's stderr and that line. It fails the test
// when the summary is missing, malformed or not last.
func splitSummary(t *testing.T, stderr string) (string, string) {
	t.Helper()
	i := strings.LastIndex(stderr, "pyreplay: recorded ")
	if i < 0 {
		t.Fatalf("no `pyreplay: recorded ...` summary line on stderr:\n%s", stderr)
	}
	line := stderr[i:]
	if !summaryRe.MatchString(line) {
		t.Fatalf("the summary is not one final line of the form `pyreplay: recorded N snapshots: snap-A..snap-B in DB`: %q", line)
	}
	return stderr[:i], strings.TrimSuffix(line, "\n")
}

// diff reports the first difference between two outputs, with context.
func outputDiff(want, got string) string {
	if want == got {
		return ""
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := i - 200
	if lo < 0 {
		lo = 0
	}
	cut := func(s string) string {
		hi := i + 200
		if hi > len(s) {
			hi = len(s)
		}
		if lo > len(s) {
			return ""
		}
		return s[lo:hi]
	}
	return "first difference at byte " + itoa(i) + "\n--- without pyreplay:\n" + cut(want) + "\n--- with pyreplay:\n" + cut(got)
}

func itoa(i int) string { return strconv.Itoa(i) }

// sameRun checks that a recording behaved exactly as the plain run.
func sameRun(t *testing.T, want, got testutil.Result) (summary string) {
	t.Helper()
	stderr, summary := splitSummary(t, got.Stderr)
	if d := outputDiff(want.Stdout, got.Stdout); d != "" {
		t.Errorf("stdout differs: %s", d)
	}
	if d := outputDiff(want.Stderr, stderr); d != "" {
		t.Errorf("stderr differs: %s", d)
	}
	if want.Code != got.Code {
		t.Errorf("exit code: %d without pyreplay, %d with it", want.Code, got.Code)
	}
	return summary
}

// marker returns the line number of the line of file that contains "# @name".
func marker(t *testing.T, file, name string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	tag := "# @" + name
	for sc.Scan() {
		n++
		line := sc.Text()
		if j := strings.Index(line, tag); j >= 0 {
			rest := line[j+len(tag):]
			if rest == "" || rest[0] == ' ' {
				return n
			}
		}
	}
	t.Fatalf("no marker %q in %s", tag, file)
	return 0
}

// spec formats a FILE:LINE breakpoint for a marker.
func markerSpec(t *testing.T, dir, file, name, suffix string) string {
	t.Helper()
	return file + ":" + itoa(marker(t, filepath.Join(dir, file), name)) + suffix
}

// ---------------------------------------------------------------- JSON contract

// snapValue is a variable's bounded view in show --json.
type snapValue struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Repr     string      `json:"repr"`
	Len      *int        `json:"len"`
	Children []snapValue `json:"children"`
}

// snapFrame is one frame of show --json.
type snapFrame struct {
	Function string               `json:"function"`
	File     string               `json:"file"`
	Line     int                  `json:"line"`
	Library  bool                 `json:"library"`
	SHA256   string               `json:"sha256"`
	Pos      []*int               `json:"pos"`
	Locals   map[string]snapValue `json:"locals"`
	Cells    []string             `json:"cells"`
	Stack    []*snapValue         `json:"stack"`
}

// snapSummary is one entry of ls --json (and the head of show --json).
type snapSummary struct {
	ID          string  `json:"id"`
	Run         int64   `json:"run"`
	Reason      string  `json:"reason"`
	Label       string  `json:"label"`
	File        string  `json:"file"`
	Line        int     `json:"line"`
	Function    string  `json:"function"`
	Time        float64 `json:"time"`
	Python      string  `json:"python"`
	StdoutBytes int64   `json:"stdout_bytes"`
	StderrBytes int64   `json:"stderr_bytes"`
	Size        int64   `json:"size"`
}

// snapJSON is show --json.
type snapJSON struct {
	snapSummary
	Frames       []snapFrame                     `json:"frames"`
	Globals      map[string]map[string]snapValue `json:"globals"`
	Placeholders []map[string]string             `json:"placeholders"`
	Meta         struct {
		Python  string   `json:"python"`
		HasExc  bool     `json:"has_exc"`
		Modules []string `json:"modules"`
		Argv    []string `json:"argv"`
		Layout  *string  `json:"layout_error"`
	} `json:"meta"`
}

var summaryKeys = []string{"id", "run", "reason", "label", "file", "line", "function", "time", "python", "stdout_bytes", "stderr_bytes", "size"}

func checkKeys(t *testing.T, what string, raw json.RawMessage, keys []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q field: %s", what, k, cut(string(raw), 300))
		}
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ls runs `pyreplay ls --json` and checks its field names.
func lsJSON(t *testing.T, dir, db string) []snapSummary {
	t.Helper()
	res := runPyreplay(t, dir, "ls", "--db", db, "--json")
	if res.Code != 0 {
		t.Fatalf("pyreplay ls --json: exit %d\n%s", res.Code, res.Stderr)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(res.Stdout), &raw); err != nil {
		t.Fatalf("ls --json is not a JSON array: %v\n%s", err, res.Stdout)
	}
	for i, r := range raw {
		checkKeys(t, "ls --json entry "+itoa(i), r, summaryKeys)
	}
	var out []snapSummary
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// show runs `pyreplay show ID --json` and checks its field names.
func showJSON(t *testing.T, dir, db, id string) snapJSON {
	t.Helper()
	res := runPyreplay(t, dir, "show", id, "--db", db, "--json")
	if res.Code != 0 {
		t.Fatalf("pyreplay show %s --json: exit %d\n%s", id, res.Code, res.Stderr)
	}
	checkKeys(t, "show --json", json.RawMessage(res.Stdout), append(summaryKeys, "frames"))
	var frames struct {
		Frames []json.RawMessage `json:"frames"`
	}
	_ = json.Unmarshal([]byte(res.Stdout), &frames)
	for i, f := range frames.Frames {
		checkKeys(t, "show --json frame "+itoa(i), f, []string{"function", "file", "line", "locals"})
	}
	var s snapJSON
	if err := json.Unmarshal([]byte(res.Stdout), &s); err != nil {
		t.Fatalf("show --json: %v\n%s", err, cut(res.Stdout, 2000))
	}
	return s
}

// userFrames returns the frames of the program's own code, outermost first.
func userFrames(s snapJSON) []snapFrame {
	var out []snapFrame
	for _, f := range s.Frames {
		if !f.Library {
			out = append(out, f)
		}
	}
	return out
}

// top returns the innermost frame of the program's own code.
func topFrame(t *testing.T, s snapJSON) snapFrame {
	t.Helper()
	u := userFrames(s)
	if len(u) == 0 {
		t.Fatalf("%s has no frame of the program's own code", s.ID)
	}
	return u[len(u)-1]
}

// local returns a frame's local, failing when it is missing.
func frameLocal(t *testing.T, f snapFrame, name string) snapValue {
	t.Helper()
	v, ok := f.Locals[name]
	if !ok {
		t.Fatalf("frame %s (line %d) has no local %q; it has %v", f.Function, f.Line, name, testutil.SortedKeys(f.Locals))
	}
	return v
}

// expectBadInput checks the contract for bad input: a non-zero exit, one
// line on stderr starting with "pyreplay:", no Go panic or Python traceback.
func expectBadInput(t *testing.T, res testutil.Result, mention string) {
	t.Helper()
	if res.Code == 0 {
		t.Errorf("exit code 0 for bad input; stderr: %q", res.Stderr)
	}
	lines := strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pyreplay: ") || !strings.HasSuffix(res.Stderr, "\n") {
		t.Errorf("want exactly one stderr line starting with `pyreplay: `, got:\n%s", res.Stderr)
	}
	for _, bad := range []string{"panic", "goroutine ", "Traceback", "runtime error"} {
		if strings.Contains(res.Stderr, bad) {
			t.Errorf("stderr shows a crash (%q):\n%s", bad, res.Stderr)
		}
	}
	if mention != "" && !strings.Contains(res.Stderr, mention) {
		t.Errorf("the message does not mention %q: %s", mention, res.Stderr)
	}
	if res.Stdout != "" {
		t.Errorf("bad input printed on stdout: %q", res.Stdout)
	}
}

// readLine returns line n (1-based) of file.
func readLine(t *testing.T, file string, n int) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("%s has no line %d", file, n)
	}
	return lines[n-1]
}
