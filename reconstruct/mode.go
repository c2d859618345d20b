package reconstruct

import "fmt"

// frameMode is where in its code a frame stands, as the analysis found it.
type frameMode int

const (
	modeEntry          frameMode = iota // no statement ran yet (frame_function.go, frame_generator.go)
	modeBefore                          // before a statement (plan.go analyseLine)
	modeLoopNext                        // a for loop fetching its next item (loop_for.go)
	modeClause                          // testing an elif, except or case clause (if.go, try.go, match.go)
	modeCall                            // a call or yield in progress (call.go, frame_generator.go)
	modeImport                          // an import statement importing the next frame's module (imports.go)
	modeClassBody                       // a class statement whose body is the next frame (frame_classbody.go)
	modeDecorated                       // at a decorated definition's def line, decorators evaluated (decorated.go)
	modeDecoratedStore                  // at its def line again, the decorated result about to be stored (decorated.go)
)

func (m frameMode) String() string {
	switch m {
	case modeEntry:
		return "entry"
	case modeBefore:
		return "before"
	case modeLoopNext:
		return "loopnext"
	case modeClause:
		return "clause"
	case modeCall:
		return "call"
	case modeImport:
		return "import"
	case modeClassBody:
		return "classbody"
	case modeDecorated:
		return "decorated"
	case modeDecoratedStore:
		return "decoratedstore"
	}
	return fmt.Sprintf("frameMode(%d)", int(m))
}
