package session

// Evaluating in the past: from the snapshot's recorded views only, never
// from a live process. A name, then .attributes and [index] / ['key']
// subscripts with literal keys, resolved in the frame's locals and then its
// module's globals.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/pyreplay/pyreplay/wire"
)

// EvalPast evaluates expr in frame (an index into s.Frames) from the
// snapshot's recorded values.
func EvalPast(s *wire.Snapshot, frame int, expr string) (wire.Value, error) {
	if frame < 0 || frame >= len(s.Frames) {
		return wire.Value{}, fmt.Errorf("no frame %d in %s", frame, s.ID)
	}
	f := s.Frames[frame]
	toks, err := lexPath(strings.TrimSpace(expr))
	if err != nil {
		return wire.Value{}, fmt.Errorf("%v; in the past (%s) pyreplay shows recorded values only: a name, its .attributes and [items]", err, s.ID)
	}
	name := toks[0].text
	var v wire.Value
	found := false
	if lv, ok := f.Locals[name]; ok {
		v, found = lv, true
	} else if g, ok := s.Globals[f.ModuleName][name]; ok {
		v, found = g, true
	} else if f.ModuleName == "" {
		if g, ok := s.Globals["__main__"][name]; ok {
			v, found = g, true
		}
	}
	if !found {
		return wire.Value{}, fmt.Errorf("name '%s' is not in the recording of %s (frame %s)", name, s.ID, f.Function)
	}
	path := name
	for _, t := range toks[1:] {
		var want []string
		switch t.kind {
		case "attr":
			want = []string{t.text}
			path += "." + t.text
		case "int":
			n, _ := strconv.Atoi(t.text)
			if n < 0 && v.Len != nil && len(v.Children) == *v.Len {
				n += *v.Len
			}
			want = []string{fmt.Sprintf("[%d]", n), strconv.Itoa(n)}
			path += "[" + t.text + "]"
		case "str":
			want = []string{pyRepr(t.text)}
			path += "[" + pyRepr(t.text) + "]"
		}
		next, ok := child(v, want)
		if !ok {
			if v.More || (v.Len != nil && len(v.Children) < *v.Len) {
				return wire.Value{}, fmt.Errorf("%s was not recorded in %s (the snapshot keeps a bounded view)", path, s.ID)
			}
			return wire.Value{}, fmt.Errorf("%s does not exist in %s", path, s.ID)
		}
		v = next
	}
	v.Name = ""
	return v, nil
}

func child(v wire.Value, names []string) (wire.Value, bool) {
	for _, c := range v.Children {
		for _, n := range names {
			if c.Name == n {
				return c, true
			}
		}
	}
	return wire.Value{}, false
}

type pathTok struct{ kind, text string }

func lexPath(s string) ([]pathTok, error) {
	var out []pathTok
	i := 0
	ident := func() (string, bool) {
		j := i
		for j < len(s) {
			r := rune(s[j])
			if r == '_' || unicode.IsLetter(r) || (j > i && unicode.IsDigit(r)) || r >= 0x80 {
				j++
				continue
			}
			break
		}
		if j == i {
			return "", false
		}
		id := s[i:j]
		i = j
		return id, true
	}
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	id, ok := ident()
	if !ok {
		return nil, fmt.Errorf("cannot evaluate %q", s)
	}
	out = append(out, pathTok{"name", id})
	for {
		skip()
		if i >= len(s) {
			return out, nil
		}
		switch s[i] {
		case '.':
			i++
			skip()
			id, ok := ident()
			if !ok {
				return nil, fmt.Errorf("cannot evaluate %q", s)
			}
			out = append(out, pathTok{"attr", id})
		case '[':
			i++
			skip()
			if i < len(s) && (s[i] == '\'' || s[i] == '"') {
				q := s[i]
				j := i + 1
				var b strings.Builder
				for j < len(s) && s[j] != q {
					if s[j] == '\\' && j+1 < len(s) {
						j++
					}
					b.WriteByte(s[j])
					j++
				}
				if j >= len(s) {
					return nil, fmt.Errorf("cannot evaluate %q", s)
				}
				i = j + 1
				out = append(out, pathTok{"str", b.String()})
			} else {
				j := i
				if j < len(s) && s[j] == '-' {
					j++
				}
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j == i {
					return nil, fmt.Errorf("cannot evaluate %q", s)
				}
				out = append(out, pathTok{"int", s[i:j]})
				i = j
			}
			skip()
			if i >= len(s) || s[i] != ']' {
				return nil, fmt.Errorf("cannot evaluate %q", s)
			}
			i++
		default:
			return nil, fmt.Errorf("cannot evaluate %q", s)
		}
	}
}

// pyRepr is Python's repr of a str (enough for dict keys).
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
