// Package session is the debugging engine both front ends (DAP, TUI) drive:
// a cursor over a recording's snapshots, their frames, variables and
// sources, differences between snapshots, and resuming from one.
package session

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pyreplay/pyreplay/recording"
)

// Replay is a cursor over the snapshots of a recording.
type Replay struct {
	Store *recording.Store
	mu    sync.Mutex
	list  []recording.Summary
	cur   int
	cache map[int64]*recording.Snapshot
	src   map[string]string
}

// OpenReplay opens the recording at path. run > 0 restricts it to one run.
func OpenReplay(path string, run int64) (*Replay, error) {
	st, err := recording.Open(path)
	if err != nil {
		return nil, err
	}
	r := &Replay{Store: st, cache: map[int64]*recording.Snapshot{}, src: map[string]string{}}
	if err := r.Reload(run); err != nil {
		st.Close()
		return nil, err
	}
	return r, nil
}

// ErrEmpty is returned for a recording without snapshots.
var ErrEmpty = errors.New("the recording has no snapshots yet")

// Reload re-reads the snapshot list (a live recording grows).
func (r *Replay) Reload(run int64) error {
	list, err := r.Store.List(run)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = list
	if r.cur >= len(list) {
		r.cur = len(list) - 1
	}
	if r.cur < 0 {
		r.cur = 0
	}
	return nil
}

// Close closes the recording.
func (r *Replay) Close() error { return r.Store.Close() }

// Len is the number of snapshots.
func (r *Replay) Len() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.list) }

// List returns the snapshot summaries, oldest first.
func (r *Replay) List() []recording.Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recording.Summary(nil), r.list...)
}

// Index is the cursor position.
func (r *Replay) Index() int { r.mu.Lock(); defer r.mu.Unlock(); return r.cur }

// Seek moves the cursor to index i (clamped) and returns the snapshot there.
func (r *Replay) Seek(i int) (*recording.Snapshot, error) {
	r.mu.Lock()
	if len(r.list) == 0 {
		r.mu.Unlock()
		return nil, ErrEmpty
	}
	if i < 0 {
		i = 0
	}
	if i >= len(r.list) {
		i = len(r.list) - 1
	}
	r.cur = i
	n := r.list[i].N
	r.mu.Unlock()
	return r.Get(n)
}

// SeekID moves the cursor to the snapshot with number n.
func (r *Replay) SeekID(n int64) (*recording.Snapshot, error) {
	r.mu.Lock()
	idx := -1
	for i, s := range r.list {
		if s.N == n {
			idx = i
			break
		}
	}
	r.mu.Unlock()
	if idx < 0 {
		return nil, fmt.Errorf("%s: %w in %s (`pyreplay ls` lists them)", recording.SnapID(n), recording.ErrNoSnapshot, r.Store.Path)
	}
	return r.Seek(idx)
}

// Current returns the snapshot at the cursor.
func (r *Replay) Current() (*recording.Snapshot, error) { return r.Seek(r.Index()) }

// Get reads (and caches) a snapshot by number.
func (r *Replay) Get(n int64) (*recording.Snapshot, error) {
	r.mu.Lock()
	if s, ok := r.cache[n]; ok {
		r.mu.Unlock()
		return s, nil
	}
	r.mu.Unlock()
	s, err := r.Store.Get(n)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[n] = s
	r.mu.Unlock()
	return s, nil
}

// Find returns the index of the next (dir=+1) or previous (dir=-1) snapshot
// after the cursor for which match returns true, or -1.
func (r *Replay) Find(dir int, match func(recording.Summary) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := r.cur + dir; i >= 0 && i < len(r.list); i += dir {
		if match == nil || match(r.list[i]) {
			return i
		}
	}
	return -1
}

// Source returns the recorded text of a frame's file.
func (r *Replay) Source(f recording.Frame) (string, error) {
	if f.SHA256 == "" {
		return "", fmt.Errorf("the recording holds no source for %s (a library frame)", f.File)
	}
	r.mu.Lock()
	if t, ok := r.src[f.SHA256]; ok {
		r.mu.Unlock()
		return t, nil
	}
	r.mu.Unlock()
	t, err := r.Store.Source(f.SHA256)
	if err != nil {
		return "", fmt.Errorf("source of %s is missing from the recording: %v", f.File, err)
	}
	r.mu.Lock()
	r.src[f.SHA256] = t
	r.mu.Unlock()
	return t, nil
}

// UserFrames returns the indexes of the program's own frames, innermost first.
func UserFrames(s *recording.Snapshot) []int {
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
	Old   *recording.Value
	New   *recording.Value
}

// Diff lists the variables that differ from a to b: locals of frames that
// are the same call in both (matched by function and position in the stack)
// and the globals of the program's modules.
func Diff(a, b *recording.Snapshot) []Change {
	var out []Change
	key := func(s *recording.Snapshot, i int) string {
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
		var old map[string]recording.Value
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

func diffMaps(scope string, a, b map[string]recording.Value) []Change {
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
	sort.Strings(names)
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
