package launch

// Building a resume: the snapshot's reconstruction (planned by reconstruct
// from the recorded frames and sources), and the new run that starts it.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// ResumeConfig is what a resumed process reads of its config (resume.py
// run): the snapshot, its plan, sys.path[0], the interpreter it needs, the
// edited files to load and, for a re-execution, the history to record.
type ResumeConfig struct {
	Snap       int64             `json:"snap"`
	Plan       *reconstruct.Plan `json:"plan"`
	Path0      string            `json:"path0"`
	Python     string            `json:"python"`      // "3.11"
	PythonFull string            `json:"python_full"` // the snapshot's sys.version
	Edits      []FileEdit        `json:"edits"`
	History    *HistorySpec      `json:"history,omitempty"`
}

// HistorySpec asks a resumed run for the line events up to a later stop
// or line event (pyshim linehistory.py): Out receives them; the stop is
// recognised by its program frames' (file, line), outermost first, its
// output offsets and its locals.
type HistorySpec struct {
	Out   string       `json:"out"`
	Until HistoryUntil `json:"until"`
	Limit int          `json:"limit,omitempty"`
	// Scope: the codes that report line events (nil: every code of the
	// program); other frames appear only as callers of traced ones
	Scope *HistoryScope `json:"scope,omitempty"`
	// ForkEvery: only the last Limit events are recorded; the run counts
	// the ones before, with a forked copy of itself every ForkEvery events
	// to record from (0: it records every one)
	ForkEvery int `json:"fork_every,omitempty"`
	// Snapshot: no line events; the run takes a snapshot at line event
	// Until.Event and ends (a line of the past made a recorded stop)
	Snapshot bool `json:"snapshot,omitempty"`
	// Count: no line events; the run counts the line events of
	// Scope.Lines whose condition holds, up to Until (not included), and
	// ends with them ({"end": ..., "counts": {"file:line:condition": N}})
	Count bool `json:"count,omitempty"`
	// Park: none of the above yet: the resumed run waits at its arrival
	// for them, a file's path written to the FIFO at Park (session/park.go)
	Park string `json:"park,omitempty"`
	// Done: a FIFO the run writes "done" to once Out is complete, before
	// its process ends (session/done.go)
	Done string `json:"done,omitempty"`
	// NoTrail: the run's copies wait at fork checkpoints, none trails it
	// (pyshim follow.py)
	NoTrail bool `json:"no_trail,omitempty"`
}

// HistoryScope names the codes a re-execution traces: by their name in
// their file (the stop's frames), and those whose own lines hold one of
// Lines (breakpoints).
type HistoryScope struct {
	Codes [][2]any `json:"codes"` // [file, co_name]
	Lines [][3]any `json:"lines"` // [file, line, condition or ""]
	// StopOnly: [file, co_name, line] of a code traced at that line alone
	// (its other lines report no events): the stop's top frame's, when the
	// window needs none of its lines but must recognise the stop
	StopOnly *[3]any `json:"stop_only,omitempty"`
	// All: every code of the program reports line events (a step in from
	// the past into code the window did not trace)
	All bool `json:"all,omitempty"`
	// FromHit: the window's events begin a few before the last hit of
	// Lines (their conditions holding) when it is among the last Limit,
	// not Limit before the stop: a Reverse Continue's window, which needs
	// that hit and records far fewer events for a hot line
	FromHit bool `json:"from_hit,omitempty"`
}

// HistoryUntil is the stop a re-execution ends at.
type HistoryUntil struct {
	Stack  [][2]any            `json:"stack"`
	Stdout int64               `json:"stdout"`
	Stderr int64               `json:"stderr"`
	Locals []map[string]string `json:"locals"` // each program frame's locals' reprs, outermost first
	Last   bool                `json:"last"`   // an exception stop: the last event that matches
	// Event, instead of a stop: the run ends at the line event with this
	// number (the anchor's own is 0, each line event of the scope's code
	// counts)
	Event *int `json:"event,omitempty"`
}

