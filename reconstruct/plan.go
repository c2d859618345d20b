// Package reconstruct turns a snapshot plus the recorded source into Python
// that rebuilds every frame of the stack and continues exactly at the
// recorded point. It is a pure function of its inputs (see Build); the shim
// (pyshim/pyreplay_shim/resume.py) loads the snapshot's state and runs it.
//
// Each program frame becomes one "chunk": the module frame's chunk is
// module-level code run in the module's own globals; a function frame's
// chunk defines a resume function with the original parameters whose body
// restores the locals and then runs the tail of the function from the
// recorded position. Enclosing blocks are rebuilt from the inside out:
// a `for` finishes its current iteration inside a one-shot loop (so break
// and continue keep their meaning) and then loops over the restored
// iterator; a `with` calls the recorded __exit__ through a context manager
// and never calls __enter__ again; an except body re-enters a handler for
// the recorded exception; and so on. A caller frame's call in progress is
// replaced by a call of the next frame's resume function, with the operands
// its expression had already evaluated taken from the recorded value stack.
// Anything that cannot be rebuilt exactly is refused with its file:line.
//
// Files: plan.go (Build: which frames, each frame's position, refusals),
// imports.go (imports in progress, library frames in the middle), chunk.go
// (one chunk per frame), blocks.go (the rest of a frame from its position),
// call.go (the call in progress inside its statement), callee.go (which
// call is in progress and what replaces it), percent.go (%-formats that
// 3.11+ compiles as f-strings), emit.go (source text copied with its line
// map), config.go (a resume's plan and configuration from a recording).
package reconstruct

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/wire"
)

// RT is the name under which the shim exposes resume helpers (a builtin).
const RT = "__pyreplay_rt__"

// Chunk is the generated code for one frame.
type Chunk struct {
	Frame    int         `json:"frame"`  // index in the snapshot's frames
	File     string      `json:"file"`   // original file name (co_filename)
	Module   string      `json:"module"` // module whose globals the code runs in
	Kind     string      `json:"kind"`   // module | function
	Source   string      `json:"source"`
	Map      [][]Segment `json:"map"`      // per generated line
	CodePath []string    `json:"codepath"` // co_name path from the chunk's code to the resume function
	Name     string      `json:"name"`     // function name
	Qualname string      `json:"qualname"` // original qualname
	Compiled string      `json:"compiled"` // qualname the resume function gets at compile time
	Params   []string    `json:"params"`   // original parameter names, in order
	Cells    []string    `json:"cells"`    // names bound to recorded cells
	Args     []ArgSource `json:"args"`     // how each parameter value is obtained
	Primed   bool        `json:"primed"`   // a suspended generator: advance it to its yield once built
	Library  bool        `json:"library"`  // a library module's frame: runs in the imported module itself
}

// ArgSource says where a resume function argument comes from.
type ArgSource struct {
	Name string `json:"name"`
	Cell bool   `json:"cell"` // pass the contents of the recorded cell
}

// Plan is everything the shim needs beyond the snapshot's state.
type Plan struct {
	Snap   int64   `json:"snap"`
	Chunks []Chunk `json:"chunks"` // outermost first
	First  int     `json:"first"`  // frame index of the outermost program frame
	// the outermost frame is a package that `python -m` was importing: once
	// it is imported, the shim runs the module as __main__ as runpy would
	RunMain bool `json:"run_main"`
}

// Refusal is a construct that cannot be resumed exactly.
type Refusal struct {
	What string
	File string
	Line int
}

func (r *Refusal) Error() string {
	if r.File == "" {
		return r.What
	}
	return fmt.Sprintf("%s at %s:%d", r.What, r.File, r.Line)
}

// Version is a CPython minor version.
type Version struct{ Major, Minor int }

// ParseVersion parses "3.11.7".
func ParseVersion(s string) Version {
	parts := strings.Split(s, ".")
	v := Version{3, 11}
	if len(parts) >= 2 {
		v.Major, _ = strconv.Atoi(parts[0])
		v.Minor, _ = strconv.Atoi(parts[1])
	}
	return v
}

// AtLeast reports v >= 3.minor.
func (v Version) AtLeast(minor int) bool { return v.Major > 3 || (v.Major == 3 && v.Minor >= minor) }

