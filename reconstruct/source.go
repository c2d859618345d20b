package reconstruct

import (
	"errors"
	"fmt"
	"strings"
)

// IsRefusal reports whether err is a refusal to resume.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// EmitSource renders a plan as one readable Python file (for --emit).
func EmitSource(p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# pyreplay reconstruction of snap-%d: one chunk per frame, outermost first.\n", p.Snap)
	fmt.Fprintf(&b, "# %s.* are the resume helpers; line numbers map back to the original source.\n", RT)
	for _, c := range p.Chunks {
		fmt.Fprintf(&b, "\n# ---- frame %d: %s (%s) in %s, module %s\n", c.Frame, c.Qualname, c.Kind, c.File, c.Module)
		b.WriteString(c.Source)
	}
	return b.String()
}
