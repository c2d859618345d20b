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
package reconstruct

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/recording"
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
func Build(snap *recording.Snapshot, sources map[string][]byte, runModule bool) (plan *Plan, err error) {
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
	snap    *recording.Snapshot
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
	fr    *recording.Frame
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
}

func (b *builder) refuse(fr *recording.Frame, line int, format string, a ...any) error {
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

func (b *builder) file(fr *recording.Frame) (*astinfo.File, error) {
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

func (b *builder) analyseFrame(i int, fr *recording.Frame, innermost bool) (*frameInfo, error) {
	fi := &frameInfo{idx: i, fr: fr}
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

// ------------------------------------------------------------------ chunks

func (b *builder) chunk(fi *frameInfo, next *frameInfo) (*Chunk, error) {
	fr := fi.fr
	e := newEmitter(fi.file)
	c := &Chunk{Frame: fi.idx, File: fr.File, Module: fr.ModuleName, Qualname: fr.Function, Name: fr.Name, Library: fr.Library}
	indent := 0
	if fr.Module {
		c.Kind = "module"
	} else {
		c.Kind = "function"
		var err error
		indent, err = b.functionHeader(e, fi, c)
		if err != nil {
			return nil, err
		}
	}
	// the statement at the position, then the rest of each enclosing block
	subst, err := b.substFor(fi, next)
	if err != nil {
		return nil, err
	}
	if fi.mode == "entry" {
		body := fi.scope.Body()
		for _, st := range astinfo.Statements(body) {
			e.node(indent, st, nil)
		}
	} else if err := b.emitLevel(e, fi, 0, indent, subst); err != nil {
		return nil, err
	}
	c.Source, c.Map = e.source()
	return c, nil
}

// functionHeader emits the scaffolding around a resume function and
// returns the indentation of its body.
func (b *builder) functionHeader(e *emitter, fi *frameInfo, c *Chunk) (int, error) {
	fr := fi.fr
	sc := fi.scope
	defLine := astinfo.Line(sc.Node)
	firstLine := sc.FirstLine()
	col := astinfo.Col(sc.Node)
	nargs := fr.NArgs
	if nargs > len(fr.Varnames) {
		return 0, b.refuse(fr, 0, "inconsistent parameter information")
	}
	params := fr.Varnames[:nargs]
	cellSet := map[string]bool{}
	for _, n := range fr.Cellvars {
		cellSet[n] = true
	}
	for _, n := range fr.Freevars {
		cellSet[n] = true
	}
	var cells []string
	for _, n := range append(append([]string{}, fr.Cellvars...), fr.Freevars...) {
		if n == "__class__" {
			continue
		}
		cells = append(cells, n)
	}
	c.Cells = append(append([]string{}, fr.Cellvars...), fr.Freevars...)
	e.synth(0, "def _pyr_factory():", firstLine, 0)
	ind := 4
	if len(cells) > 0 {
		e.synth(ind, strings.Join(cells, " = ")+" = None", firstLine, 0)
	}
	c.CodePath = []string{"_pyr_factory"}
	compiled := "_pyr_factory.<locals>."
	// names the scaffolding binds (the function, the class wrapper) must stay
	// globals inside the body unless they were closure variables already
	scaffold := fr.Name
	if sc.ClassName != "" {
		scaffold = sc.ClassName
	}
	inCells := false
	for _, n := range cells {
		if n == scaffold {
			inCells = true
		}
	}
	if !inCells {
		e.synth(ind, "global "+scaffold, firstLine, 0)
	}
	if sc.ClassName != "" {
		e.synth(ind, "class "+sc.ClassName+":", firstLine, 0)
		ind += 4
		c.CodePath = append(c.CodePath, sc.ClassName)
		compiled += sc.ClassName + "."
	}
	var plist []string
	for k, p := range params {
		if cellSet[p] {
			plist = append(plist, fmt.Sprintf("_pyr_p%d", k))
			c.Args = append(c.Args, ArgSource{Name: p, Cell: true})
		} else {
			plist = append(plist, p)
			c.Args = append(c.Args, ArgSource{Name: p})
		}
		if _, ok := fr.Locals[p]; !ok {
			return 0, b.refuse(fr, 0, "parameter %s is unbound", p)
		}
	}
	c.Params = params
	name := fr.Name
	e.synth(ind, "def "+name+"("+strings.Join(plist, ", ")+"):", defLine, col)
	c.CodePath = append(c.CodePath, name)
	c.Compiled = compiled + name
	ind += 4
	var nonlocals []string
	paramSet := map[string]bool{}
	for _, p := range params {
		paramSet[p] = true
	}
	for _, n := range cells {
		if !paramSet[n] || cellSet[n] {
			nonlocals = append(nonlocals, n)
		}
	}
	if len(nonlocals) > 0 {
		e.synth(ind, "nonlocal "+strings.Join(nonlocals, ", "), defLine, col)
	}
	if g := fi.file.GlobalNames(sc); len(g) > 0 {
		e.synth(ind, "global "+strings.Join(dedupe(g), ", "), defLine, col)
	}
	var locals []string
	for _, v := range fr.Varnames[nargs:] {
		if !cellSet[v] {
			locals = append(locals, v)
		}
	}
	if len(locals) > 0 {
		e.synth(ind, "if False: "+strings.Join(locals, " = ")+" = None", defLine, col)
	}
	if fr.Generator {
		// keep it a generator even when no yield is left in the tail
		e.synth(ind, "if False: yield", defLine, col)
	}
	names := make([]string, 0, len(fr.Locals))
	for n := range fr.Locals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if paramSet[n] || cellSet[n] {
			continue
		}
		e.synth(ind, fmt.Sprintf("%s = %s.L(%d, %q)", n, RT, fi.idx, n), defLine, col)
	}
	return ind, nil
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// calleeExpr is the expression that runs the next frame's resume function
// in place of the call in progress.
func (b *builder) calleeExpr(caller, callee *frameInfo) (string, error) {
	fr := callee.fr
	var args []string
	for k := range fr.Varnames[:min(fr.NArgs, len(fr.Varnames))] {
		args = append(args, fmt.Sprintf("%s.A(%d, %d)", RT, callee.idx, k))
	}
	call := fmt.Sprintf("%s.F[%d](%s)", RT, callee.idx, strings.Join(args, ", "))
	name := caller.file.CalleeName(caller.call)
	if fr.Generator {
		switch name {
		case "next", "send", "__next__":
			return fmt.Sprintf("next(%s.G(%d))", RT, callee.idx), nil
		}
		return "", b.refuse(caller.fr, 0, "a generator (%s) advanced by %s", fr.Function, orUnknown(name))
	}
	explicit := caller.fr.Callee == "function" || caller.fr.Callee == "method" || caller.fr.Callee == "class" ||
		caller.fr.Callee == "instance"
	if strings.HasPrefix(fr.Name, "__") && strings.HasSuffix(fr.Name, "__") && fr.Name != name && !explicit {
		return "", b.refuse(caller.fr, 0, "%s called by the interpreter (not by the call %s)", fr.Function, orUnknown(name))
	}
	switch caller.fr.Callee {
	case "function", "method", "instance":
	case "class":
		if fr.Name == "__init__" {
			return fmt.Sprintf("%s.init(%d, %s)", RT, callee.idx, call), nil
		}
		return "", b.refuse(caller.fr, 0, "the class call in progress (%s) reached %s", orUnknown(name), fr.Function)
	case "other":
		return "", b.refuse(caller.fr, 0, "the call in progress (%s) reaches %s through C code (for example a key= or map() callback)", orUnknown(name), fr.Function)
	default:
		if fr.FromC || !b.ver.AtLeast(11) {
			return "", b.refuse(caller.fr, 0, "the call in progress (%s) could not be matched with %s", orUnknown(name), fr.Function)
		}
	}
	return call, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an expression"
	}
	return s
}

// emitLevel emits, at nesting level k of the block path, the code that
// finishes that block from the position, followed by the statements after it.
func (b *builder) emitLevel(e *emitter, fi *frameInfo, k, ind int, subst string) error {
	path := fi.path
	suite := path[k].Suite
	var anchor *sitter.Node // the statement in this suite that contains the position
	if k == len(path)-1 {
		anchor = fi.stmt
		if err := b.emitPosition(e, fi, ind, subst); err != nil {
			return err
		}
	} else {
		anchor = path[k+1].Owner
		if err := b.emitWrap(e, fi, k+1, ind, subst); err != nil {
			return err
		}
	}
	// the statements after the anchor in this suite
	anchor = clauseOwner(anchor)
	after := false
	for _, st := range astinfo.Statements(suite) {
		if after {
			e.node(ind, st, nil)
		}
		if st.Equal(anchor) {
			after = true
		}
	}
	return nil
}

// emitWrap emits the rest of the compound statement path[k].Owner, whose
// clause path[k] holds the position.
func (b *builder) emitWrap(e *emitter, fi *frameInfo, k, ind int, subst string) error {
	st := fi.path[k]
	o := st.Owner
	line, col := astinfo.Line(o), astinfo.Col(o)
	inner := func(ind2 int) error { return b.emitLevel(e, fi, k, ind2, subst) }
	switch o.Type() {
	case "if_statement", "match_statement":
		return inner(ind)
	case "for_statement", "while_statement":
		if st.Clause == "else" {
			return inner(ind)
		}
		e.synth(ind, fmt.Sprintf("for %s.x in %s.once():", RT, RT), line, col)
		if err := inner(ind + 4); err != nil {
			return err
		}
		e.synth(ind, "else:", line, col)
		if o.Type() == "for_statement" {
			right := o.ChildByFieldName("right")
			e.node(ind+4, o, []repl{{right.StartByte(), right.EndByte(), fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockSlot[k])}})
		} else {
			e.node(ind+4, o, nil)
		}
		return nil
	case "with_statement":
		items := withItems(o)
		var cms []string
		for j := range items {
			cms = append(cms, fmt.Sprintf("%s.exitcm(%d, %d)", RT, fi.idx, fi.blockSlot[k]+j))
		}
		e.synth(ind, "with "+strings.Join(cms, ", ")+":", line, col)
		return inner(ind + 4)
	case "try_statement":
		fin := childOfType(o, "finally_clause")
		switch st.Clause {
		case "body":
			e.synth(ind, "try:", line, col)
			if err := inner(ind + 4); err != nil {
				return err
			}
			// the handlers, else and finally, as written
			var firstClause *sitter.Node
			for i := 0; i < int(o.NamedChildCount()); i++ {
				c := o.NamedChild(i)
				if c.Type() == "except_clause" || c.Type() == "else_clause" || c.Type() == "finally_clause" {
					firstClause = c
					break
				}
			}
			if firstClause != nil {
				e.span(ind, firstClause.StartByte(), o.EndByte(), nil)
			}
			return nil
		case "handler", "else", "finally":
			body := ind
			if fin != nil && st.Clause != "finally" {
				e.synth(ind, "try:", line, col)
				body = ind + 4
			}
			if st.Clause == "handler" {
				ex, err := b.excExpr(fi, k)
				if err != nil {
					return err
				}
				h := st.Node
				hl, hc := astinfo.Line(h), astinfo.Col(h)
				e.synth(body, "try:", hl, hc)
				e.synth(body+4, "raise "+ex, hl, hc)
				as := ""
				if n := exceptName(fi.file, h); n != "" {
					as = " as " + n
				}
				e.synth(body, "except BaseException"+as+":", hl, hc)
				if err := inner(body + 4); err != nil {
					return err
				}
			} else if err := inner(body); err != nil {
				return err
			}
			if fin != nil && st.Clause != "finally" {
				e.node(ind, fin, nil)
			}
			return nil
		}
	}
	return b.refuse(fi.fr, line, "a position inside %s", strings.ReplaceAll(o.Type(), "_", " "))
}

func childOfType(n *sitter.Node, typ string) *sitter.Node {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			return c
		}
	}
	return nil
}