// Build generates the plan for snap. sources maps sha256 to file text.
// runModule says the run was `python -m MODULE`.
func Build(snap *wire.Snapshot, sources map[string][]byte, runModule bool) (plan *Plan, err error) {
	b := &builder{snap: snap, sources: sources, ver: ParseVersion(snap.Python), files: map[string]*astinfo.File{}, runModule: runModule}
	defer func() {
		// a bug in the analysis refuses the resume (nothing runs) instead
		// of crashing the command
		if p := recover(); p != nil {
			plan, err = nil, &Refusal{What: fmt.Sprintf("pyreplay could not analyse this stack (internal error: %v; please report it)", p), File: snap.File, Line: snap.Line}
		}
	}()
	return b.build()
}

type builder struct {
	snap    *wire.Snapshot
	sources map[string][]byte
	ver     Version
	files   map[string]*astinfo.File
	// per frame: the handled-exception reference for each handler step
	excRefs map[int]map[int]string
	// frames whose import statement is importing the next program frame's module
	importers map[int]bool
	runModule bool // the run was `python -m MODULE`
	frames    []*frameInfo
}

type frameInfo struct {
	idx   int
	fr    *wire.Frame
	file  *astinfo.File
	scope *astinfo.Scope
	stmt  *sitter.Node
	mode  string // before | loopnext | call | entry | clause
	path  []astinfo.Step
	call  *sitter.Node // the call in progress (mode call)
	// slots of block items by step index
	blockSlot  map[int]int
	blockItems int
	// mode classbody: the class statement, and how many decorators (whose
	// values are on the stack) precede it
	class      *sitter.Node
	decorators int
	next       *frameInfo // the frame this one calls
	// innermost: the frame the snapshot stopped in. Its code announces the
	// arrival at the recorded position (RT.arrive) so that the line events
	// of the rebuild above it are not reported as the program's.
	innermost bool
}

func (b *builder) refuse(fr *wire.Frame, line int, format string, a ...any) error {
	file := ""
	if fr != nil {
		file = fr.File
		if line == 0 {
			line = fr.Line
		}
	}
	return &Refusal{What: fmt.Sprintf(format, a...), File: file, Line: line}
}

