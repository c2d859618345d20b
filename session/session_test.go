package session

import (
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/wire"
)

func intp(n int) *int { return &n }

func TestEvalPast(t *testing.T) {
	s := &wire.Snapshot{Summary: wire.Summary{ID: "snap-7"}}
	s.Frames = []wire.Frame{
		{Function: "<module>", Module: true, ModuleName: "__main__", Locals: map[string]wire.Value{}},
		{Function: "f", ModuleName: "__main__", Locals: map[string]wire.Value{
			"xs": {Type: "list", Repr: "[1, 2]", Len: intp(2), Children: []wire.Value{{Name: "[0]", Type: "int", Repr: "1"}, {Name: "[1]", Type: "int", Repr: "2"}}},
			"d": {Type: "dict", Repr: "{...}", Len: intp(3), Children: []wire.Value{
				{Name: "'a'", Type: "int", Repr: "1"}, {Name: "3", Type: "str", Repr: "'three'"},
				{Name: `"it's"`, Type: "Point", Repr: "<Point>", Children: []wire.Value{{Name: "x", Type: "int", Repr: "5"}}},
			}},
			"big": {Type: "list", Repr: "[...]", Len: intp(500), Children: []wire.Value{{Name: "[0]", Type: "int", Repr: "0"}}},
		}},
	}
	s.Globals = map[string]map[string]wire.Value{"__main__": {"G": {Type: "int", Repr: "42"}}}
	for expr, want := range map[string]string{
		"xs": "[1, 2]", "xs[1]": "2", "xs[-1]": "2", "d['a']": "1", `d["a"]`: "1", "d[3]": "'three'",
		`d["it's"].x`: "5", " G ": "42", "big[0]": "0",
	} {
		v, err := EvalPast(s, 1, expr)
		if err != nil || v.Repr != want {
			t.Errorf("%s = %q, %v; want %q", expr, v.Repr, err, want)
		}
	}
	for expr, want := range map[string]string{
		"nope": "not in the recording", "xs + 1": "recorded values only", "xs[5]": "does not exist",
		"big[400]": "was not recorded", "d['a'": "recorded values only",
	} {
		if _, err := EvalPast(s, 1, expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", expr, err, want)
		}
	}
	if v, err := EvalPast(s, 0, "G"); err != nil || v.Repr != "42" {
		t.Errorf("module frame global: %v %v", v, err)
	}
}

func TestValidPrefix(t *testing.T) {
	e := []byte("h\xc3\xa9") // é complete
	if validPrefix(e) != 3 {
		t.Fatal("complete rune cut")
	}
	if validPrefix(e[:2]) != 1 {
		t.Fatal("partial rune kept")
	}
	if validPrefix([]byte("abc")) != 3 {
		t.Fatal("ascii")
	}
}

func TestEventQueueOrder(t *testing.T) {
	q := newEventQueue()
	for i := 0; i < 1000; i++ {
		q.push(i)
	}
	q.close()
	n := 0
	for ev := range q.out {
		if ev.(int) != n {
			t.Fatalf("event %v at %d", ev, n)
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("%d events", n)
	}
}