// exceptName is the name bound by `except E as name`, if any.
func exceptName(f *astinfo.File, h *sitter.Node) string {
	for i := 0; i < int(h.NamedChildCount()); i++ {
		c := h.NamedChild(i)
		if c.Type() == "as_pattern" {
			if a := c.ChildByFieldName("alias"); a != nil {
				return strings.TrimSpace(f.Text(a))
			}
		}
	}
	return ""
}

// emitPosition emits the statement at the recorded position.
func (b *builder) emitPosition(e *emitter, fi *frameInfo, ind int, subst string) error {
	st := fi.stmt
	switch fi.mode {
	case "before":
		if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && fi.blockItems > 0 {
			return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
		}
		e.node(ind, st, nil)
	case "loopnext":
		if fi.fr.Stack == nil || len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		right := st.ChildByFieldName("right")
		e.node(ind, st, []repl{{right.StartByte(), right.EndByte(), fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockSlot[len(fi.path)])}})
	case "clause":
		if fi.fr.Stack != nil && len(fi.fr.Stack) != fi.blockItems {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && st.Type() != "elif_clause" {
			return b.refuse(fi.fr, 0, "the value stack could not be read")
		}
		owner := clauseOwner(st)
		line, col := astinfo.Line(owner), astinfo.Col(owner)
		switch st.Type() {
		case "elif_clause":
			// `elif c:` is about to be tested: the earlier tests were false
			e.span(ind, st.StartByte(), owner.EndByte(), []repl{{st.StartByte(), st.StartByte() + 4, "if"}})
		case "except_clause":
			// the exception is being matched against this handler and the next
			fin := childOfType(owner, "finally_clause")
			body := ind
			if fin != nil {
				e.synth(ind, "try:", line, col)
				body += 4
			}
			e.synth(body, "try:", line, col)
			e.synth(body+4, fmt.Sprintf("raise %s.S(%d, %d)", RT, fi.idx, fi.blockItems-1), astinfo.Line(st), astinfo.Col(st))
			last := st
			for _, c := range namedChildren(owner) {
				if c.Type() == "except_clause" {
					last = c
				}
			}
			e.span(body, st.StartByte(), last.EndByte(), nil)
			if fin != nil {
				e.node(ind, fin, nil)
			}
		case "case_clause":
			e.synth(ind, fmt.Sprintf("match %s.S(%d, %d):", RT, fi.idx, fi.blockItems-1), line, col)
			e.span(ind+4, st.StartByte(), owner.EndByte(), nil)
		}
	case "call":
		return b.emitCall(e, fi, ind, subst)
	case "import":
		// the imported module's code finishes, then the statement runs
		// again: the module is in sys.modules now, so it only binds names
		// (and imports what the statement names after that module)
		if fi.fr.Stack != nil && (len(fi.fr.Stack) < fi.blockItems || len(fi.fr.Stack) > fi.blockItems+2) {
			return b.stackMismatch(fi, fi.blockItems)
		}
		if fi.fr.Stack == nil && fi.blockItems > 0 {
			return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
		}
		if fi.next == nil || !fi.next.fr.Module {
			return b.refuse(fi.fr, 0, "an import in progress whose module was not recorded")
		}
		e.synth(ind, fmt.Sprintf("%s.imp(%d)", RT, fi.next.idx), astinfo.Line(st), astinfo.Col(st))
		e.node(ind, st, nil)
	case "classbody":
		return b.emitClassBody(e, fi, ind)
	}
	return nil
}