func (b *builder) build() (*Plan, error) {
	s := b.snap
	if s.Meta.LayoutError != nil && *s.Meta.LayoutError != "" {
		return nil, &Refusal{What: "the interpreter's frame layout was not recognised when recording (" + *s.Meta.LayoutError + "), so loop and with state is missing"}
	}
	if s.Meta.MainThread != nil && !*s.Meta.MainThread {
		return nil, &Refusal{What: "a snapshot taken in a thread other than the main thread", File: s.File, Line: s.Line}
	}
	if len(s.Meta.Threads) > 0 {
		return nil, &Refusal{What: fmt.Sprintf("another thread (%s) was running", strings.Join(s.Meta.Threads, ", ")), File: s.File, Line: s.Line}
	}
	if len(s.Meta.UnstableSets) > 0 {
		return nil, &Refusal{What: fmt.Sprintf("%s holds a set of strings whose iteration order a new process cannot reproduce", s.Meta.UnstableSets[0])}
	}
	if s.Reason == "exception" {
		return nil, &Refusal{What: "an uncaught-exception snapshot (the stack has already unwound; resume an earlier snapshot)", File: s.File, Line: s.Line}
	}
	// program frames: skip library frames at the bottom; refuse them in the middle
	first := -1
	for i := range s.Frames {
		if !s.Frames[i].Library {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, &Refusal{What: "the snapshot holds no frame of the program's own code"}
	}
	prog, err := b.programFrames(first)
	if err != nil {
		return nil, err
	}
	runMain := false
	if !s.Frames[first].Module || s.Frames[first].ModuleName != "__main__" {
		if !s.Frames[first].Module {
			return nil, b.refuse(&s.Frames[first], 0, "the outermost program frame is not the main module")
		}
		// `python -m pkg.mod`: runpy imports the package before it runs the
		// module as __main__; the import finishes, then runpy's work goes on
		if first == 0 || !isImportMachinery(&s.Frames[first-1]) || !b.runModule {
			return nil, b.refuse(&s.Frames[first], 0, "the outermost frame is the import of module %s", s.Frames[first].ModuleName)
		}
		runMain = true
	}
	// analyse every frame
	for k, i := range prog {
		fi, err := b.analyse(i, k == len(prog)-1)
		if err != nil {
			return nil, err
		}
		b.frames = append(b.frames, fi)
	}
	for k := range b.frames {
		if k+1 < len(b.frames) {
			b.frames[k].next = b.frames[k+1]
		}
	}
	if err := b.handledExceptions(); err != nil {
		return nil, err
	}
	plan := &Plan{Snap: s.N, First: first, RunMain: runMain}
	for k := range s.Meta.Generators {
		g := &s.Meta.Generators[k]
		fi, err := b.analyseFrame(GenBase+k, g, false)
		if err != nil {
			return nil, err
		}
		b.excRefs[fi.idx] = map[int]string{}
		c, err := b.chunk(fi, nil)
		if err != nil {
			return nil, err
		}
		c.Kind = "generator"
		c.Primed = g.Kind == "suspended"
		plan.Chunks = append(plan.Chunks, *c)
	}
	for k, fi := range b.frames {
		if fi.fr.ClassBody {
			continue // emitted inside its caller's class statement
		}
		c, err := b.chunk(fi, fi.next)
		if err != nil {
			return nil, err
		}
		if fi.fr.Module && (k > 0 || runMain) {
			c.Kind = "import" // run by its importer's import statement (or by runpy)
		}
		plan.Chunks = append(plan.Chunks, *c)
	}
	if err := b.checkPlaceholders(plan); err != nil {
		return nil, err
	}
	return plan, nil
}

func (b *builder) file(fr *wire.Frame) (*astinfo.File, error) {
	if f, ok := b.files[fr.SHA256]; ok {
		return f, nil
	}
	src, ok := b.sources[fr.SHA256]
	if !ok {
		return nil, b.refuse(fr, 0, "the recording holds no source for %s", fr.File)
	}
	f, err := astinfo.Parse(src)
	if err != nil {
		return nil, b.refuse(fr, 0, "the recorded source of %s does not parse (%v)", filepath.Base(fr.File), err)
	}
	if f.HasTabIndent() {
		return nil, b.refuse(fr, 0, "tab-indented source")
	}
	b.files[fr.SHA256] = f
	return f, nil
}

var callOps = map[string]bool{
	"CALL": true, "CALL_KW": true, "CALL_FUNCTION": true, "CALL_METHOD": true, "CALL_FUNCTION_KW": true,
	"CALL_FUNCTION_EX": true, "PRECALL": true,
}

// GenBase numbers the suspended generators' chunks after the stack's frames.
const GenBase = 1000000

func (b *builder) analyse(i int, innermost bool) (*frameInfo, error) {
	return b.analyseFrame(i, &b.snap.Frames[i], innermost)
}

func (b *builder) analyseFrame(i int, fr *wire.Frame, innermost bool) (*frameInfo, error) {
	fi := &frameInfo{idx: i, fr: fr, innermost: innermost}
	if fr.Coroutine {
		return nil, b.refuse(fr, 0, "a coroutine (%s)", fr.Function)
	}
	if fr.Function == "<lambda>" || strings.HasSuffix(fr.Function, ".<lambda>") {
		return nil, b.refuse(fr, 0, "a lambda frame (%s)", fr.Function)
	}
	if strings.HasSuffix(fr.Name, "comp>") || fr.Name == "<genexpr>" {
		return nil, b.refuse(fr, 0, "a comprehension (%s) in progress", fr.Name)
	}
	f, err := b.file(fr)
	if err != nil {
		return nil, err
	}
	fi.file = f
	if fr.Module {
		fi.scope = f.Scopes()[0]
	} else if fr.ClassBody {
		sc, err := f.FindClass(fr.Function, fr.FirstLine)
		if err != nil {
			return nil, b.refuse(fr, 0, "class %s not found in the recorded source", fr.Function)
		}
		fi.scope = sc
	} else {
		sc, err := f.FindScope(fr.Function, fr.FirstLine)
		if err != nil {
			return nil, b.refuse(fr, 0, "function %s not found in the recorded source", fr.Function)
		}
		fi.scope = sc
	}
	kind := fr.Kind
	if innermost && b.snap.Reason == "request" && kind != "call" {
		return nil, b.refuse(fr, 0, "a pyreplay.snapshot() request outside a call")
	}
	switch kind {
	case "entry":
		fi.mode = "entry"
	case "line", "hook":
		st := f.StatementAt(fi.scope, fr.Line)
		if st == nil && fr.ClassBody && (fr.Line == astinfo.Line(fi.scope.Node) || fr.Line == fi.scope.FirstLine()) {
			fi.mode = "entry" // the class body has not run a statement yet
			break
		}
		if st == nil {
			cl := f.ClauseAt(fi.scope, fr.Line)
			primary := kind == "hook" || fr.Primary == nil || *fr.Primary
			if cl != nil && cl.Type() == "elif_clause" && primary {
				fi.stmt = cl
				fi.mode = "clause"
				break
			}
			if cl != nil && primary && b.ver.AtLeast(11) && (cl.Type() == "except_clause" || cl.Type() == "case_clause") {
				fi.stmt = cl
				fi.mode = "clause"
				break
			}
			if cl != nil {
				return nil, b.refuse(fr, 0, "a position inside the %s header", strings.TrimSuffix(cl.Type(), "_clause"))
			}
			return nil, b.refuse(fr, 0, "no statement starts on this line")
		}
		fi.stmt = st
		fi.mode = "before"
		if kind == "line" && fr.Primary != nil && !*fr.Primary {
			switch {
			case st.Type() == "for_statement" && fr.Op == "FOR_ITER":
				fi.mode = "loopnext"
			case st.Type() == "for_statement" || st.Type() == "with_statement":
				return nil, b.refuse(fr, 0, "a position inside the statement (instruction %s)", fr.Op)
			default:
				// checked below: the value stack must hold exactly the block items
				fi.mode = "before"
			}
		}
	case "call":
		if fr.Callee == "build_class" {
			line, col := fr.Line, -1
			if len(fr.Pos) == 4 && fr.Pos[0] != nil && fr.Pos[2] != nil {
				line, col = *fr.Pos[0], *fr.Pos[2]
			}
			st := f.StatementAt(fi.scope, line)
			var decorated *sitter.Node
			if st != nil && st.Type() == "decorated_definition" {
				decorated, st = st, st.ChildByFieldName("definition")
			}
			if st == nil {
				// the class line of `@decorator\nclass C:` starts no statement of
				// the scope: the decorated definition starts at the decorator
				for _, d := range astinfo.FindNodes(fi.scope.Body(), "decorated_definition") {
					if def := d.ChildByFieldName("definition"); def != nil && astinfo.Line(def) == line {
						decorated, st = d, def
					}
				}
			}
			if st == nil || st.Type() != "class_definition" || (col >= 0 && astinfo.Col(st) != col) {
				return nil, b.refuse(fr, 0, "a class body in progress whose class statement was not found")
			}
			if sup := st.ChildByFieldName("superclasses"); sup != nil {
				for _, a := range namedChildren(sup) {
					if a.Type() != "identifier" && a.Type() != "attribute" && a.Type() != "subscript" && a.Type() != "call" {
						return nil, b.refuse(fr, 0, "a class statement with %s in its header", a.Type())
					}
				}
				if len(namedChildren(sup)) != fr.NBases {
					return nil, b.refuse(fr, 0, "a class statement whose bases could not be matched")
				}
			} else if fr.NBases != 0 {
				return nil, b.refuse(fr, 0, "a class statement whose bases could not be matched")
			}
			fi.stmt, fi.class = st, st
			if decorated != nil {
				// its decorators were evaluated before the body started: their
				// values sit on the value stack below the bases
				fi.stmt = decorated
				fi.decorators = len(childrenOfType(decorated, "decorator"))
			}
			fi.mode = "classbody"
			break
		}
		if fr.Op == "FOR_ITER" && i+1 < len(b.snap.Frames) && b.snap.Frames[i+1].Generator {
			st := f.StatementAt(fi.scope, fr.Line)
			if st == nil || st.Type() != "for_statement" {
				return nil, b.refuse(fr, 0, "a generator driven by something other than a for statement")
			}
			fi.stmt = st
			fi.mode = "loopnext"
			break
		}
		if b.importers[i] {
			st := f.StatementAt(fi.scope, fr.Line)
			if st == nil || !importStatements[st.Type()] {
				return nil, b.refuse(fr, 0, "an import in progress outside an import statement")
			}
			fi.stmt = st
			fi.mode = "import"
			break
		}
		if !callOps[fr.Op] {
			return nil, b.refuse(fr, 0, "%s in progress", implicitCall(fr.Op))
		}
		var call *sitter.Node
		if b.ver.AtLeast(11) && len(fr.Pos) == 4 && fr.Pos[0] != nil && fr.Pos[2] != nil && fr.Pos[1] != nil && fr.Pos[3] != nil {
			call = f.CallAtSpan(fi.scope, *fr.Pos[0], *fr.Pos[1], *fr.Pos[2], *fr.Pos[3])
			if call == nil {
				return nil, b.refuse(fr, 0, "%s in progress", spanDescription(f, fi.scope, *fr.Pos[0], *fr.Pos[2]))
			}
		} else {
			var err error
			call, err = b.callOnLine(fi, i)
			if err != nil {
				return nil, err
			}
		}
		fi.call = call
		st := astinfo.EnclosingStatement(call)
		if st == nil {
			return nil, b.refuse(fr, 0, "a call outside any statement")
		}
		fi.stmt = st
		fi.mode = "call"
	case "created":
		fi.mode = "entry"
	case "suspended":
		var y *sitter.Node
		if b.ver.AtLeast(11) && len(fr.Pos) == 4 && fr.Pos[0] != nil && fr.Pos[1] != nil && fr.Pos[2] != nil && fr.Pos[3] != nil {
			for _, n := range astinfo.FindNodes(fi.scope.Body(), "yield") {
				if astinfo.Line(n) == *fr.Pos[0] && astinfo.Col(n) == *fr.Pos[2] {
					y = n
				}
			}
		}
		if y == nil {
			var cands []*sitter.Node
			for _, n := range astinfo.FindNodes(fi.scope.Body(), "yield") {
				if astinfo.Line(n) <= fr.Line && astinfo.EndLine(n) >= fr.Line {
					cands = append(cands, n)
				}
			}
			if len(cands) != 1 {
				return nil, b.refuse(fr, 0, "a suspended generator whose yield cannot be told apart (%d on the line)", len(cands))
			}
			y = cands[0]
		}
		if hasChild(y, "from") || strings.HasPrefix(f.Text(y), "yield from") {
			return nil, b.refuse(fr, 0, "a generator suspended in yield from")
		}
		fi.call = y
		st := astinfo.EnclosingStatement(y)
		if st == nil {
			return nil, b.refuse(fr, 0, "a yield outside any statement")
		}
		fi.stmt = st
		fi.mode = "call"
	case "exception":
		return nil, b.refuse(fr, 0, "a frame unwound by an exception")
	default:
		return nil, b.refuse(fr, 0, "an unknown frame state %q", kind)
	}
	if kind == "line" && fi.mode == "before" && fr.Primary != nil && !*fr.Primary {
		// a second copy of the statement's code (CPython duplicates small
		// blocks); only safe outside finally, where copies differ in where
		// they continue
		for _, st := range f.PathTo(fi.scope, fi.stmt) {
			if st.Clause == "finally" {
				return nil, b.refuse(fr, 0, "a position in a copy of a finally block")
			}
		}
	}
	if fi.mode != "entry" {
		anchor := clauseOwner(fi.stmt)
		fi.path = f.PathTo(fi.scope, anchor)
		for _, st := range fi.path {
			if st.Owner != nil && st.Owner.Type() == "class_definition" {
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "a class body in progress")
			}
			if st.Owner != nil && (st.Owner.Type() == "try_statement") && hasChild(st.Owner, "except_group_clause") {
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "try/except*")
			}
			if st.Owner != nil && isAsync(st.Owner) {
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "async %s", st.Owner.Type())
			}
		}
	}
	// block items on the value stack
	fi.blockSlot = map[int]int{}
	n := 0
	for k, st := range fi.path {
		if st.Owner == nil {
			continue
		}
		fi.blockSlot[k] = n
		n += b.itemsFor(st)
	}
	if fi.mode == "loopnext" {
		fi.blockSlot[len(fi.path)] = n
		n++
	}
	if fi.mode == "classbody" {
		fi.blockSlot[len(fi.path)] = n // the bases follow the block items
	}
	if fi.mode == "clause" && fi.stmt.Type() == "except_clause" {
		n += 2 // the previous exception and the one being matched
	}
	if fi.mode == "clause" && fi.stmt.Type() == "case_clause" {
		n++ // the subject being matched
	}
	fi.blockItems = n
	return fi, nil
}

