package reconstruct

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

// ResumeOptions are the user's choices for a resume.
type ResumeOptions struct {
	Python      string // interpreter; default: the one that recorded, else python3
	Breakpoints []string
	Every       float64
	AllowEdited bool // resume even if a source file changed since recording
	Trust       bool // sign the whole recording with the user's key first (`--trust`)
}

// Prepared is a resume ready to run.
type Prepared struct {
	Config launch.Config
	Python string
	Dir    string // working directory of the recorded run
	Plan   *Plan
	Snap   *wire.Snapshot
}

// PlanFor loads snapshot n and builds its reconstruction, checking that the
// program's files on disk are still the recorded ones.
func PlanFor(store *recording.Store, n int64, allowEdited bool) (*Plan, *wire.Snapshot, *recording.Run, error) {
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
			return nil, nil, nil, &Refusal{What: fmt.Sprintf("the source file %s no longer exists (restore it to resume)", path), File: f.File, Line: f.Line}
		}
		sum := sha256.Sum256(disk)
		if hex.EncodeToString(sum[:]) != f.SHA256 && !allowEdited {
			return nil, nil, nil, &Refusal{What: fmt.Sprintf("%s changed since it was recorded (sha256 %s, now %s); restore the recorded version or record again",
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
	plan, err := Build(snap, sources, strings.HasPrefix(run.Program, "-m "))
	if err != nil {
		return nil, nil, nil, err
	}
	return plan, snap, run, nil
}

// ResumeConfig prepares a resume of snapshot n as a new run in the same
// recording (its parent is the snapshot). The caller starts it with
// launch.Prepare(p.Python, p.Config, env) and runs it in p.Dir.
//
// Nothing of a snapshot is loaded unless it is signed with the user's key
// (internal/trust): a recording from elsewhere needs opts.Trust (or
// `pyreplay trust FILE`) first.
func ResumeConfig(store *recording.Store, n int64, opts ResumeOptions) (*Prepared, error) {
	key, err := trust.UserKey()
	if err != nil {
		return nil, err
	}
	if opts.Trust {
		if _, _, err := store.Trust(key); err != nil {
			return nil, fmt.Errorf("cannot sign %s with your key: %v", store.Path, err)
		}
	}
	if err := store.Verify(n, key); err != nil {
		return nil, err
	}
	plan, snap, run, err := PlanFor(store, n, opts.AllowEdited)
	if err != nil {
		return nil, err
	}
	python := opts.Python
	if python == "" {
		if _, err := os.Stat(run.Python); err == nil {
			python = run.Python
		}
	}
	python, err = launch.FindPython(python)
	if err != nil {
		return nil, err
	}
	ver := ParseVersion(snap.Python)
	cfg := launch.Config{Mode: "resume", Every: opts.Every, StdoutStart: snap.StdoutBytes, StderrStart: snap.StderrBytes}
	cfg.Argv = snap.Meta.Argv
	if cfg.Argv == nil {
		cfg.Argv = run.Argv
	}
	dir := run.Cwd
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir, _ = os.Getwd()
	}
	path0 := dir
	baseDir := dir
	if strings.HasPrefix(run.Program, "-m ") {
		cfg.Module = strings.TrimPrefix(run.Program, "-m ")
	} else {
		cfg.Program = run.Program
		prog := run.Program
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(dir, prog)
		}
		if rp, err := filepath.EvalSymlinks(prog); err == nil {
			prog = rp
		}
		path0 = filepath.Dir(prog)
		baseDir = path0
	}
	for _, spec := range opts.Breakpoints {
		bps, err := launch.ParseBreakpoint(spec, baseDir, python)
		if err != nil {
			return nil, err
		}
		cfg.Breakpoints = append(cfg.Breakpoints, bps...)
	}
	parent := n
	runID, err := store.NewRun(&parent, run.Program, cfg.Argv, dir, python)
	if err != nil {
		return nil, fmt.Errorf("cannot write to %s: %v", store.Path, err)
	}
	abs, _ := filepath.Abs(store.Path)
	cfg.DB = abs
	cfg.Run = runID
	cfg.Resume = map[string]any{
		"snap":        n,
		"plan":        plan,
		"path0":       path0,
		"python":      fmt.Sprintf("%d.%d", ver.Major, ver.Minor),
		"python_full": snap.Python,
	}
	cfg.Snap = n
	cfg.HashSeed, cfg.HashSeedInjected = snap.Meta.HashSeed, snap.Meta.HashSeedInjected
	return &Prepared{Config: cfg, Python: python, Dir: dir, Plan: plan, Snap: snap}, nil
}

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