func (b *builder) stackMismatch(fi *frameInfo, want int) error {
	got := -1
	if fi.fr.Stack != nil {
		got = len(fi.fr.Stack)
	}
	if got < 0 {
		return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
	}
	return b.refuse(fi.fr, 0, "an expression in progress (%d value-stack items, %d expected)", got, want)
}

// implicitCall describes a call the interpreter makes on its own.
func implicitCall(op string) string {
	switch op {
	case "BEFORE_WITH", "SETUP_WITH", "BEFORE_ASYNC_WITH":
		return "a with statement's __enter__"
	case "WITH_EXCEPT_START", "WITH_CLEANUP_START":
		return "a with statement's __exit__"
	case "FOR_ITER", "GET_ITER":
		return "an iterator's __iter__/__next__ (or a generator)"
	case "BINARY_OP", "COMPARE_OP", "BINARY_SUBSCR", "STORE_SUBSCR", "CONTAINS_OP", "UNARY_NEGATIVE", "UNARY_NOT":
		return "an operator method"
	case "LOAD_ATTR", "STORE_ATTR", "LOAD_METHOD", "DELETE_ATTR":
		return "a property or attribute hook"
	case "IMPORT_NAME", "IMPORT_FROM":
		return "an import"
	case "SEND", "YIELD_VALUE", "GET_AWAITABLE":
		return "a generator or coroutine step"
	}
	if strings.HasPrefix(op, "BINARY_") || strings.HasPrefix(op, "INPLACE_") {
		return "an operator method"
	}
	return "a call made by the interpreter (instruction " + op + ")"
}

