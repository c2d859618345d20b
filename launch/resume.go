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

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// PlanFor loads snapshot n and builds its reconstruction, checking that the
// program's files on disk are still the recorded ones.
func PlanFor(store *recording.Store, n int64, allowEdited bool) (*reconstruct.Plan, *wire.Snapshot, *recording.Run, error) {
	snap, err := store.Get(n)
	if err != nil {
		return nil, nil, nil, err
	}
	run, err := store.GetRun(snap.Run)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: its run is missing from the recording: %v", snap.ID, err)
	}
	sources := map[string][]byte{}
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
			return nil, nil, nil, fmt.Errorf("%s: the source of %s is missing from the recording", snap.ID, f.File)
		}
		sources[f.SHA256] = []byte(text)
		path := f.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(run.Cwd, path)
		}
		disk, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, nil, &reconstruct.Refusal{What: fmt.Sprintf("the source file %s no longer exists (restore it to resume)", path), File: f.File, Line: f.Line}
		}
		sum := sha256.Sum256(disk)
		if hex.EncodeToString(sum[:]) != f.SHA256 && !allowEdited {
			return nil, nil, nil, &reconstruct.Refusal{What: fmt.Sprintf("%s changed since it was recorded (sha256 %s, now %s); restore the recorded version or record again",
				filepath.Base(path), f.SHA256[:12], hex.EncodeToString(sum[:])[:12]), File: f.File, Line: f.Line}
		}
	}
	// the other modules' sources, for the placeholder check (not compared
	// with the disk: no code of theirs is generated)
	for _, sha := range snap.Meta.ModuleSources {
		if _, ok := sources[sha]; !ok {
			if text, err := store.Source(sha); err == nil {
				sources[sha] = []byte(text)
			}
		}
	}
	plan, err := reconstruct.Build(snap, sources, ParseTarget(run.Program).IsModule())
	if err != nil {
		return nil, nil, nil, err
	}
	return plan, snap, run, nil
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
	plan, snap, run, err := PlanFor(store, n, o.AllowEdited)
	if err != nil {
		return nil, err
	}
	python := o.Python
	if python == "" {
		if _, err := os.Stat(run.Python); err == nil {
			python = run.Python
		}
	}
	python, err = FindPython(python)
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
	p := &Prepared{Python: python, Dir: dir, BaseDir: path0, Target: target, Plan: plan, Snap: snap}
	parent := n
	if err := p.create(Options{Store: store, Breakpoints: o.Breakpoints}, &parent, cfg); err != nil {
		return nil, err
	}
	p.Config.Resume = map[string]any{
		"snap":        n,
		"plan":        plan,
		"path0":       path0,
		"python":      fmt.Sprintf("%d.%d", ver.Major, ver.Minor),
		"python_full": snap.Python,
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
	_, _, _, err := PlanFor(store, n, false)
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