// Planned is a snapshot's reconstruction and what it was built from.
type Planned struct {
	Plan *reconstruct.Plan
	Snap *wire.Snapshot
	Run  *recording.Run
	// Edits are the program files that changed since the recording (with
	// allowEdited: the plan continues in their new text), in path order.
	Edits []FileEdit
}

// FileEdit is one edited file of a resume into edited source: where its
// frames continue, and the top-level definitions the program gets anew.
type FileEdit struct {
	Path   string                    `json:"path"`
	Module string                    `json:"module"`
	Mapped []reconstruct.MappedFrame `json:"mapped,omitempty"`
	Defs   []reconstruct.EditedDef   `json:"defs,omitempty"`
}

// diskSHA is the sha256 of the file at path and its text ("" when it
// cannot be read), cached while its size and modification time stay (ls
// checks every snapshot's modules).
func diskSHA(path string) (string, []byte) {
	st, err := os.Stat(path)
	if err != nil {
		return "", nil
	}
	shaMu.Lock()
	c, ok := shaCache[path]
	shaMu.Unlock()
	if ok && c.size == st.Size() && c.mtime.Equal(st.ModTime()) {
		return c.sha, c.text
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil
	}
	sum := sha256.Sum256(b)
	c = shaEntry{size: st.Size(), mtime: st.ModTime(), sha: hex.EncodeToString(sum[:]), text: b}
	shaMu.Lock()
	shaCache[path] = c
	shaMu.Unlock()
	return c.sha, c.text
}

type shaEntry struct {
	size  int64
	mtime time.Time
	sha   string
	text  []byte
}

var (
	shaMu    sync.Mutex
	shaCache = map[string]shaEntry{}
)

// EditReport is one line per edited file: where its frames continue and
// which definitions the program gets anew.
func EditReport(edits []FileEdit) []string {
	var out []string
	for _, e := range edits {
		var parts []string
		for _, m := range e.Mapped {
			parts = append(parts, fmt.Sprintf("%s continues at line %d (was %d)", m.Function, m.NewLine, m.OldLine))
		}
		if d := reconstruct.DescribeDefs(e.Defs); d != "" {
			parts = append(parts, d)
		}
		if len(parts) == 0 {
			parts = append(parts, "edited; nothing running or defined at its top level changes")
		}
		out = append(out, fmt.Sprintf("%s: %s", filepath.Base(e.Path), strings.Join(parts, "; ")))
	}
	return out
}

