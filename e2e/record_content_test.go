package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// loaded is what e2e/testdata/loadstate.py prints: a snapshot's pickled
// state, loaded the way a resume loads it, keyed by frame index.
type loaded struct {
	Locals  map[string]map[string]loadedValue `json:"locals"`
	Stacks  map[string][]*loadedValue         `json:"stacks"`
	Extras  map[string]loadedValue            `json:"extras"`
	Globals map[string]map[string]loadedValue `json:"globals"`
}

type loadedValue struct {
	Type      string           `json:"type"`
	Repr      string           `json:"repr"`
	ID        int64            `json:"id"`
	Rest      string           `json:"rest"`
	Method    string           `json:"method"`
	SelfAttrs string           `json:"self_attrs"`
	Closure   []int64          `json:"closure"`
	Contents  string           `json:"contents"`
	Args      string           `json:"args"`
	AttrIDs   map[string]int64 `json:"attr_ids"`
	ValueIDs  map[string]int64 `json:"value_ids"`
}

// loadState loads snapshot n of db with the recording's own Python.
func loadState(t *testing.T, py testutil.Python, db string, n int) loaded {
	t.Helper()
	res := recRun(t, "", "", py.Path, filepath.Join(testutil.Root(), "e2e", "testdata", "loadstate.py"),
		filepath.Join(testutil.Root(), "pyshim"), db, itoa(n))
	if res.Code != 0 {
		t.Fatalf("loading the state of snap-%d failed:\n%s", n, res.Stderr)
	}
	var l loaded
	if err := json.Unmarshal([]byte(res.Stdout), &l); err != nil {
		t.Fatalf("loadstate output: %v\n%s", err, cut(res.Stdout, 500))
	}
	return l
}

func minorAtLeast(py testutil.Python, minor int) bool {
	var m int
	for _, c := range strings.TrimPrefix(py.Minor, "3.") {
		m = m*10 + int(c-'0')
	}
	return m >= minor
}