// spanDescription names what starts at (line, col) when it is not a call.
func spanDescription(f *astinfo.File, scope *astinfo.Scope, line, col int) string {
	var found string
	f.ScopeStatements(scope, func(n *sitter.Node) bool {
		if astinfo.Line(n) == line && astinfo.Col(n) == col {
			switch n.Type() {
			case "class_definition":
				found = "a class body (" + f.Text(n.ChildByFieldName("name")) + ")"
			case "decorated_definition":
				found = "a decorator call"
			}
			return false
		}
		return true
	})
	for _, d := range astinfo.FindNodes(scope.Body(), "decorator") {
		if astinfo.Line(d) == line {
			found = "a decorator call"
		}
	}
	if found == "" {
		found = fmt.Sprintf("an implicit call (columns %d+)", col)
	}
	return found
}

// callOnLine finds the call in progress when the interpreter (<= 3.10)
// records only the line: by the callee's name, then by the order of calls.
func (b *builder) callOnLine(fi *frameInfo, i int) (*sitter.Node, error) {
	fr := fi.fr
	f := fi.file
	calls := f.CallsOnLine(fi.scope, fr.Line)
	if len(calls) == 1 {
		return calls[0], nil
	}
	want := ""
	if i+1 < len(b.snap.Frames) && i < GenBase {
		next := b.snap.Frames[i+1]
		want = next.Name
		if fr.Callee == "class" {
			want = next.Function
			if k := strings.LastIndex(want, ".__init__"); k >= 0 {
				want = want[:k]
			}
			if k := strings.LastIndex(want, "."); k >= 0 {
				want = want[k+1:]
			}
		}
	} else if b.snap.Reason == "request" {
		want = "snapshot"
	}
	var named []*sitter.Node
	for _, c := range calls {
		if f.CalleeName(c) == want {
			named = append(named, c)
		}
	}
	if len(named) == 1 {
		return named[0], nil
	}
	if fr.CallOrdinal != nil && len(named) != 1 && len(calls) > 0 {
		// the recorder counted the calls of the line that completed before
		// this one: in source post-order when nothing on the line evaluates
		// out of order. With several calls of that name the name must agree;
		// with none (the function reached through a parameter or an alias,
		// `fn(it)` running square) the count alone decides
		post := postOrderCalls(calls)
		if *fr.CallOrdinal < len(post) && (len(named) == 0 || f.CalleeName(post[*fr.CallOrdinal]) == want) {
			return post[*fr.CallOrdinal], nil
		}
	}
	return nil, b.refuse(fr, 0, "%d calls start on this line and Python %d.%d records only the line", len(calls), b.ver.Major, b.ver.Minor)
}

