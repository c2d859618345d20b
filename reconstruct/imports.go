package reconstruct

// An import in progress: an import statement of a program frame whose
// module's top-level code is the next program frame (importlib's frames
// between them are skipped, programFrames). The imported module's chunk
// (kind "import", frame_module.go) is finished by Runtime.imp as importlib
// would (on failure the module leaves sys.modules; on success its parent
// package gets the attribute), then the import statement runs again: the
// module is in sys.modules now, so it only binds names (and imports what
// the statement names after that module). Library frames in the middle of
// the stack are rebuilt from their recorded source in their own module.
// Helpers: Runtime.imp.

import (
	"path/filepath"
	"strings"

	"github.com/pyreplay/pyreplay/astinfo"
	"github.com/pyreplay/pyreplay/wire"
)

// importlib's own frames: frozen modules without source on every version.
func isImportMachinery(f *wire.Frame) bool {
	return strings.HasPrefix(f.File, "<frozen importlib._bootstrap")
}

var importStatements = map[string]bool{
	"import_statement": true, "import_from_statement": true, "future_import_statement": true,
}

// programFrames lists, from the outermost program frame on, the frames the
// plan rebuilds. A run of importlib frames between an import statement in
// progress and the top-level code of the module it is importing is an
// import in progress: the importer's chunk finishes that module's code and
// then runs its import statement again (mode import: analyseImport, emitImport).
// A library frame in the middle (a pure-Python function of the standard
// library or site-packages calling back into the program) is rebuilt from
// its recorded source like the program's own, in the real library module's
// namespace; one without source is refused.
func (b *builder) programFrames(first int) ([]int, error) {
	s := b.snap
	b.importers = map[int]bool{}
	var prog []int
	for i := first; i < len(s.Frames); i++ {
		f := &s.Frames[i]
		if !f.Library {
			prog = append(prog, i)
			continue
		}
		if !isImportMachinery(f) {
			if f.SHA256 == "" {
				return nil, b.refuse(f, 0, "a library function without recorded source (%s in %s) is in the middle of the stack", f.Function, filepath.Base(f.File))
			}
			if f.Module {
				return nil, b.refuse(f, 0, "the top-level code of library module %s is in the middle of the stack", f.ModuleName)
			}
			prog = append(prog, i) // rebuilt from its source, in its own module
			continue
		}
		j := i
		for j < len(s.Frames) && s.Frames[j].Library && isImportMachinery(&s.Frames[j]) {
			j++
		}
		importer := &s.Frames[prog[len(prog)-1]]
		if importer.Op != "IMPORT_NAME" {
			return nil, b.refuse(importer, 0, "an import started by %s (not by an import statement)", orUnknown(importer.Function))
		}
		if j == len(s.Frames) || !s.Frames[j].Module {
			return nil, b.refuse(importer, 0, "an import in progress inside the import machinery")
		}
		b.importers[prog[len(prog)-1]] = true
		i = j - 1
	}
	return prog, nil
}

// analyseImport: frame fi's import statement is importing the next frame's module.
func (b *builder) analyseImport(fi *frameInfo) error {
	st := fi.file.StatementAt(fi.scope, fi.fr.Line)
	if st == nil || !importStatements[st.Type()] {
		return b.refuse(fi.fr, 0, "an import in progress outside an import statement")
	}
	fi.stmt = st
	fi.mode = modeImport
	return nil
}

// emitImport: the imported module's code finishes, then the statement runs again.
func (b *builder) emitImport(e *emitter, fi *frameInfo, ind int) error {
	st := fi.stmt
	if fi.fr.Stack != nil && (len(fi.fr.Stack) < fi.blockItems || len(fi.fr.Stack) > fi.blockItems+2) {
		return b.stackMismatch(fi, fi.blockItems)
	}
	if fi.fr.Stack == nil && fi.blockItems > 0 {
		return b.refuse(fi.fr, 0, "the value stack (loop and with state) could not be read")
	}
	if fi.next == nil || !fi.next.fr.Module {
		return b.refuse(fi.fr, 0, "an import in progress whose module was not recorded")
	}
	e.synth(ind, rtImp(fi.next.idx), astinfo.Line(st), astinfo.Col(st))
	e.node(ind, st, nil)
	return nil
}
