package reconstruct

// A generator frame. Three cases:
//   - a generator frame on the stack (advanced by next()/send() of a caller
//     frame): its chunk is a function chunk (frame_function.go, which keeps
//     it a generator with `if False: yield`); the caller's call becomes
//     next(RT.G(i)) (callee.go calleeExpr; Runtime.G);
//   - a suspended generator held by a value (snapshot meta Generators): one
//     chunk of kind "generator" per generator, numbered GenBase+k, that the
//     shim rebuilds while the state loads and advances to its yield when
//     it was suspended there (Runtime.make_generator, primed);
//   - inside it, the yield in progress: the frame is in mode call with the
//     yield as its "call", which the rest of the code receives as (yield)
//     (analyseSuspended here, substFor in callee.go, the rewrite in call.go).
// A created, not started generator is mode entry (plan.go).

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// GenBase numbers the suspended generators' chunks after the stack's
// frames. The shim finds a generator's chunk by its order among the
// plan's generator chunks, not by this number.
const GenBase = 1000000

// generatorChunks adds one chunk per suspended generator held by a value.
func (b *builder) generatorChunks(plan *Plan) error {
	s := b.snap
	for k := range s.Meta.Generators {
		g := &s.Meta.Generators[k]
		fi, err := b.analyseFrame(GenBase+k, g, false)
		if err != nil {
			return err
		}
		b.excRefs[fi.idx] = map[int]excRef{}
		c, err := b.chunk(fi, nil)
		if err != nil {
			return err
		}
		c.Kind = "generator"
		c.Primed = g.Kind == "suspended"
		plan.Chunks = append(plan.Chunks, *c)
	}
	return nil
}

// analyseSuspended: a generator suspended at a yield (not yield from).
func (b *builder) analyseSuspended(fi *frameInfo) error {
	fr, f := fi.fr, fi.file
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
			return b.refuse(fr, 0, "a suspended generator whose yield cannot be told apart (%d on the line)", len(cands))
		}
		y = cands[0]
	}
	if hasChild(y, "from") || strings.HasPrefix(f.Text(y), "yield from") {
		return b.refuse(fr, 0, "a generator suspended in yield from")
	}
	fi.call = y
	st := astinfo.EnclosingStatement(y)
	if st == nil {
		return b.refuse(fr, 0, "a yield outside any statement")
	}
	fi.stmt = st
	fi.mode = modeCall
	return nil
}