// PlanFor loads snapshot n and builds its reconstruction, checking that the
// program's files on disk are still the recorded ones; with allowEdited, a
// changed file is resumed into its new text (reconstruct.MapEditedFrames)
// or refused.
func PlanFor(store *recording.Store, n int64, allowEdited bool) (*Planned, error) {
	snap, err := store.Get(n)
	if err != nil {
		return nil, err
	}
	run, err := store.GetRun(snap.Run)
	if err != nil {
		return nil, fmt.Errorf("%s: its run is missing from the recording: %v", snap.ID, err)
	}
	sources := map[string][]byte{}
	edits := map[string]*reconstruct.EditedFile{}
	abs := func(p string) string {
		if !filepath.IsAbs(p) {
			return filepath.Join(run.Cwd, p)
		}
		return p
	}
	// the stack's frames (library frames between program frames included,
	// when their source was kept) and the suspended generators'
	for _, f := range append(append([]wire.Frame{}, snap.Frames...), snap.Meta.Generators...) {
		if f.SHA256 == "" {
			continue
		}
		if _, ok := sources[f.SHA256]; ok {
			continue
		}
		text, err := store.Source(f.SHA256)
		if err != nil {
			return nil, fmt.Errorf("%s: the source of %s is missing from the recording", snap.ID, f.File)
		}
		sources[f.SHA256] = []byte(text)
		path := abs(f.File)
		disk, err := os.ReadFile(path)
		if err != nil {
			return nil, &reconstruct.Refusal{What: fmt.Sprintf("the source file %s no longer exists (restore it to resume)", path), File: f.File, Line: f.Line}
		}
		sum := sha256.Sum256(disk)
		if now := hex.EncodeToString(sum[:]); now != f.SHA256 {
			if !allowEdited {
				return nil, &reconstruct.Refusal{What: fmt.Sprintf("%s changed since it was recorded (sha256 %s, now %s); restore the recorded version, record again, or resume into the edit with --allow-edited",
					filepath.Base(path), f.SHA256[:12], now[:12]), File: f.File, Line: f.Line, Edited: true}
			}
			module := f.ModuleName
			if f.Module && module == "" {
				module = "__main__"
			}
			edits[f.SHA256] = &reconstruct.EditedFile{Path: path, Module: module, OldSHA: f.SHA256, NewSHA: now, Old: []byte(text), New: disk}
		}
	}
	// the other modules' sources, for the placeholder check; with
	// allowEdited, compared with the disk too (their definitions change)
	for mod, sha := range snap.Meta.ModuleSources {
		if _, ok := sources[sha]; ok {
			if e := edits[sha]; e != nil && (e.Module == "" || e.Module == "__main__" && mod != "__main__") {
				e.Module = mod
			}
			continue
		}
		text, err := store.Source(sha)
		if err != nil {
			continue
		}
		sources[sha] = []byte(text)
		path, err := store.SourcePath(sha)
		if err != nil {
			continue
		}
		// (a module whose file is gone still resumes: its functions'
		// code is in the state)
		now, disk := diskSHA(abs(path))
		if now == "" || now == sha {
			continue
		}
		if !allowEdited {
			return nil, &reconstruct.Refusal{What: fmt.Sprintf("%s (module %s) changed since it was recorded (sha256 %s, now %s); restore the recorded version, record again, or resume into the edit with --allow-edited",
				filepath.Base(path), mod, sha[:12], now[:12]), Edited: true}
		}
		edits[sha] = &reconstruct.EditedFile{Path: abs(path), Module: mod, OldSHA: sha, NewSHA: now, Old: []byte(text), New: disk}
	}
	var fileEdits []FileEdit
	if len(edits) > 0 {
		mapped, err := reconstruct.MapEditedFrames(snap, edits)
		if err != nil {
			return nil, err
		}
		for _, e := range edits {
			sources[e.NewSHA] = e.New
			defs, err := reconstruct.EditedDefinitions(e.Old, e.New)
			if err != nil {
				return nil, &reconstruct.Refusal{What: fmt.Sprintf("the edited %s does not parse: %v", filepath.Base(e.Path), err), File: e.Path, Line: 1}
			}
			fe := FileEdit{Path: e.Path, Module: e.Module, Mapped: mapped[e.Path]}
			// a module frame on the stack runs its definitions below its
			// position itself: only those above it are given anew
			below := 0
			for _, m := range fe.Mapped {
				if m.Function == "<module>" {
					below = m.NewLine
				}
			}
			for _, d := range defs {
				if below == 0 || d.End < below {
					fe.Defs = append(fe.Defs, d)
				}
			}
			fileEdits = append(fileEdits, fe)
		}
		sort.Slice(fileEdits, func(i, j int) bool { return fileEdits[i].Path < fileEdits[j].Path })
	}
	plan, err := reconstruct.Build(snap, sources, ParseTarget(run.Program).IsModule())
	if err != nil {
		return nil, err
	}
	return &Planned{Plan: plan, Snap: snap, Run: run, Edits: fileEdits}, nil
}

