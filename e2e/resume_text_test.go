package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// Every character of the source survives the generated code: one program
// per encoding case, each with the text in a frame that is on the stack at
// the snapshot (line 3, inside show(), called from line 6), so it is copied
// into the resume code.
var textCases = []struct {
	name string
	src  []byte
}{
	{"utf8-literal", []byte("def show(n):\n    s = 'x'\n    print(n, \"— «naïve» 日本 🙂\", s)\n\nfor n in range(2):\n    show(n)\n")},
	{"utf8-identifier", []byte("def show(n):\n    café = 'x'\n    print(n, café, 'ü' * n)\n\nfor größe in range(2):\n    show(größe)\n")},
	{"utf8-comment", []byte("def show(n):\n    s = 'x'  # é — ✓\n    print(n, s)  # «ÜNÏ» 日本\n\nfor n in range(2):\n    show(n)  # →\n")},
	{"utf8-fstring", []byte("def show(n):\n    mot = 'été'\n    print(f\"{mot!r:>8}·{n}→{'ß' * n}\")\n\nfor n in range(2):\n    show(n)\n")},
	{"bytes-escapes", []byte("def show(n):\n    s = 'x'\n    print(n, b'\\xe2\\x80\\x94', '\\u2014', '\\N{BULLET}', r'\\xff', s)\n\nfor n in range(2):\n    show(n)\n")},
	{"latin1-cookie", []byte("# -*- coding: latin-1 -*-\ndef show(n):\n    print(n, 'caf\xe9', '\xa7\xbd')\n\nfor n in range(2):\n    show(n)\n")},
	{"cp1252-cookie", []byte("# coding: cp1252\ndef show(n):\n    print(n, '\x80 \x93quoted\x94', '\xe9')\n\nfor n in range(2):\n    show(n)\n")},
	{"utf8-bom", append([]byte("\xef\xbb\xbf"), []byte("def show(n):\n    s = 'x'\n    print(n, 'naïve', s)\n\nfor n in range(2):\n    show(n)\n")...)},
}

func TestResumeKeepsEveryCharacter(t *testing.T) {
	testutil.ForEachPython(t, func(t *testing.T, py testutil.Python) {
		for _, tc := range textCases {
			tc := tc
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				resumesToTheEnd(t, py, tc.src, "prog.py:3@2", "PYTHONIOENCODING=utf-8")
			})
		}
	})
}

// resumesToTheEnd records prog.py (src) with one breakpoint, which must
// give one snapshot, and checks that resuming it prints exactly the rest
// of the plain run's output and exits 0.
func resumesToTheEnd(t *testing.T, py testutil.Python, src []byte, bp string, env ...string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prog.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	c := testutil.Cmd{Dir: dir, Env: env}
	plain := c.Run(t, py.Path, "prog.py")
	if plain.Code != 0 {
		t.Fatalf("the program itself fails: %s", plain.Stderr)
	}
	db := filepath.Join(dir, "rec.db")
	rec := c.Pyreplay(t, "record", "--python", py.Path, "--db", db, "-b", bp, "prog.py")
	if rec.Stdout != plain.Stdout {
		t.Fatalf("recording changed the output: %q vs %q\n%s", rec.Stdout, plain.Stdout, rec.Stderr)
	}
	snaps := resList(t, c, db)
	if len(snaps) != 1 {
		t.Fatalf("want 1 snapshot, got %+v\n%s", snaps, rec.Stderr)
	}
	r := c.Pyreplay(t, "resume", snaps[0].ID, "--db", db)
	if want := plain.Stdout[snaps[0].StdoutBytes:]; r.Stdout != want || r.Code != 0 {
		t.Fatalf("resume gave %q (exit %d), want %q\n%s", r.Stdout, r.Code, want, r.Stderr)
	}
}