func hasChild(n *sitter.Node, typ string) bool {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if n.NamedChild(i).Type() == typ {
			return true
		}
	}
	return false
}

func isAsync(n *sitter.Node) bool {
	if n.ChildCount() > 0 && n.Child(0).Type() == "async" {
		return true
	}
	return false
}

// itemsFor is the number of value-stack items a block keeps while its
// clause runs, on the recorded CPython version.
func (b *builder) itemsFor(st astinfo.Step) int {
	switch st.Owner.Type() {
	case "for_statement":
		if st.Clause == "body" {
			return 1
		}
	case "with_statement":
		return len(withItems(st.Owner))
	case "try_statement":
		if st.Clause == "handler" {
			if b.ver.AtLeast(11) {
				return 1
			}
			return 3
		}
		if st.Clause == "finally" && !b.ver.AtLeast(9) {
			return 1
		}
	}
	return 0
}

func withItems(w *sitter.Node) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(w.NamedChildCount()); i++ {
		c := w.NamedChild(i)
		if c.Type() == "with_clause" {
			for j := 0; j < int(c.NamedChildCount()); j++ {
				if c.NamedChild(j).Type() == "with_item" {
					out = append(out, c.NamedChild(j))
				}
			}
		}
	}
	return out
}

// handledExceptions works out, for every except body on the stack, where
// the exception it handles is recorded: innermost first, the exception
// captured with the snapshot, then each handler's saved previous exception.
func (b *builder) handledExceptions() error {
	b.excRefs = map[int]map[int]string{}
	cur := ""
	if b.snap.Meta.HasExc {
		cur = "exc"
	}
	for k := len(b.frames) - 1; k >= 0; k-- {
		fi := b.frames[k]
		refs := map[int]string{}
		for s := len(fi.path) - 1; s >= 0; s-- {
			st := fi.path[s]
			if st.Owner == nil || st.Owner.Type() != "try_statement" || st.Clause != "handler" {
				continue
			}
			refs[s] = cur
			slot := fi.blockSlot[s]
			if b.ver.AtLeast(11) {
				cur = fmt.Sprintf("S:%d:%d", fi.idx, slot)
			} else {
				cur = fmt.Sprintf("S:%d:%d", fi.idx, slot+1)
			}
		}
		b.excRefs[fi.idx] = refs
	}
	return nil
}

