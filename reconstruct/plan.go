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
// Files, one per construct, each holding its whole rule (the analysis and
// refusals, the code it emits, the runtime helpers it calls):
//
//	plan.go             Build: which frames, each frame's mode and block path
//	                    (analyseFrame dispatches to the files below), refusals
//	                    that concern the whole snapshot, unsaved values
//	mode.go             frameMode: where in its code a frame stands
//	helpers.go          one Go definition per runtime helper (RT.*) the
//	                    generated code calls (class Runtime, pyshim resume.py)
//	frame_function.go   a function frame: the resume function, its locals
//	frame_generator.go  generator frames: on the stack, suspended in a value,
//	                    at a yield
//	frame_classbody.go  a class body in progress inside its class statement
//	frame_module.go     a module frame, module kinds, docstrings
//	imports.go          an import in progress, library frames in the middle
//	blocks.go           the rest of a frame from its position: dispatch by
//	                    mode (emitPosition) and by enclosing block (emitWrap)
//	loop.go             the rest of an interrupted loop iteration (for, while)
//	loop_for.go         for (its recorded iterator; for over a dict)
//	loop_while.go       while (while True on 3.8/3.9; a call in the condition)
//	with.go             with (the recorded __exit__s)
//	try.go              try/except/else/finally (the handled exception)
//	if.go               if/elif
//	match.go            match/case
//	decorated.go        a decorated definition at its def line
//	call.go             the call in progress inside its statement
//	callee.go           which call is in progress and what replaces it
//	percent.go          %-formats that 3.11+ compiles as f-strings
//	chunk.go            one chunk per frame
//	emit.go             source text copied with its line map
//	source.go           EmitSource (a plan as one file) and IsRefusal
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
	// Edited: the program's source changed since the snapshot (a CRIU
	// image, which holds the recorded code, is no answer to it)
	Edited bool
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
	// per frame: the handled-exception reference for each handler step (try.go)
	excRefs map[int]map[int]excRef
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
	mode  frameMode
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
	// a lambda or comprehension on the stack is the reason, named as such
	// (its caller's call in progress would be refused first, less clearly)
	for _, i := range prog {
		if what := inlineConstruct(&s.Frames[i]); what != "" {
			return nil, b.refuse(&s.Frames[i], 0, "%s", what)
		}
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
	if err := b.generatorChunks(plan); err != nil { // frame_generator.go
		return nil, err
	}
	for k, fi := range b.frames {
		if fi.fr.ClassBody {
			continue // emitted inside its caller's class statement
		}
		c, err := b.chunk(fi, fi.next)
		if err != nil {
			return nil, err
		}
		if fi.fr.Module {
			c.Kind = moduleChunkKind(k, runMain) // frame_module.go
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

// inlineConstruct names a frame of a lambda or of a comprehension (a frame
// of its own before 3.12), which exact resume cannot rebuild; "" for
// another frame.
func inlineConstruct(fr *wire.Frame) string {
	if fr.Function == "<lambda>" || strings.HasSuffix(fr.Function, ".<lambda>") {
		return fmt.Sprintf("a lambda frame (%s)", fr.Function)
	}
	if strings.HasSuffix(fr.Name, "comp>") || fr.Name == "<genexpr>" {
		return fmt.Sprintf("a comprehension (%s) in progress", fr.Name)
	}
	return ""
}

// analyse analyses program frame i of the stack.
func (b *builder) analyse(i int, innermost bool) (*frameInfo, error) {
	return b.analyseFrame(i, &b.snap.Frames[i], innermost)
}

// analyseFrame finds where frame fr stands (its mode, statement and block
// path) and how many value-stack items its blocks hold. Each mode's rule
// is in the file of its construct (see the package comment).
func (b *builder) analyseFrame(i int, fr *wire.Frame, innermost bool) (*frameInfo, error) {
	fi := &frameInfo{idx: i, fr: fr, innermost: innermost}
	if fr.Coroutine {
		if b.snap.Meta.Task != "" {
			// (its event loop, the other tasks and their timers are not rebuilt)
			return nil, b.refuse(fr, 0, "a coroutine (%s) of asyncio task %s", fr.Function, b.snap.Meta.Task)
		}
		return nil, b.refuse(fr, 0, "a coroutine (%s)", fr.Function)
	}
	if what := inlineConstruct(fr); what != "" {
		return nil, b.refuse(fr, 0, "%s", what)
	}
	f, err := b.file(fr)
	if err != nil {
		return nil, err
	}
	fi.file = f
	switch {
	case fr.Module:
		fi.scope = f.Scopes()[0]
	case fr.ClassBody:
		err = b.classBodyScope(fi) // frame_classbody.go
	default:
		err = b.functionScope(fi) // frame_function.go
	}
	if err != nil {
		return nil, err
	}
	kind := fr.Kind
	if innermost && b.snap.Reason == "request" && kind != "call" {
		return nil, b.refuse(fr, 0, "a pyreplay.snapshot() request outside a call")
	}
	switch kind {
	case "entry", "created":
		fi.mode = modeEntry
	case "line", "hook":
		err = b.analyseLine(fi)
	case "call":
		err = b.analyseCallFrame(fi) // call.go
	case "suspended":
		err = b.analyseSuspended(fi) // frame_generator.go
	case "exception":
		err = b.refuse(fr, 0, "a frame unwound by an exception")
	default:
		err = b.refuse(fr, 0, "an unknown frame state %q", kind)
	}
	if err != nil {
		return nil, err
	}
	if kind == "line" && fi.mode == modeBefore && fr.Primary != nil && !*fr.Primary {
		if err := b.refuseFinallyCopy(fi); err != nil { // try.go
			return nil, err
		}
	}
	if fi.mode != modeEntry {
		anchor := clauseOwner(fi.stmt)
		fi.path = f.PathTo(fi.scope, anchor)
		for _, st := range fi.path {
			if st.Owner == nil {
				continue
			}
			if st.Owner.Type() == "class_definition" {
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "a class body in progress")
			}
			if isExceptStar(st.Owner) { // try.go
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "try/except*")
			}
			if isAsync(st.Owner) {
				return nil, b.refuse(fr, astinfo.Line(st.Owner), "async %s", st.Owner.Type())
			}
		}
	}
	b.countBlockItems(fi)
	return fi, nil
}

// analyseLine: a line event (or a hook) of the frame: before the statement
// starting on the line, a for loop fetching its next item, or a clause
// being tested.
func (b *builder) analyseLine(fi *frameInfo) error {
	fr, f := fi.fr, fi.file
	st := f.StatementAt(fi.scope, fr.Line)
	if st == nil && fr.ClassBody && classBodyNotStarted(fi) { // frame_classbody.go
		fi.mode = modeEntry
		return nil
	}
	if st == nil {
		cl := f.ClauseAt(fi.scope, fr.Line)
		primary := fr.Kind == "hook" || fr.Primary == nil || *fr.Primary
		if cl != nil && primary && b.clauseResumable(cl) {
			fi.stmt = cl
			fi.mode = modeClause
			return nil
		}
		if cl != nil {
			return b.refuse(fr, 0, "a position inside the %s header", strings.TrimSuffix(cl.Type(), "_clause"))
		}
		if d := decoratedAt(fi, fr.Line); d != nil {
			return b.analyseDecorated(fi, d) // decorated.go
		}
		return b.refuse(fr, 0, "no statement starts on this line")
	}
	fi.stmt = st
	fi.mode = modeBefore
	if fr.Kind == "line" && fr.Primary != nil && !*fr.Primary {
		switch {
		case st.Type() == "for_statement" && fr.Op == "FOR_ITER":
			fi.mode = modeLoopNext // loop_for.go
		case st.Type() == "for_statement" || st.Type() == "with_statement":
			return b.refuse(fr, 0, "a position inside the statement (instruction %s)", fr.Op)
		default:
			// checked when emitted: the value stack must hold exactly the block items
		}
	}
	return nil
}

// clauseResumable: a clause whose test can be resumed (if.go, try.go, match.go).
func (b *builder) clauseResumable(cl *sitter.Node) bool {
	switch cl.Type() {
	case "elif_clause":
		return elifResumable()
	case "except_clause":
		return b.exceptResumable()
	case "case_clause":
		return b.caseResumable()
	}
	return false
}

// countBlockItems numbers the value-stack items of the frame's blocks
// (blockSlot, by path step) and what its position adds to them.
func (b *builder) countBlockItems(fi *frameInfo) {
	fi.blockSlot = map[int]int{}
	n := 0
	for k, st := range fi.path {
		if st.Owner == nil {
			continue
		}
		fi.blockSlot[k] = n
		n += b.itemsFor(st)
	}
	switch fi.mode {
	case modeLoopNext:
		fi.blockSlot[len(fi.path)] = n // the iterator (loop_for.go)
		n++
	case modeClassBody:
		fi.blockSlot[len(fi.path)] = n // the bases follow the block items (frame_classbody.go)
	case modeClause:
		switch fi.stmt.Type() {
		case "except_clause":
			n += exceptClauseItems // try.go
		case "case_clause":
			n += caseClauseItems // match.go
		}
	}
	fi.blockItems = n
}

// itemsFor is the number of value-stack items a block keeps while its
// clause runs, on the recorded CPython version.
func (b *builder) itemsFor(st astinfo.Step) int {
	switch st.Owner.Type() {
	case "for_statement":
		return forItems(st) // loop_for.go
	case "with_statement":
		return withItemCount(st) // with.go
	case "try_statement":
		return b.tryItems(st) // try.go
	}
	return 0
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
