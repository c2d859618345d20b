package reconstruct

// A module frame: its chunk is module-level code run in the module's own
// globals (the restored __main__, or an imported module's namespace). The
// outermost module frame is kind "module"; a module further up the stack
// is being imported, kind "import": its importer's chunk runs it through
// Runtime.imp (imports.go), as runpy does for `python -m pkg.mod` (RunMain).
// A module's (or class's) docstring copied where it no longer comes first
// becomes its __doc__ assignment (emit.go node), so that it still runs.

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/pyreplay/pyreplay/astinfo"
)

// moduleChunkKind is the kind of the chunk of the k-th program frame, a module.
func moduleChunkKind(k int, runMain bool) string {
	if k > 0 || runMain {
		return "import" // run by its importer's import statement (or by runpy)
	}
	return "module"
}

// isDocstring: a statement that is a plain string literal (no f-string,
// no bytes), which as a body's first statement is its docstring.
func isDocstring(f *astinfo.File, st *sitter.Node) bool {
	if st.Type() != "expression_statement" || st.NamedChildCount() != 1 {
		return false
	}
	v := st.NamedChild(0)
	if v.Type() == "concatenated_string" && v.NamedChildCount() > 0 {
		v = v.NamedChild(0)
	}
	if v.Type() != "string" {
		return false
	}
	prefix := strings.ToLower(strings.SplitN(f.Text(v), "\"", 2)[0])
	prefix = strings.ToLower(strings.SplitN(prefix, "'", 2)[0])
	return !strings.ContainsAny(prefix, "fb")
}

// isFirstOfModuleOrClass: n is the first statement of a module or class body.
func isFirstOfModuleOrClass(n *sitter.Node) bool {
	p := n.Parent()
	if p == nil {
		return false
	}
	if p.Type() == "block" {
		if o := p.Parent(); o == nil || o.Type() != "class_definition" {
			return false
		}
	} else if p.Type() != "module" {
		return false
	}
	for i := 0; i < int(p.NamedChildCount()); i++ {
		c := p.NamedChild(i)
		if c.Type() == "comment" {
			continue
		}
		return c.Equal(n)
	}
	return false
}