// postOrderCalls orders calls as the interpreter completes them, when the
// statement has no construct that evaluates out of source order.
func postOrderCalls(calls []*sitter.Node) []*sitter.Node {
	set := map[[2]uint32]bool{}
	for _, c := range calls {
		set[[2]uint32{c.StartByte(), c.EndByte()}] = true
	}
	st := astinfo.EnclosingStatement(calls[0])
	for _, t := range []string{"conditional_expression", "boolean_operator", "lambda", "list_comprehension", "generator_expression"} {
		if len(astinfo.FindNodes(st, t)) > 0 {
			return nil
		}
	}
	var out []*sitter.Node
	var walk func(n *sitter.Node)
	walk = func(n *sitter.Node) {
		for k := 0; k < int(n.NamedChildCount()); k++ {
			walk(n.NamedChild(k))
		}
		if n.Type() == "call" && set[[2]uint32{n.StartByte(), n.EndByte()}] {
			out = append(out, n)
		}
	}
	walk(st)
	return out
}

// substFor is the expression that replaces the call (or yield) in progress.
func (b *builder) substFor(fi *frameInfo, next *frameInfo) (string, error) {
	if fi.mode != "call" {
		return "", nil
	}
	if fi.call.Type() == "yield" {
		return "(yield)", nil
	}
	if next == nil {
		if b.snap.Reason != "request" {
			return "", b.refuse(fi.fr, 0, "a call in progress into code that was not recorded")
		}
		return "True", nil
	}
	return b.calleeExpr(fi, next)
}

