package reconstruct

import (
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/wire"
)

// A frame of run at line 4 (x = cost(r)), in the loop's second iteration:
// an edit that sets a local above that line and reads it after it is
// refused (the resumed frame would not have it); one that reads it only
// after setting it again, or never, resumes.
func TestEditedNewLocals(t *testing.T) {
	const old = `def run(rows):
    u = 1
    for r in rows:
        x = cost(r)
        print(r, x, u)
    w = 5
    print(w)
    return x
`
	type edit = [2]string
	loopBody := "        print(r, x, u)\n"
	cases := []struct {
		name    string
		edits   []edit
		refused string
	}{
		{"added above the loop, used in it", []edit{{"    for r in rows:\n", "    n = 0\n    for r in rows:\n"}, {loopBody, "        n += 1\n        print(r, x, u, n)\n"}},
			"adds local n, set above the current line (new line 3) and used after it, in run (old line 4, new line 5)"},
		{"added above, used in the next iteration", []edit{{"    for r in rows:\n        x = cost(r)\n", "    n = 0\n    for r in rows:\n        n += 1\n        x = cost(r)\n"}}, "adds local n"},
		{"unused", []edit{{"    u = 1\n", "    u = 1\n    unused = 0\n"}}, ""},
		{"renamed, the old name still used", []edit{{"    u = 1\n", "    unit = 1\n"}}, ""},
		{"renamed above and below", []edit{{"    u = 1\n", "    unit = 1\n"}, {"print(r, x, u)", "print(r, x, unit)"}}, "adds local unit, set above the current line (new line 2)"},
		{"set after the position, in the loop", []edit{{loopBody, "        y = x * 2\n        print(r, y, u)\n"}}, ""},
		{"set and used above the position, in the loop", []edit{{"        x = cost(r)\n", "        t = r\n        print(t)\n        x = cost(r)\n"}}, ""},
		{"set and used after the loop", []edit{{"    w = 5\n", "    w = 5\n    z = w\n    print(z)\n"}}, ""},
		{"set in every branch before the read", []edit{{loopBody, "        if x:\n            v = 1\n        else:\n            v = 2\n        print(r, x, u, v)\n"}}, ""},
		{"moved above the loop", []edit{{"    w = 5\n    print(w)\n", "    print(w)\n"}, {"    u = 1\n", "    u = 1\n    w = 5\n"}}, "sets local w above the current line (new line 3)"},
		{"new parameter, used above", []edit{{"def run(rows):\n    u = 1\n", "def run(rows, scale=1):\n    u = scale\n"}}, ""},
		{"new parameter, used below", []edit{{"def run(rows):\n", "def run(rows, scale=1):\n"}, {loopBody, "        print(r, x, u * scale)\n"}}, "adds parameter scale (new line 1)"},
		{"global", []edit{{"    u = 1\n", "    global g\n    u = 1\n    g = 2\n"}, {loopBody, "        print(r, x, u, g)\n"}}, ""},
		{"nested function's own", []edit{{"    u = 1\n", "    u = 1\n\n    def h():\n        k = 1\n        return k\n"}, {loopBody, "        print(r, x, u, k)\n"}}, ""},
		{"nested function called below", []edit{{"    u = 1\n", "    u = 1\n\n    def h():\n        return u\n"}, {loopBody, "        print(r, x, h())\n"}}, "adds local h"},
		{"comprehension's own", []edit{{"    u = 1\n", "    u = [k for k in rows]\n"}, {loopBody, "        print(r, x, u, k)\n"}}, ""},
		{"lambda's own", []edit{{"    u = 1\n", "    f = lambda k: k\n    u = f(1)\n"}, {loopBody, "        print(r, x, u, (lambda k: k)(2))\n"}}, ""},
		{"shadowed by a lambda", []edit{{"    u = 1\n", "    u = 1\n    n = 0\n"}, {loopBody, "        print(r, x, u, (lambda n: n)(2))\n"}}, ""},
		{"walrus", []edit{{"    u = 1\n", "    if (m := 1):\n        u = m\n"}, {loopBody, "        print(r, x, u, m)\n"}}, "adds local m"},
		{"with as", []edit{{"    u = 1\n", "    with ctx() as (fh, gh):\n        u = 1\n"}, {loopBody, "        print(r, x, u, gh)\n"}}, "adds local gh"},
		{"import as", []edit{{"    u = 1\n", "    import os.path as pth, sys\n    u = 1\n"}, {loopBody, "        print(r, x, u, pth)\n"}}, "adds local pth"},
		{"import, used above only", []edit{{"    u = 1\n", "    import os.path as pth, sys\n    u = 1\n    print(sys, pth)\n"}}, ""},
		{"for target above", []edit{{"    u = 1\n", "    u = 1\n    for q in rows:\n        pass\n"}, {loopBody, "        print(r, x, u, q)\n"}}, "adds local q"},
	}
	for _, c := range cases {
		src := old
		for _, e := range c.edits {
			if !strings.Contains(src, e[0]) {
				t.Fatalf("%s: %q not in the source", c.name, e[0])
			}
			src = strings.Replace(src, e[0], e[1], 1)
		}
		snap := &wire.Snapshot{Frames: []wire.Frame{{
			Function: "run", File: "p.py", Line: 4, FirstLine: 1, SHA256: "old", Kind: "line",
			Varnames: []string{"rows", "u", "r", "x", "w"},
			Locals:   map[string]wire.Value{"rows": {}, "u": {}, "r": {}, "x": {}},
		}}}
		_, err := MapEditedFrames(snap, map[string]*EditedFile{"old": {Path: "p.py", OldSHA: "old", NewSHA: "new", Old: []byte(old), New: []byte(src)}})
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v\n%s", c.name, err, src)
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%s: want a refusal with %q, got %v\n%s", c.name, c.refused, err, src)
		}
	}
}