// buildResume prepares a resume of snapshot o.Snap of o.Store as a new run
// in the same recording (its parent is the snapshot).
//
// Nothing of a snapshot is loaded unless it is signed with the user's key
// (internal/trust): a recording from elsewhere needs o.Trust (or
// `pyreplay trust FILE`) first.
func buildResume(o Options) (*Prepared, error) {
	store, n := o.Store, o.Snap
	if store == nil {
		return nil, errors.New("nothing to resume from: no recording is open")
	}
	key, err := trust.UserKey()
	if err != nil {
		return nil, err
	}
	if o.Trust {
		if _, _, err := store.Trust(key); err != nil {
			return nil, fmt.Errorf("cannot sign %s with your key: %v", store.Path, err)
		}
	}
	if err := store.Verify(n, key); err != nil {
		return nil, err
	}
	pl, err := PlanFor(store, n, o.AllowEdited)
	if err != nil {
		return nil, err
	}
	plan, snap, run := pl.Plan, pl.Snap, pl.Run
	python, err := SnapshotPython(o.Python, snap)
	if err != nil {
		return nil, err
	}
	ver := reconstruct.ParseVersion(snap.Python)
	cfg := Config{Mode: "resume", Every: o.Every, StdoutStart: snap.StdoutBytes, StderrStart: snap.StderrBytes}
	cfg.Argv = snap.Meta.Argv
	if cfg.Argv == nil {
		cfg.Argv = run.Argv
	}
	dir := run.Cwd
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir, _ = os.Getwd()
	}
	target := ParseTarget(run.Program)
	path0 := dir
	if target.IsModule() {
		cfg.Module = target.Module
	} else {
		cfg.Program = target.Script
		prog := target.Script
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(dir, prog)
		}
		if rp, err := filepath.EvalSymlinks(prog); err == nil {
			prog = rp
		}
		path0 = filepath.Dir(prog)
	}
	p := &Prepared{Python: python, Dir: dir, BaseDir: path0, Target: target, Plan: plan, Snap: snap, Edits: pl.Edits}
	parent := n
	if err := p.create(Options{Store: store, Breakpoints: o.Breakpoints}, &parent, cfg); err != nil {
		return nil, err
	}
	p.Config.Resume = &ResumeConfig{
		Snap:       n,
		Plan:       plan,
		Path0:      path0,
		Python:     fmt.Sprintf("%d.%d", ver.Major, ver.Minor),
		PythonFull: snap.Python,
		Edits:      pl.Edits,
		History:    o.History,
	}
	p.Config.Snap = n
	p.Config.HashSeed, p.Config.HashSeedInjected = snap.Meta.HashSeed, snap.Meta.HashSeedInjected
	return p, nil
}

// How a snapshot can be resumed (ls and show report it for each).
const (
	ResumeExact   = "exact"   // pyreplay resume rebuilds its frames exactly
	ResumeCriu    = "criu"    // exact resume refuses, the snapshot's CRIU image restores it
	ResumeRefused = "refused" // it would refuse, for the reason given
)

// ResumeVerdict says how snapshot n would resume today, and why not
// exactly when it would not: the check `pyreplay resume` makes (the plan
// and the sources on disk), without running anything; then whether it has
// a CRIU image (record --criu), or why its dump failed.
func ResumeVerdict(store *recording.Store, n int64) (verdict, why string) {
	_, err := PlanFor(store, n, false)
	if err == nil {
		return ResumeExact, ""
	}
	why = err.Error()
	if _, ok := CriuImage(store, n); ok {
		return ResumeCriu, why
	}
	if im, _ := store.Image(n); im != nil {
		if im.Dir != "" {
			return ResumeRefused, why + "; its CRIU image " + im.Dir + " is gone"
		}
		if im.Error != "" {
			return ResumeRefused, why + "; no CRIU image: " + im.Error
		}
	}
	return ResumeRefused, why
}

// CriuImage is snapshot n's CRIU image directory, when it has one on disk.
func CriuImage(store *recording.Store, n int64) (string, bool) {
	im, _ := store.Image(n)
	if im == nil || im.Dir == "" {
		return "", false
	}
	if st, err := os.Stat(im.Dir); err != nil || !st.IsDir() {
		return "", false
	}
	return im.Dir, true
}
