package session

// What to show of a stop, the same for every front end: the program's own
// frames, the order of variables and modules, recorded sources, and the
// differences between two snapshots.

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/pyreplay/pyreplay/wire"
)

// UserFrames returns the indexes of the program's own frames, innermost first.
func UserFrames(s *wire.Snapshot) []int {
	var out []int
	for i := len(s.Frames) - 1; i >= 0; i-- {
		if !s.Frames[i].Library {
			out = append(out, i)
		}
	}
	return out
}

// ChangeKind says how a variable differs between two snapshots.
type ChangeKind string

const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one variable that differs.
type Change struct {
	Scope string // "function (file:line)" or "globals of module"
	Name  string
	Kind  ChangeKind
	Old   *wire.Value
	New   *wire.Value
}

// Diff lists the variables that differ from a to b: locals of frames that
// are the same call in both (matched by function and position in the stack)
// and the globals of the program's modules.
func Diff(a, b *wire.Snapshot) []Change {
	var out []Change
	key := func(s *wire.Snapshot, i int) string {
		f := s.Frames[i]
		return fmt.Sprintf("%d|%s|%s", i, f.File, f.Function)
	}
	aIdx := map[string]int{}
	for i := range a.Frames {
		aIdx[key(a, i)] = i
	}
	for i := range b.Frames {
		fb := b.Frames[i]
		if fb.Library {
			continue
		}
		scope := fmt.Sprintf("%s (%s:%d)", fb.Function, shortFile(fb.File), fb.Line)
		ai, ok := aIdx[key(b, i)]
		var old map[string]wire.Value
		if ok {
			old = a.Frames[ai].Locals
		}
		out = append(out, diffMaps(scope, old, fb.Locals)...)
	}
	mods := map[string]bool{}
	for m := range a.Globals {
		mods[m] = true
	}
	for m := range b.Globals {
		mods[m] = true
	}
	names := make([]string, 0, len(mods))
	for m := range mods {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		out = append(out, diffMaps("globals of "+m, a.Globals[m], b.Globals[m])...)
	}
	return out
}

func diffMaps(scope string, a, b map[string]wire.Value) []Change {
	var out []Change
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return nameLess(names[i], names[j]) })
	for _, k := range names {
		av, aok := a[k]
		bv, bok := b[k]
		switch {
		case aok && !bok:
			out = append(out, Change{Scope: scope, Name: k, Kind: Removed, Old: &av})
		case !aok && bok:
			out = append(out, Change{Scope: scope, Name: k, Kind: Added, New: &bv})
		case av.Type != bv.Type || av.Repr != bv.Repr:
			out = append(out, Change{Scope: scope, Name: k, Kind: Changed, Old: &av, New: &bv})
		}
	}
	return out
}

func shortFile(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// TopUserFrame is the index of the innermost frame of the program's own
// code (where a stop is shown and evaluated), or the innermost frame when
// every frame is a library's.
func TopUserFrame(s *wire.Snapshot) int {
	if uf := UserFrames(s); len(uf) > 0 {
		return uf[0]
	}
	return len(s.Frames) - 1
}

func topUser(s *wire.Snapshot) *wire.Frame {
	if uf := UserFrames(s); len(uf) > 0 {
		return &s.Frames[uf[0]]
	}
	return nil
}

// SortedNames orders variable names as every view shows them: plain names
// first, then names starting with "_", each alphabetically.
func SortedNames(m map[string]wire.Value) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return nameLess(names[i], names[j]) })
	return names
}

func nameLess(a, b string) bool {
	pa, pb := strings.HasPrefix(a, "_"), strings.HasPrefix(b, "_")
	if pa != pb {
		return pb
	}
	return a < b
}

// SortedValues is m's values in SortedNames order, each named.
func SortedValues(m map[string]wire.Value) []wire.Value {
	out := make([]wire.Value, 0, len(m))
	for _, k := range SortedNames(m) {
		v := m[k]
		v.Name = k
		out = append(out, v)
	}
	return out
}

// ModuleOrder lists the modules of a snapshot's globals, __main__ first,
// then alphabetically.
func ModuleOrder(g map[string]map[string]wire.Value) []string {
	out := make([]string, 0, len(g))
	for m := range g {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == "__main__") != (out[j] == "__main__") {
			return out[i] == "__main__"
		}
		return out[i] < out[j]
	})
	return out
}

// Snapshot reads (and caches) a snapshot of the recording by number.
func (d *Engine) Snapshot(n int64) (*wire.Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.store == nil {
		return nil, errors.New("no recording is open")
	}
	return d.snapLocked(n)
}

func (d *Engine) snapLocked(n int64) (*wire.Snapshot, error) {
	if s, ok := d.cache[n]; ok {
		return s, nil
	}
	s, err := d.store.Get(n)
	if err != nil {
		return nil, err
	}
	d.cache[n] = s
	return s, nil
}

// Source returns the recorded text of a file by its sha256.
func (d *Engine) Source(sha string) (string, error) {
	d.mu.Lock()
	st := d.store
	t, ok := d.src[sha]
	d.mu.Unlock()
	if ok {
		return t, nil
	}
	if st == nil {
		return "", errors.New("no recording is open")
	}
	t, err := st.Source(sha)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.src[sha] = t
	d.mu.Unlock()
	return t, nil
}

// FrameSource returns the recorded text of a frame's file.
func (d *Engine) FrameSource(f wire.Frame) (string, error) {
	if f.SHA256 == "" {
		return "", fmt.Errorf("the recording holds no source for %s (a library frame)", f.File)
	}
	t, err := d.Source(f.SHA256)
	if err != nil {
		return "", fmt.Errorf("source of %s is missing from the recording: %v", f.File, err)
	}
	return t, nil
}