// What a snapshot holds, through show --json (the views) and through its
// loaded state (what a resume gets), on every CPython.
func TestRecordContent(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		t.Parallel()
		dir := fixtureDir(t)
		db := filepath.Join(t.TempDir(), "rec.db")
		prog := filepath.Join(dir, "content.py")
		mk := func(name string) int { return marker(t, prog, name) }
		res := runRecord(t, py, dir, db, "",
			"-b", markerSpec(t, dir, "content.py", "locals", ""),
			"-b", markerSpec(t, dir, "content.py", "inner", "@4"),
			"-b", markerSpec(t, dir, "content.py", "with", ""),
			"-b", markerSpec(t, dir, "content.py", "except", ""),
			"-b", markerSpec(t, dir, "content.py", "closure", "@2"),
			"-b", markerSpec(t, dir, "content.py", "base", ""),
			"-b", markerSpec(t, dir, "content.py", "unsaved", "@1"), // (3.8/3.9 report a return in try/finally twice)
			"-b", markerSpec(t, dir, "content.py", "library", ""),
			"content.py")
		if res.Code != 0 {
			t.Fatalf("record: exit %d\n%s", res.Code, res.Stderr)
		}
		if want := "5\n6\nexit outer\nouter\n'missing'\n11\n200\n[1, 2]\ndeepcopy\n"; res.Stdout != want {
			t.Errorf("the program's output changed under recording: %q", res.Stdout)
		}
		_, summary := splitSummary(t, res.Stderr)
		if !strings.HasPrefix(summary, "pyreplay: recorded 8 snapshots: snap-1..snap-8 in ") {
			t.Errorf("summary: %q", summary)
		}
		list := lsJSON(t, dir, db)
		if len(list) != 8 {
			t.Fatalf("want 8 snapshots, ls --json lists %d", len(list))
		}
		wantFn := []string{"locals_demo", "loops", "with_demo", "handler_demo", "make_counter.<locals>.bump", "recurse", "unsaved_demo", "Copied.__deepcopy__"}
		wantLine := []int{mk("locals"), mk("inner"), mk("with"), mk("except"), mk("closure"), mk("base"), mk("unsaved"), mk("library")}
		for i, s := range list {
			if s.ID != "snap-"+itoa(i+1) || s.Reason != "breakpoint" || s.Function != wantFn[i] || s.Line != wantLine[i] ||
				s.File != prog || s.Run != 1 || !strings.HasPrefix(s.Python, py.Minor+".") || s.Size <= 0 || s.Time <= 0 {
				t.Errorf("ls entry %d: %+v; want %s at %s:%d, Python %s", i, s, wantFn[i], prog, wantLine[i], py.Minor)
			}
		}
		// the bytes written so far are counted at each snapshot
		if list[0].StdoutBytes != 0 || list[1].StdoutBytes != 2 || list[5].StdoutBytes != int64(len("5\n6\nexit outer\nouter\n'missing'\n11\n")) {
			t.Errorf("stdout_bytes: %d %d %d", list[0].StdoutBytes, list[1].StdoutBytes, list[5].StdoutBytes)
		}
		if list[0].StderrBytes != int64(len("to stderr\n")) {
			t.Errorf("stderr_bytes: %d", list[0].StderrBytes)
		}

		t.Run("locals", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-1")
			u := userFrames(s)
			if len(u) != 3 || u[0].Function != "<module>" || u[1].Function != "main" || u[2].Function != "locals_demo" {
				t.Fatalf("frames: %v", frameNames(s))
			}
			for _, f := range u {
				if f.File != prog {
					t.Errorf("frame %s file %q, want %q", f.Function, f.File, prog)
				}
			}
			if u[1].Line != mk("main-locals") || u[0].Line != mk("main-call") {
				t.Errorf("caller lines: main at %d, module at %d", u[1].Line, u[0].Line)
			}
			f := u[2]
			checks := map[string][2]string{
				"n": {"int", "5"}, "i": {"int", "42"}, "f": {"float", "2.5"}, "s": {"str", "'text'"},
				"lst": {"list", "[1, 2, 3]"}, "d": {"dict", "{'a': 1, 'b': [1, 2]}"}, "t": {"tuple", "(1, 'x')"},
				"st": {"set", "{7}"}, "b": {"Box", "Box([1, 2, 3])"}, "none": {"NoneType", "None"}, "shared": {"list", "[1, 2, 3]"},
			}
			for name, want := range checks {
				v := frameLocal(t, f, name)
				if v.Type != want[0] || v.Repr != want[1] {
					t.Errorf("local %s = %s %s, want %s %s", name, v.Type, v.Repr, want[0], want[1])
				}
			}
			if len(f.Locals) != len(checks)+1 {
				t.Errorf("locals: %v", testutil.SortedKeys(f.Locals))
			}
			if b := frameLocal(t, f, "b"); len(b.Children) != 1 || b.Children[0].Name != "v" || b.Children[0].Repr != "[1, 2, 3]" {
				t.Errorf("the view of b has no child v: %+v", b)
			}
			if l := frameLocal(t, f, "lst"); l.Len == nil || *l.Len != 3 || len(l.Children) != 3 || l.Children[2].Repr != "3" {
				t.Errorf("the view of lst: %+v", l)
			}
			if big := frameLocal(t, f, "big"); big.Len == nil || *big.Len != 1000 || len(big.Children) == 0 || len(big.Children) > 100 || len(big.Repr) > 200 {
				t.Errorf("the view of a 1000-item list is not bounded: len %v, %d children, repr of %d chars", big.Len, len(big.Children), len(big.Repr))
			}
			g := s.Globals["__main__"]
			if g["GREETING"].Repr != "'hello'" || g["REGISTRY"].Type != "dict" || g["Box"].Type != "type" || g["main"].Type != "function" {
				t.Errorf("globals of __main__: %v", testutil.SortedKeys(g))
			}
			// the source's hash, the program's argv, random's state
			sum := sha256.Sum256(mustRead(t, prog))
			for _, f := range u {
				if f.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("frame %s: sha256 %q, want the file's", f.Function, f.SHA256)
				}
			}
			if strings.Join(s.Meta.Argv, " ") != "content.py" {
				t.Errorf("meta.argv: %v", s.Meta.Argv)
			}
			if minorAtLeast(py, 11) {
				// the caller's position is the call in progress
				src := readLine(t, prog, u[1].Line)
				col := strings.Index(src, "locals_demo(5)")
				if p := u[1].Pos; len(p) != 4 || p[0] == nil || *p[0] != u[1].Line || p[2] == nil || *p[2] != col || p[3] == nil || *p[3] != col+len("locals_demo(5)") {
					t.Errorf("main's position %v, want line %d columns %d-%d", derefs(p), u[1].Line, col, col+len("locals_demo(5)"))
				}
			}
			// one serialization: objects shared between names stay shared
			st := loadState(t, py, db, 1)
			ls := st.Locals["2"]
			if ls["lst"].ID == 0 || ls["lst"].ID != ls["b"].AttrIDs["v"] {
				t.Errorf("lst and b.v are not one object after loading: %d, %d", ls["lst"].ID, ls["b"].AttrIDs["v"])
			}
			if ls["shared"].ID == 0 || ls["shared"].ID != st.Globals["__main__"]["REGISTRY"].ValueIDs["items"] {
				t.Errorf("the local shared and the global REGISTRY['items'] are not one object after loading")
			}
			if r, ok := st.Extras["random"]; !ok || r.Type != "tuple" {
				t.Errorf("random's state is not in the snapshot: %+v", st.Extras)
			}
		})

		t.Run("loop iterators", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-2")
			f := topFrame(t, s)
			for name, want := range map[string]string{"k": "1", "item": "'cde'", "ch": "'d'", "total": "3"} {
				if v := frameLocal(t, f, name); v.Repr != want {
					t.Errorf("local %s = %s, want %s", name, v.Repr, want)
				}
			}
			if len(f.Stack) != 2 || f.Stack[0] == nil || f.Stack[1] == nil || f.Stack[0].Type != "enumerate" || !strings.HasSuffix(f.Stack[1].Type, "iterator") {
				t.Fatalf("the frame's stack should hold the enumerate and the str iterator: %s", stackTypes(f))
			}
			st := loadState(t, py, db, 2)
			stack := st.Stacks[itoa(len(s.Frames)-1)]
			if len(stack) != 2 || stack[0].Rest != "[(2, 'f')]" || stack[1].Rest != "['e']" {
				t.Errorf("the loaded iterators do not continue where the loops were: %+v", stack)
			}
		})

		t.Run("with exit", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-3")
			f := topFrame(t, s)
			found := false
			for _, v := range f.Stack {
				if v != nil && strings.Contains(v.Repr, "Res.__exit__") {
					found = true
				}
			}
			if !found {
				t.Fatalf("no bound __exit__ of Res on the stack: %s", stackTypes(f))
			}
			st := loadState(t, py, db, 3)
			ok := false
			for _, v := range st.Stacks[itoa(len(s.Frames)-1)] {
				if v != nil && v.Method == "Res.__exit__" && strings.Contains(v.SelfAttrs, "'outer'") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("the loaded stack holds no Res('outer').__exit__: %+v", st.Stacks)
			}
		})

		t.Run("exception in handler", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-4")
			f := topFrame(t, s)
			if v := frameLocal(t, f, "err"); v.Type != "KeyError" || v.Repr != "KeyError('missing')" {
				t.Errorf("err = %s %s", v.Type, v.Repr)
			}
			if !s.Meta.HasExc {
				t.Errorf("meta.has_exc is false inside an except body")
			}
			st := loadState(t, py, db, 4)
			exc, ok := st.Extras["exc"]
			if !ok || exc.Type != "KeyError" || exc.Args != "('missing',)" {
				t.Fatalf("the exception being handled is not in the state: %+v", st.Extras)
			}
			if err := st.Locals[itoa(len(s.Frames)-1)]["err"]; err.ID != exc.ID {
				t.Errorf("err and the handled exception are two objects after loading")
			}
		})

		t.Run("closure cells", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-5")
			u := userFrames(s)
			f := u[len(u)-1]
			if v := frameLocal(t, f, "count"); v.Repr != "11" {
				t.Errorf("count = %s, want 11", v.Repr)
			}
			if v := frameLocal(t, f, "step"); v.Repr != "10" {
				t.Errorf("step = %s, want 10", v.Repr)
			}
			if len(f.Cells) != 1 || f.Cells[0] != "count" {
				t.Errorf("cells of bump: %v, want [count]", f.Cells)
			}
			if v := frameLocal(t, u[len(u)-2], "c"); v.Type != "function" {
				t.Errorf("main's c: %+v", v)
			}
			st := loadState(t, py, db, 5)
			cell := st.Locals[itoa(len(s.Frames)-1)]["count"]
			fn := st.Locals[itoa(len(s.Frames)-2)]["c"]
			if cell.Type != "cell" || cell.Contents != "11" || len(fn.Closure) != 1 || fn.Closure[0] != cell.ID {
				t.Errorf("bump's cell and c's closure are not one cell after loading: %+v / %+v", cell, fn)
			}
		})

		t.Run("recursion 200 deep", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-6")
			u := userFrames(s)
			if len(u) != 203 {
				t.Fatalf("want 203 frames (module, main, 201 recurse), got %d", len(u))
			}
			for i, f := range u[2:] {
				want := itoa(200 - i)
				line := mk("recurse-call")
				if i == 200 {
					line = mk("base")
				}
				if f.Function != "recurse" || f.Locals["n"].Repr != want || f.Line != line {
					t.Fatalf("frame %d: %s n=%s line %d, want recurse n=%s line %d", i+2, f.Function, f.Locals["n"].Repr, f.Line, want, line)
				}
			}
			st := loadState(t, py, db, 6)
			if len(st.Locals) < 201 {
				t.Errorf("the state holds the locals of %d frames", len(st.Locals))
			}
		})

		t.Run("unsaved values", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-7")
			f := topFrame(t, s)
			if v := frameLocal(t, f, "fine"); v.Repr != "[1, 2]" {
				t.Errorf("fine = %s", v.Repr)
			}
			// a lock no thread holds is made again (state.make_lock); a socket cannot be
			got := map[string]bool{}
			for _, p := range s.Placeholders {
				for _, name := range []string{"lock", "sock"} {
					if strings.Contains(p["where"], "'"+name+"'") && strings.Contains(p["where"], "unsaved_demo") && p["type"] != "" && p["repr"] != "" {
						got[name] = true
					}
				}
			}
			if got["lock"] || !got["sock"] {
				t.Errorf("want the socket, and not the lock, listed as placeholders: %v", s.Placeholders)
			}
			st := loadState(t, py, db, 7)
			ls := st.Locals[itoa(len(s.Frames)-1)]
			if ls["fine"].Repr != "[1, 2]" || ls["lock"].Type != "lock" || ls["sock"].Type != "Placeholder" {
				t.Errorf("loaded: fine=%+v lock=%+v sock=%+v", ls["fine"], ls["lock"], ls["sock"])
			}
		})

		t.Run("library frame in the middle", func(t *testing.T) {
			s := showJSON(t, dir, db, "snap-8")
			n := len(s.Frames)
			lib := s.Frames[n-2]
			// saved like the program's own frames (its source and locals), so that resume can rebuild it
			if !lib.Library || !strings.HasSuffix(lib.File, "copy.py") || lib.Function != "deepcopy" || lib.SHA256 == "" ||
				lib.Locals["copier"].Type != "method" {
				t.Errorf("the frame of copy.deepcopy should be a library frame with its source and locals: %+v", lib)
			}
			if top := s.Frames[n-1]; top.Library || top.Locals["inside"].Repr != "'deepcopy'" {
				t.Errorf("the program's frame above it: %+v", top)
			}
			if s.Frames[n-3].Function != "main" || s.Frames[n-3].Library {
				t.Errorf("the program's frame below it: %+v", s.Frames[n-3])
			}
		})
	})
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frameNames(s snapJSON) []string {
	var out []string
	for _, f := range s.Frames {
		out = append(out, f.Function+":"+itoa(f.Line))
	}
	return out
}

func stackTypes(f snapFrame) string {
	var out []string
	for _, v := range f.Stack {
		if v == nil {
			out = append(out, "<empty>")
		} else {
			out = append(out, v.Type+" "+v.Repr)
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func derefs(p []*int) []int {
	var out []int
	for _, x := range p {
		if x == nil {
			out = append(out, -1)
		} else {
			out = append(out, *x)
		}
	}
	return out
}
