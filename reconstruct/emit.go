package reconstruct

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// Segment maps generated columns (from GenCol on) of one generated line back
// to the original source: original column = generated column - Delta.
type Segment struct {
	GenCol int `json:"g"`
	Line   int `json:"l"`
	Delta  int `json:"d"`
}

// genLine is one line of generated source and where it came from.
type genLine struct {
	text string
	segs []Segment
}

// repl replaces the original bytes [start, end) with text.
type repl struct {
	start, end uint32
	text       string
}

type emitter struct {
	f          *astinfo.File
	lines      []genLine
	stringRows map[int]bool
}

func newEmitter(f *astinfo.File) *emitter {
	return &emitter{f: f, stringRows: f.StringRows()}
}

// synth emits a synthetic line at indent, attributed to origLine/origCol.
func (e *emitter) synth(indent int, text string, origLine, origCol int) {
	e.lines = append(e.lines, genLine{
		text: strings.Repeat(" ", indent) + text,
		segs: []Segment{{GenCol: 0, Line: origLine, Delta: indent - origCol}},
	})
}

// arrive emits the innermost frame's announcement that it reached the
// recorded position (Runtime.arrive: line events are the program's from
// there on). The next statement must report its own line event, so arrive
// is given a line no statement has (one past the file's end): every
// version reports a line event where the line changes, and line 0 would
// not do, as 3.8-3.10 read it as "the line before goes on". The event
// arrive's own line reports comes while the rebuild's are held back.
// line is the recorded line, whose next line event is the snapshot's own
// (0 for a function's entry, where the snapshot came before any line).
func (e *emitter) arrive(indent, line int) {
	e.synth(indent, rtArrive(line), e.arriveLine(), 0)
}

func (e *emitter) arriveLine() int {
	return strings.Count(string(e.f.Src), "\n") + 2
}

// node emits the original statement n at indent, applying replacements.
//
// A module's or class's docstring, copied where it no longer comes first,
// becomes the assignment to __doc__ that it compiles to where it does, so
// that it still runs (and reports its line event) instead of being
// dropped as a constant statement.
func (e *emitter) node(indent int, n *sitter.Node, repls []repl) {
	if isDocstring(e.f, n) && isFirstOfModuleOrClass(n) {
		repls = append([]repl{{n.StartByte(), n.StartByte(), "__doc__ = "}}, repls...)
	}
	e.span(indent, n.StartByte(), n.EndByte(), repls)
}

// span emits original bytes [start, end) re-indented so that the first
// line starts at indent. Lines inside multi-line strings are kept as they
// are; other continuation lines move by the same amount.
func (e *emitter) span(indent int, start, end uint32, repls []repl) {
	src := e.f.Src
	// original position of start
	lineStart := start
	for lineStart > 0 && src[lineStart-1] != '\n' {
		lineStart--
	}
	row := 1 + strings.Count(string(src[:start]), "\n")
	baseCol := int(start - lineStart)
	shift := indent - baseCol

	cur := genLine{text: strings.Repeat(" ", indent)}
	cur.segs = []Segment{{GenCol: 0, Line: row, Delta: shift}}
	ri := 0
	i := start
	col := baseCol
	for i < end {
		if ri < len(repls) && repls[ri].start == i {
			r := repls[ri]
			g := len(cur.text)
			cur.segs = append(cur.segs, Segment{GenCol: g, Line: row, Delta: g - col})
			cur.text += r.text
			// advance over the replaced original bytes, tracking rows
			for i < r.end {
				if src[i] == '\n' {
					row++
					col = 0
				} else {
					col++
				}
				i++
			}
			g = len(cur.text)
			cur.segs = append(cur.segs, Segment{GenCol: g, Line: row, Delta: g - col})
			ri++
			continue
		}
		c := src[i]
		if c == '\n' {
			e.lines = append(e.lines, cur)
			row++
			i++
			col = 0
			// next line: decide its indentation shift
			if e.stringRows[row] || shift == 0 {
				cur = genLine{segs: []Segment{{GenCol: 0, Line: row, Delta: 0}}}
				continue
			}
			if shift > 0 {
				cur = genLine{text: strings.Repeat(" ", shift), segs: []Segment{{GenCol: 0, Line: row, Delta: shift}}}
				continue
			}
			// dedent: drop up to -shift leading spaces
			drop := 0
			for drop < -shift && i < end && src[i] == ' ' {
				i++
				drop++
				col++
			}
			cur = genLine{segs: []Segment{{GenCol: 0, Line: row, Delta: -drop}}}
			continue
		}
		// bytes, not runes: the source is UTF-8 and columns count bytes,
		// as CPython's col_offset does
		cur.text += string(src[i : i+1])
		i++
		col++
	}
	// insertions at the very end (e.g. a closing parenthesis)
	for ; ri < len(repls); ri++ {
		if repls[ri].start == end && repls[ri].end == end {
			cur.text += repls[ri].text
		}
	}
	e.lines = append(e.lines, cur)
}

func (e *emitter) source() (string, [][]Segment) {
	var b strings.Builder
	maps := make([][]Segment, len(e.lines))
	for i, l := range e.lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
		maps[i] = l.segs
	}
	return b.String(), maps
}