// excExpr is the Python expression for the exception a handler handles.
func (b *builder) excExpr(fi *frameInfo, step int) (string, error) {
	ref := b.excRefs[fi.idx][step]
	if ref == "" {
		return "", b.refuse(fi.fr, astinfo.Line(fi.path[step].Node), "an except body whose exception was not recorded")
	}
	if ref == "exc" {
		return RT + ".exc()", nil
	}
	parts := strings.Split(ref, ":")
	return fmt.Sprintf("%s.handled(%s, %s)", RT, parts[1], parts[2]), nil
}

func (b *builder) checkPlaceholders(plan *Plan) error {
	if len(b.snap.Placeholders) == 0 {
		return nil
	}
	for _, p := range b.snap.Placeholders {
		if strings.HasPrefix(p.Where, "value-stack item") {
			return &Refusal{What: fmt.Sprintf("%s is a %s that could not be saved (%s)", p.Where, p.Type, p.Repr)}
		}
	}
	// a global that could not be saved blocks the resume if the source of
	// any module of the program mentions its name (whoever reads it next)
	var mentioned map[string]bool
	for _, p := range b.snap.Placeholders {
		if !strings.HasPrefix(p.Where, "global '") {
			continue
		}
		if mentioned == nil {
			mentioned = map[string]bool{}
			for _, src := range b.sources {
				for _, id := range identifiers(string(src)) {
					mentioned[id] = true
				}
			}
		}
		rest := p.Where[len("global '"):]
		if name := rest[:strings.Index(rest, "'")]; mentioned[name] {
			return &Refusal{What: fmt.Sprintf("%s (%s %s) could not be saved and the program's code mentions it", p.Where, p.Type, p.Repr)}
		}
	}
	// a local that could not be saved blocks the resume only if the code
	// that still runs in its frame mentions it
	for _, fi := range b.frames {
		used := map[string]bool{}
		for _, c := range plan.Chunks {
			if c.Frame == fi.idx {
				for _, id := range identifiers(c.Source) {
					used[id] = true
				}
			}
		}
		for _, p := range b.snap.Placeholders {
			prefix := "local '"
			if !strings.HasPrefix(p.Where, prefix) {
				continue
			}
			rest := p.Where[len(prefix):]
			name := rest[:strings.Index(rest, "'")]
			if strings.Contains(p.Where, fmt.Sprintf(" of %s() at ", fi.fr.Function)) && used[name] {
				return &Refusal{What: fmt.Sprintf("%s (%s %s) could not be saved and the rest of the code uses it", p.Where, p.Type, p.Repr)}
			}
		}
	}
	return nil
}

func identifiers(src string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range src {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127 {
			cur.WriteRune(r)
		} else {
			flush()
		}
	}
	flush()
	return out
}
