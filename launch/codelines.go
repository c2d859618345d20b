package launch

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/pyshim"
	"golang.org/x/sync/singleflight"
)

type linesKey struct {
	python, file string
	size         int64
	mtime        time.Time
}

var (
	linesMu    sync.Mutex
	linesCache = map[linesKey][]int{}
	// one Python run per file version at a time: a breakpoint set while
	// the session reads the stop's files ahead (session.prefetch) waits
	// for that run instead of starting its own
	linesRuns singleflight.Group
)

// RunLines returns the sorted lines of file on which python reports line
// events (sys.settrace, pdb): the lines of the line tables of every code
// object the file compiles to, as pyshim/pyreplay_shim/codelines.py lists
// them. They are the lines a breakpoint accepts. It returns nil and no
// error when python cannot judge the file (it does not compile, or the
// interpreter is not one pyreplay supports): the run then reports that
// itself. Answers are cached per interpreter and file version.
func RunLines(python, file string) ([]int, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	key := linesKey{python, file, st.Size(), st.ModTime()}
	linesMu.Lock()
	lines, ok := linesCache[key]
	linesMu.Unlock()
	if ok {
		return lines, nil
	}
	v, err, _ := linesRuns.Do(fmt.Sprint(key), func() (any, error) { return runLines(key) })
	lines, _ = v.([]int)
	return lines, err
}

// runLines asks key's interpreter for its file's lines, and caches them.
func runLines(key linesKey) ([]int, error) {
	python, file := key.python, key.file
	boot, err := pyshim.Install()
	if err != nil {
		return nil, fmt.Errorf("cannot install the pyreplay shim: %v", err)
	}
	script := filepath.Join(filepath.Dir(boot), "pyreplay_shim", "codelines.py")
	// -I -S: no site, no user paths, no PYTHON* variables: the answer is the
	// compiler's alone, and the interpreter starts in ~10 ms
	out, err := exec.Command(python, "-I", "-S", script, file).Output()
	if err != nil {
		return nil, nil
	}
	var res struct {
		Lines      []int  `json:"lines"`
		Error      string `json:"error"`
		Unreadable bool   `json:"unreadable"`
	}
	if json.Unmarshal(out, &res) != nil {
		return nil, nil
	}
	if res.Unreadable {
		return nil, fmt.Errorf("cannot read %s: %s", file, res.Error)
	}
	if res.Error != "" {
		return nil, nil
	}
	if res.Lines == nil {
		res.Lines = []int{}
	}
	linesMu.Lock()
	linesCache[key] = res.Lines
	linesMu.Unlock()
	return res.Lines, nil
}
