package launch

// Breakpoint specs (-b): the one resolver of FILE:LINE, FILE:LINE@K,
// 'FILE:LINE if EXPR' and FUNCTION for record, resume, DAP and the TUI.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// Breakpoint is a resolved breakpoint as the shim receives it.
type Breakpoint struct {
	File string `json:"file,omitempty"` // absolute path
	Line int    `json:"line,omitempty"`
	Hit  int    `json:"hit,omitempty"`  // only the K-th hit
	Cond string `json:"cond,omitempty"` // Python expression
	Func string `json:"func,omitempty"` // qualified name
	Spec string `json:"spec"`
	// Anchor: its snapshot is time travel's anchor at the program's first
	// line (record --trace), recorded as a live session's: reason "entry",
	// label "anchor"
	Anchor bool `json:"anchor,omitempty"`
	// Index is the spec's place among the specs resolved together
	// (ResolveBreakpoints), from 0: a function spec may resolve to several
	// functions, which share it.
	Index int `json:"-"`
}

var specRe = regexp.MustCompile(`^(.+):(\d+)(?:@(\d+))?(?:\s+if\s+(.+))?$`)
var funcRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_<][A-Za-z0-9_<>]*)*$`)

// ParseBreakpoint resolves a -b spec: FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR'
// or FUNCTION. Files are looked up relative to the working directory, then
// to baseDir (the program's directory). A line must be one on which python
// reports line events (RunLines); a line it never runs is refused with
// ErrNoCode, naming the nearest lines that run.
func ParseBreakpoint(spec, baseDir, python string) ([]Breakpoint, error) {
	s := strings.TrimSpace(spec)
	if m := specRe.FindStringSubmatch(s); m != nil {
		path, err := findFile(m[1], baseDir)
		if err != nil {
			return nil, fmt.Errorf("breakpoint %q: %v", spec, err)
		}
		line, _ := strconv.Atoi(m[2])
		bp := Breakpoint{File: path, Line: line, Cond: strings.TrimSpace(m[4]), Spec: spec}
		if m[3] != "" {
			bp.Hit, _ = strconv.Atoi(m[3])
			if bp.Hit <= 0 {
				return nil, fmt.Errorf("breakpoint %q: the hit count after @ must be 1 or more", spec)
			}
		}
		lines, err := RunLines(python, path)
		if err != nil {
			return nil, fmt.Errorf("breakpoint %q: %v", spec, err)
		}
		if lines == nil || containsInt(lines, line) {
			return []Breakpoint{bp}, nil // (nil: python cannot judge the file; the run says why)
		}
		hint := ""
		if near := astinfo.Nearest(lines, line); len(near) > 0 {
			hint = fmt.Sprintf(" (nearest lines that run: %s)", joinInts(near))
		}
		what := "has no code CPython runs"
		if src, err := os.ReadFile(path); err == nil {
			f, _ := astinfo.Parse(src)
			if nc := noCodeLines(f)[line]; nc != nil {
				what = "holds " + nc.what + ", which never runs"
			}
		}
		return nil, noCodeError(fmt.Sprintf("breakpoint %q: line %d of %s %s%s", spec, line, m[1], what, hint))
	}
	if strings.Contains(s, ":") || !funcRe.MatchString(s) {
		return nil, fmt.Errorf("breakpoint %q is not FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or a function name", spec)
	}
	quals := findFunction(s, baseDir)
	if len(quals) == 0 {
		return nil, fmt.Errorf("breakpoint %q: no function %s is defined in the program's directory %s", spec, s, baseDir)
	}
	var out []Breakpoint
	for _, q := range quals {
		out = append(out, Breakpoint{Func: q, Spec: spec})
	}
	return out, nil
}

// ErrNoCode marks the refusal of a breakpoint on a line CPython never runs.
var ErrNoCode = errors.New("no code")

type noCodeError string

func (e noCodeError) Error() string        { return string(e) }
func (e noCodeError) Is(target error) bool { return target == ErrNoCode }

// noCode says what a statement line holds that compiles to no bytecode.
type noCode struct{ what string }

// noCodeLines names what the statement lines that compile to nothing hold
// (global and nonlocal declarations, functions' docstrings), for the
// message refusing a breakpoint there; CPython's line tables decide.
func noCodeLines(f *astinfo.File) map[int]*noCode {
	out := map[int]*noCode{}
	if f == nil || f.Root == nil {
		return out
	}
	docs := map[uint32]bool{}
	for _, s := range f.Scopes() {
		if s.IsModule() {
			continue
		}
		if st := astinfo.Statements(s.Body()); len(st) > 0 && isDocstring(st[0]) {
			docs[st[0].StartByte()] = true
		}
	}
	code := map[int]bool{}
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		if astinfo.IsStatement(n) {
			l := astinfo.Line(n)
			switch {
			case n.Type() == "global_statement" || n.Type() == "nonlocal_statement":
				if out[l] == nil {
					out[l] = &noCode{"a " + strings.TrimSuffix(n.Type(), "_statement") + " declaration"}
				}
			case docs[n.StartByte()] && n.Type() == "expression_statement":
				out[l] = &noCode{"a function's docstring"}
			default:
				code[l] = true
			}
		}
		for i := 0; i < int(n.NamedChildCount()); i++ {
			walk(n.NamedChild(i))
		}
	}
	walk(f.Root)
	for l := range code {
		delete(out, l)
	}
	return out
}

func isDocstring(n *sitter.Node) bool {
	if n.Type() != "expression_statement" || n.NamedChildCount() != 1 {
		return false
	}
	s := n.NamedChild(0)
	if s.Type() != "string" {
		return false
	}
	for i := 0; i < int(s.NamedChildCount()); i++ {
		if s.NamedChild(i).Type() == "interpolation" {
			return false
		}
	}
	return true
}

func containsInt(xs []int, x int) bool {
	i := sort.SearchInts(xs, x)
	return i < len(xs) && xs[i] == x
}

func joinInts(xs []int) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, strconv.Itoa(x))
	}
	return strings.Join(parts, ", ")
}

func findFile(name, baseDir string) (string, error) {
	cands := []string{name}
	if !filepath.IsAbs(name) && baseDir != "" {
		cands = append(cands, filepath.Join(baseDir, name))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("file %s does not exist", name)
}

func findFunction(q, baseDir string) []string {
	seen := map[string]bool{}
	var out []string
	n := 0
	_ = filepath.WalkDir(baseDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			b := d.Name()
			if p != baseDir && (strings.HasPrefix(b, ".") || b == "__pycache__" || b == "node_modules" || b == "venv" || b == "site-packages") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".py") {
			return nil
		}
		n++
		if n > 2000 {
			return filepath.SkipAll
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		f, _ := astinfo.Parse(src)
		for _, s := range f.FunctionByName(q) {
			if !seen[s.Qualname] {
				seen[s.Qualname] = true
				out = append(out, s.Qualname)
			}
		}
		return nil
	})
	return out
}
