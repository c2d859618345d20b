package reconstruct

import (
	"sort"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// EditedDef is a top-level definition of an edited module that the
// running program gets anew (the shim, edits.py): a changed or added
// function, class, module-level assignment or import.
type EditedDef struct {
	Kind   string   `json:"kind"`   // function | class | assign | import
	Name   string   `json:"name"`   // the function's, class's or assigned name(s); an import's text
	Status string   `json:"status"` // changed | added
	Line   int      `json:"line"`   // its lines in the new file
	End    int      `json:"end"`
	Parts  []string `json:"parts,omitempty"` // a class's changed or added methods and attributes
}

// EditedDefinitions compares the top-level statements of a module's
// recorded and edited text. Functions are matched by name, classes by
// name (their members too), assignments by their targets, imports by
// their text; statements of other kinds already ran, or run anew from the
// resumed module frame, and are not listed.
func EditedDefinitions(oldSrc, newSrc []byte) ([]EditedDef, error) {
	o, err := astinfo.Parse(oldSrc)
	if err != nil {
		return nil, err
	}
	n, err := astinfo.Parse(newSrc)
	if err != nil {
		return nil, err
	}
	old := topDefs(o)
	var out []EditedDef
	for _, d := range topDefs(n) {
		prev, ok := old[d.kind+" "+d.name]
		switch {
		case !ok:
			out = append(out, EditedDef{Kind: d.kind, Name: d.name, Status: "added", Line: astinfo.Line(d.node), End: astinfo.EndLine(d.node)})
		case prev.text != d.text:
			e := EditedDef{Kind: d.kind, Name: d.name, Status: "changed", Line: astinfo.Line(d.node), End: astinfo.EndLine(d.node)}
			if d.kind == "class" {
				e.Parts = changedMembers(o, prev.node, n, d.node)
			}
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

type topDef struct {
	kind, name, text string
	node             *sitter.Node
}

// topDefs are the module's definitions by kind and name (the last one of a
// name wins, as at run time).
func topDefs(f *astinfo.File) map[string]topDef {
	out := map[string]topDef{}
	for _, s := range astinfo.Statements(f.Root) {
		kind, name := defKind(f, s)
		if kind != "" {
			out[kind+" "+name] = topDef{kind: kind, name: name, text: normText(f.Text(s)), node: s}
		}
	}
	return out
}

func defKind(f *astinfo.File, s *sitter.Node) (kind, name string) {
	target := s
	if s.Type() == "decorated_definition" {
		target = s.ChildByFieldName("definition")
		if target == nil {
			return "", ""
		}
	}
	switch target.Type() {
	case "function_definition":
		return "function", f.Text(target.ChildByFieldName("name"))
	case "class_definition":
		return "class", f.Text(target.ChildByFieldName("name"))
	case "import_statement", "import_from_statement", "future_import_statement":
		return "import", normText(f.Text(s))
	case "expression_statement":
		if s.NamedChildCount() != 1 {
			return "", ""
		}
		a := s.NamedChild(0)
		if a.Type() != "assignment" {
			return "", ""
		}
		left := a.ChildByFieldName("left")
		if left == nil || !onlyNames(left) {
			return "", ""
		}
		return "assign", normText(f.Text(left))
	}
	return "", ""
}

// onlyNames: an assignment target made of plain names (NAME, a, b).
func onlyNames(n *sitter.Node) bool {
	switch n.Type() {
	case "identifier":
		return true
	case "pattern_list", "tuple_pattern", "list_pattern":
		for i := 0; i < int(n.NamedChildCount()); i++ {
			if !onlyNames(n.NamedChild(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// changedMembers names the methods and attributes of a class body that
// changed or were added (or removed: "-name").
func changedMembers(of *astinfo.File, oldDef *sitter.Node, nf *astinfo.File, newDef *sitter.Node) []string {
	members := func(f *astinfo.File, def *sitter.Node) ([]string, map[string]string) {
		if def.Type() == "decorated_definition" {
			def = def.ChildByFieldName("definition")
		}
		m := map[string]string{}
		var order []string
		for _, s := range astinfo.Statements(def.ChildByFieldName("body")) {
			kind, name := defKind(f, s)
			if kind == "" || kind == "import" {
				continue
			}
			if _, dup := m[name]; !dup {
				order = append(order, name)
			}
			m[name] = normText(f.Text(s))
		}
		return order, m
	}
	_, om := members(of, oldDef)
	order, nm := members(nf, newDef)
	var out []string
	for _, name := range order {
		if om[name] != nm[name] {
			out = append(out, name)
		}
	}
	for name := range om {
		if _, ok := nm[name]; !ok {
			out = append(out, "-"+name)
		}
	}
	return out
}

// DescribeDefs is the report's words for a file's definitions.
func DescribeDefs(defs []EditedDef) string {
	var parts []string
	for _, d := range defs {
		switch d.Kind {
		case "function":
			parts = append(parts, d.Status+" function "+d.Name)
		case "class":
			s := d.Status + " class " + d.Name
			if len(d.Parts) > 0 {
				s += " (" + strings.Join(d.Parts, ", ") + ")"
			}
			parts = append(parts, s)
		case "assign":
			if d.Status == "changed" {
				parts = append(parts, "reset "+d.Name)
			} else {
				parts = append(parts, "added "+d.Name)
			}
		case "import":
			parts = append(parts, "added "+d.Name)
		}
	}
	return strings.Join(parts, ", ")
}
