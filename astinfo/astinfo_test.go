package astinfo

import (
	"reflect"
	"strings"
	"testing"
)

const sample = `import os

def outer(a):
    x = 1
    def inner(b):
        return a + b
    for i in range(3):
        with open(os.devnull) as f:
            try:
                x += inner(i)
            except ValueError as e:
                print(e)
            finally:
                pass
    return x

class K:
    @staticmethod
    def m():
        if True:
            pass
        elif False:
            pass
`

func parse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func TestNearest(t *testing.T) {
	if n := Nearest([]int{1, 3, 4}, 2); !reflect.DeepEqual(n, []int{1, 3}) {
		t.Fatalf("Nearest(2) = %v", n)
	}
}

func TestScopes(t *testing.T) {
	f := parse(t, sample)
	var names []string
	for _, s := range f.Scopes() {
		names = append(names, s.Qualname)
	}
	want := []string{"<module>", "outer", "outer.<locals>.inner", "K.m"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("scopes = %v, want %v", names, want)
	}
	m, err := f.FindScope("K.m", 18)
	if err != nil || m.ClassName != "K" || m.FirstLine() != 18 {
		t.Fatalf("FindScope(K.m, 18) = %+v, %v", m, err)
	}
	// Python < 3.11 records only co_name; the first line decides
	in, err := f.FindScope("inner", 5)
	if err != nil || in.Qualname != "outer.<locals>.inner" {
		t.Fatalf("FindScope(inner, 5) = %+v, %v", in, err)
	}
	if _, err := f.FindScope("nope", 1); err == nil {
		t.Fatal("FindScope(nope) succeeded")
	}
}

func TestPathTo(t *testing.T) {
	f := parse(t, sample)
	outer, _ := f.FindScope("outer", 3)
	cases := []struct {
		line int
		want string // owner:clause ...
	}{
		{4, ""},
		{7, ""},
		{8, "for_statement:body"},
		{10, "for_statement:body with_statement:body try_statement:body"},
		{12, "for_statement:body with_statement:body try_statement:handler"},
		{14, "for_statement:body with_statement:body try_statement:finally"},
		{15, ""},
	}
	for _, c := range cases {
		st := f.StatementAt(outer, c.line)
		if st == nil {
			t.Fatalf("no statement at line %d", c.line)
		}
		var parts []string
		for _, s := range f.PathTo(outer, st) {
			if s.Owner != nil {
				parts = append(parts, s.Owner.Type()+":"+s.Clause)
			}
		}
		if got := strings.Join(parts, " "); got != c.want {
			t.Errorf("line %d: path %q, want %q", c.line, got, c.want)
		}
	}
	m, _ := f.FindScope("K.m", 18)
	if cl := f.ClauseAt(m, 22); cl == nil || cl.Type() != "elif_clause" {
		t.Fatalf("ClauseAt(22) = %v", cl)
	}
}

func TestCalls(t *testing.T) {
	f := parse(t, sample)
	outer, _ := f.FindScope("outer", 3)
	c := f.CallAtSpan(outer, 10, 10, 21, 29)
	if c == nil || f.Text(c) != "inner(i)" || f.CalleeName(c) != "inner" {
		t.Fatalf("CallAtSpan = %v", c)
	}
	if n := len(f.CallsOnLine(outer, 7)); n != 1 {
		t.Fatalf("calls on line 7 = %d", n)
	}
	// calls inside the nested function are not the outer scope's
	if n := len(f.CallsOnLine(outer, 6)); n != 0 {
		t.Fatalf("calls on line 6 = %d", n)
	}
	if g := f.GlobalNames(outer); len(g) != 0 {
		t.Fatalf("globals = %v", g)
	}
}

func TestSyntaxErrorAndStrings(t *testing.T) {
	_, err := Parse([]byte("def f(:\n    pass\n"))
	var se *SyntaxError
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("want a syntax error at line 1, got %v", err)
	}
	_ = se
	f := parse(t, "x = '''a\nb\nc'''\ny = 1\n")
	rows := f.StringRows()
	if !rows[2] || !rows[3] || rows[4] {
		t.Fatalf("StringRows = %v", rows)
	}
	if parse(t, "if x:\n\ty = 1\n").HasTabIndent() != true {
		t.Fatal("tab indentation not seen")
	}
}
