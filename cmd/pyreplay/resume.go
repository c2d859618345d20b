package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/reconstruct"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
)

func resumeCmd() *cobra.Command {
	var (
		db, python, emit string
		bps              []string
		every            time.Duration
		allowEdited      bool
		trusted          bool
		useCriu          bool
		dryRun           bool
	)
	cmd := &cobra.Command{
		Use:   "resume SNAP",
		Short: "Continue a recorded program from a snapshot in a fresh process",
		Example: `  pyreplay resume snap-42
  pyreplay resume 42 -b prog.py:30     # snapshots of the resumed run go to the same recording
  pyreplay resume snap-42 --emit resumed.py`,
		Args: snapshotArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := recording.ParseSnapID(args[0])
			if err != nil {
				return err
			}
			dbPath := recording.Resolve(db)
			store, err := recording.Open(dbPath)
			if err != nil {
				return err
			}
			defer store.Close()
			if emit != "" {
				pl, err := launch.PlanFor(store, n, allowEdited)
				if err != nil {
					return resumeError(store, n, err)
				}
				if err := os.WriteFile(emit, []byte(reconstruct.EmitSource(pl.Plan)), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "pyreplay: wrote the reconstruction of %s to %s\n", recording.SnapID(n), emit)
				return nil
			}
			if dryRun {
				pl, err := launch.PlanFor(store, n, allowEdited)
				if err != nil {
					return resumeError(store, n, err)
				}
				sayEdits(launch.EditReport(pl.Edits))
				if len(pl.Edits) == 0 {
					fmt.Fprintf(os.Stderr, "pyreplay: no program file changed since %s was recorded\n", recording.SnapID(n))
				}
				return nil
			}
			p, err := session.PrepareResume(launch.Options{Store: store, Snap: n, Python: python, Breakpoints: bps, Every: every.Seconds(), AllowEdited: allowEdited, Trust: trusted}, useCriu)
			if err != nil {
				return resumeError(store, n, err)
			}
			sayEdits(p.EditReport())
			if p.Image != "" {
				store.Close()
				if p.Why == "" {
					fmt.Fprintf(os.Stderr, "pyreplay: resuming %s from its CRIU image (--criu)\n", recording.SnapID(n))
				} else {
					fmt.Fprintf(os.Stderr, "pyreplay: resuming %s from its CRIU image: exact resume refuses: %s\n", recording.SnapID(n), printable(firstLine(p.Why)))
				}
				return restoreIn(p)
			}
			store.Close()
			return launchIn(p.Python, p.Config, dbPath, p.Config.Run, p.Dir, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	f.StringVar(&python, "python", "", "Python interpreter (default: the one that recorded)")
	f.StringArrayVarP(&bps, "break", "b", nil, "snapshot at FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or FUNCTION in the resumed run")
	f.DurationVar(&every, "every", 0, "periodic checkpoints in the resumed run")
	f.StringVar(&emit, "emit", "", "write the generated reconstruction source to FILE instead of running it")
	f.BoolVar(&allowEdited, "allow-edited", false, "continue in the edited source: functions, classes and constants changed since recording take their new definitions, and running frames continue in their new code when the edit leaves their position's statements alone")
	f.BoolVar(&dryRun, "dry-run", false, "with --allow-edited: say where each edited file's frames continue and which definitions change, and run nothing")
	f.BoolVar(&useCriu, "criu", false, "restore the snapshot's CRIU image (record --criu) even when it resumes exactly")
	f.BoolVar(&trusted, "trust", false, "trust the recording (as pyreplay trust FILE) before resuming")
	return cmd
}

// sayEdits prints the report of a resume into edited source, a line per file.
func sayEdits(lines []string) {
	for _, l := range lines {
		fmt.Fprintf(os.Stderr, "pyreplay: %s\n", printable(l))
	}
}

// resumeError says a refusal as resume does, with what to do about it:
// record with --criu, when the snapshot was not (an image answers every
// refusal but an edit of the source: it holds the recorded code).
func resumeError(store *recording.Store, n int64, err error) error {
	if !reconstruct.IsRefusal(err) {
		return err
	}
	if !strings.HasPrefix(err.Error(), "cannot resume") {
		err = session.ResumeError(n, err)
	}
	var r *reconstruct.Refusal
	if errors.As(err, &r) && r.Edited {
		return err
	}
	if im, _ := store.Image(n); im != nil {
		return err // recorded with --criu: the verdict says why there is no image
	}
	return fmt.Errorf("%v; record with --criu to resume such snapshots from a process image", err)
}

// restoreIn restores p's CRIU image and ends as the restored program did.
func restoreIn(p *session.Program) error {
	res, err := p.Run()
	if err != nil {
		return err
	}
	if res.Signal != 0 {
		scratch.Remove() // (DieBy ends the process without returning to main)
		launch.DieBy(res.Signal)
	}
	if res.ExitCode != 0 {
		return exitError{res.ExitCode}
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