// emitClassBody emits the class statement whose body is in progress: the
// recorded bases, the recorded namespace, then the rest of the body.
func (b *builder) emitClassBody(e *emitter, fi *frameInfo, ind int) error {
	cls := fi.next
	if cls == nil || !cls.fr.ClassBody {
		return b.refuse(fi.fr, 0, "a class statement in progress without its class body")
	}
	want := fi.blockItems + fi.decorators + fi.fr.NBases
	if fi.fr.Stack == nil || len(fi.fr.Stack) != want {
		return b.stackMismatch(fi, want)
	}
	st := fi.class
	line, col := astinfo.Line(st), astinfo.Col(st)
	// the recorded decorators, applied after the class is made as they
	// would have been (innermost first; classfix, innermost of all, only
	// sets the __class__ cell)
	for j, d := range childrenOfType(fi.stmt, "decorator") {
		e.synth(ind, fmt.Sprintf("@%s.S(%d, %d)", RT, fi.idx, fi.blockItems+j), astinfo.Line(d), astinfo.Col(d))
	}
	var bases []string
	for j := 0; j < fi.fr.NBases; j++ {
		bases = append(bases, fmt.Sprintf("%s.S(%d, %d)", RT, fi.idx, fi.blockItems+fi.decorators+j))
	}
	name := fi.file.Text(st.ChildByFieldName("name"))
	e.synth(ind, fmt.Sprintf("@%s.classfix(%d)", RT, cls.idx), line, col)
	header := "class " + name
	if len(bases) > 0 {
		header += "(" + strings.Join(bases, ", ") + ")"
	}
	e.synth(ind, header+":", line, col)
	bodyInd := ind + 4
	e.synth(bodyInd, fmt.Sprintf("%s.class_ns(%d, locals())", RT, cls.idx), line, col)
	if cls.mode == "entry" {
		for _, s := range astinfo.Statements(cls.scope.Body()) {
			e.node(bodyInd, s, nil)
		}
		return nil
	}
	subst, err := b.substFor(cls, cls.next)
	if err != nil {
		return err
	}
	return b.emitLevel(e, cls, 0, bodyInd, subst)
}

// clauseOwner is the statement a clause belongs to (the statement itself otherwise).
func clauseOwner(n *sitter.Node) *sitter.Node {
	switch n.Type() {
	case "elif_clause", "except_clause":
		return n.Parent()
	case "case_clause":
		return n.Parent().Parent()
	}
	return n
}

func childrenOfType(n *sitter.Node, typ string) []*sitter.Node {
	var out []*sitter.Node
	for i := 0; i < int(n.NamedChildCount()); i++ {
		if c := n.NamedChild(i); c.Type() == typ {
			out = append(out, c)
		}
	}
	return out
}
