package reconstruct

import (
	"fmt"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
)

// CPython 3.11+ compiles `"..." % (a, b)` as an f-string (Python/ast_opt.c,
// optimize_format) when the left operand is a str constant (implicit
// concatenation included), the right a tuple display of at least one
// element without *, and the format holds only %s, %r and %a specs (flags
// -+ #0, width and precision of at most two digits) and %%, one spec per
// element. Each element is then formatted as soon as it is evaluated, so
// while a call in element k runs, the value stack holds the formatted
// pieces before it (the non-empty literal segments and the formatted
// elements), not the operands of `%`. Measured on 3.11-3.13: `%100s` and
// `%.100s` stay BINARY_OP, `%99.99s` does not; `"x" % ()` stays BINARY_OP.

// percentFormat describes the `%` expression op whose right operand is the
// tuple right, for a call in element k of that tuple.
type percentFormat struct {
	fstring bool   // compiled as an f-string
	exact   bool   // the pieces can be told from the source (a single literal without escapes that could make a %)
	pieces  int    // value-stack items before element k
	tail    string // a literal of the format from element k's spec on
}

func (b *builder) percentAt(fi *frameInfo, op, right *sitter.Node, k int) percentFormat {
	var pf percentFormat
	if !b.ver.AtLeast(11) || op.Type() != "binary_operator" || right.Type() != "tuple" {
		return pf
	}
	opn := op.ChildByFieldName("operator")
	left := op.ChildByFieldName("left")
	if opn == nil || left == nil || fi.file.Text(opn) != "%" || !op.ChildByFieldName("right").Equal(right) {
		return pf
	}
	elts := namedChildren(right)
	if len(elts) == 0 {
		return pf
	}
	for _, a := range elts {
		if a.Type() == "list_splat" || a.Type() == "parenthesized_list_splat" {
			return pf
		}
	}
	var parts []*sitter.Node
	switch left.Type() {
	case "string":
		parts = []*sitter.Node{left}
	case "concatenated_string":
		parts = namedChildren(left)
	default:
		return pf
	}
	content := ""
	exact := len(parts) == 1
	var open string
	var body string
	for _, p := range parts {
		lit := fi.file.Text(p)
		q := strings.IndexAny(lit, "'\"")
		if q < 0 {
			return pf
		}
		if strings.ContainsAny(strings.ToLower(lit[:q]), "bf") {
			return pf // bytes and f-strings are not constants of str
		}
		ql := 1
		if strings.HasPrefix(lit[q:], `"""`) || strings.HasPrefix(lit[q:], `'''`) {
			ql = 3
		}
		if len(lit) < q+2*ql {
			return pf
		}
		inner := lit[q+ql : len(lit)-ql]
		raw := strings.ContainsAny(lit[:q], "rR")
		if !raw && hasPercentEscape(inner) {
			exact = false // \x25, \45, \N{...} could be a %: only the interpreter knows
		}
		content += inner
		open, body = lit[:q+ql], inner
	}
	starts, ok := simpleFormatSpecs(content)
	if !ok || len(starts) != len(elts) {
		if exact {
			return pf
		}
		pf.fstring = true // maybe: refuse rather than guess
		return pf
	}
	pf.fstring, pf.exact = true, exact
	if !exact || k >= len(starts) {
		return pf
	}
	// pieces before element k: for each earlier spec, the literal before it
	// (when not empty) and its formatted value; then the literal before spec k
	prev := 0
	for i := 0; i <= k; i++ {
		if starts[i] > prev {
			pf.pieces++
		}
		if i < k {
			pf.pieces++
			prev = specEnd(content, starts[i])
		}
	}
	q := strings.IndexAny(open, "'\"")
	pf.tail = open + body[starts[k]:] + open[q:]
	return pf
}

// hasPercentEscape reports a backslash escape other than the common ones
// that cannot stand for '%'.
func hasPercentEscape(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' {
			if !strings.ContainsRune("ntr\\'\"\n", rune(s[i+1])) {
				return true
			}
			i++
		}
	}
	return false
}

// simpleFormatSpecs returns the byte offsets of the specs of f when every
// spec is %s/%r/%a with flags, width and precision of at most two digits
// (%% aside), as ast_opt.c accepts.
func simpleFormatSpecs(f string) ([]int, bool) {
	var starts []int
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i++
			continue
		}
		end := specEnd(f, i)
		if end < 0 {
			return nil, false
		}
		starts = append(starts, i)
		i = end - 1
	}
	return starts, true
}

// specEnd is the offset after the spec starting at f[i] == '%', or -1.
func specEnd(f string, i int) int {
	i++
	for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
		i++
	}
	digits := func() bool {
		n := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
			n++
		}
		return n <= 2
	}
	if !digits() {
		return -1
	}
	if i < len(f) && f[i] == '.' {
		i++
		if !digits() {
			return -1
		}
	}
	if i >= len(f) || strings.IndexByte("sra", f[i]) < 0 {
		return -1
	}
	return i + 1
}

// percentRepls rewrites `"fmt" % (e0, ..., ek, ...)` with a call in ek in
// progress: the recorded pieces, then the rest of the format applied to ek
// and the later elements — `(S + S + ("tail" % (ek, ...)))`. The element ek
// keeps its own text (with the replacements made inside it). ok is false
// when the later elements span lines (their text is copied into one).
func percentRepls(src []byte, op, tuple, elt *sitter.Node, pf percentFormat, slots []string) ([]repl, bool) {
	rest := string(src[elt.EndByte():tuple.EndByte()])
	if strings.Contains(rest, "\n") || tuple.EndByte() != op.EndByte() {
		return nil, false
	}
	if strings.TrimSpace(rest) == ")" {
		rest = ",)" // the element alone must stay a one-tuple: it may be a tuple itself
	}
	pre := "("
	for _, s := range slots {
		pre += s + " + "
	}
	pre += fmt.Sprintf("(%s %% (", pf.tail)
	return []repl{
		{op.StartByte(), elt.StartByte(), pre},
		{elt.EndByte(), op.EndByte(), rest + "))"},
	}, true
}
