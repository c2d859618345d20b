package pyshim

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The shim's modules import in one direction only (issue 12): the graph of
// every `from . import x` / `from .x import y` — at module level and inside
// functions alike, since an import moved into a function to dodge a cycle is
// still a cycle — and every `sys.modules` lookup of a sibling by name has no
// cycle.
var (
	relFrom   = regexp.MustCompile(`^\s*from \.(\w*) import (.+)$`)
	siblingSM = regexp.MustCompile(`sys\.modules(?:\.get)?[\[(]\s*__package__\s*\+\s*"\.(\w+)"`)
)

func shimImports(t *testing.T) map[string][]string {
	t.Helper()
	paths, err := filepath.Glob("pyreplay_shim/*.py")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shim modules: %v", err)
	}
	graph := map[string][]string{}
	for _, p := range paths {
		mod := strings.TrimSuffix(filepath.Base(p), ".py")
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		add := func(to string) {
			if to != "" && to != mod && to != "__init__" && !seen[to] {
				seen[to] = true
				graph[mod] = append(graph[mod], to)
			}
		}
		for _, line := range strings.Split(string(src), "\n") {
			if m := relFrom.FindStringSubmatch(line); m != nil {
				if m[1] != "" {
					add(m[1])
					continue
				}
				names := strings.Trim(strings.SplitN(m[2], "#", 2)[0], " ()")
				for _, n := range strings.Split(names, ",") {
					add(strings.Fields(strings.TrimSpace(n) + " ")[0])
				}
			}
			for _, m := range siblingSM.FindAllStringSubmatch(line, -1) {
				add(m[1])
			}
		}
		sort.Strings(graph[mod])
		if _, ok := graph[mod]; !ok {
			graph[mod] = nil
		}
	}
	return graph
}

func TestShimImportsHaveNoCycle(t *testing.T) {
	graph := shimImports(t)
	const (
		white = iota
		grey
		black
	)
	colour := map[string]int{}
	var stack []string
	var cycles []string
	var visit func(string)
	visit = func(m string) {
		colour[m] = grey
		stack = append(stack, m)
		for _, n := range graph[m] {
			switch colour[n] {
			case white:
				visit(n)
			case grey:
				i := len(stack) - 1
				for stack[i] != n {
					i--
				}
				cycles = append(cycles, strings.Join(append(append([]string{}, stack[i:]...), n), " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		colour[m] = black
	}
	mods := make([]string, 0, len(graph))
	for m := range graph {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for _, m := range mods {
		if colour[m] == white {
			visit(m)
		}
	}
	for _, c := range cycles {
		t.Errorf("import cycle in the shim: %s", c)
	}
	if testing.Verbose() {
		for _, m := range mods {
			t.Logf("%s -> %s", m, strings.Join(graph[m], ", "))
		}
	}
}

// No shim module grows past 800 lines (issue 12's acceptance).
func TestShimModulesUnder800Lines(t *testing.T) {
	paths, _ := filepath.Glob("pyreplay_shim/*.py")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n > 800 {
			t.Errorf("%s has %d lines (at most 800)", p, n)
		}
	}
}
