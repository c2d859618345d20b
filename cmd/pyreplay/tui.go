package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
	"github.com/pyreplay/pyreplay/tui"
)

func init() { extraCommands = append(extraCommands, tuiCmd) }

type tuiFlags struct {
	db     string
	python string
	bps    []string
	module string
}

func tuiCmd() *cobra.Command {
	var fl tuiFlags
	cmd := &cobra.Command{
		Use:   "tui [--db PATH] [SNAP] | tui [-b SPEC]... PROG.py [ARGS...]",
		Short: "Browse a recording (or debug a program live) in the terminal",
		Long: `Open a recording in a terminal UI: the timeline of snapshots, the source
of the current frame, the call stack and the variables; step between
snapshots, diff them, and resume the program from one.

With a program instead of a snapshot, record it with the given breakpoints
and open it live.`,
		Example: `  pyreplay tui                      # the newest run's first snapshot
  pyreplay tui snap-12 --db rec.db
  pyreplay tui -b prog.py:30 prog.py input.txt`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl.module != "" || (len(args) > 0 && looksLikeProgram(args[0])) {
				return runTUILive(fl, args)
			}
			if len(args) > 1 {
				return fmt.Errorf("expected at most one snapshot id, got %q", strings.Join(args, " "))
			}
			var start int64
			if len(args) == 1 {
				n, err := recording.ParseSnapID(args[0])
				if err != nil {
					return err
				}
				start = n
			}
			return runTUI(recording.Resolve(fl.db), start, nil, nil)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&fl.db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	f.StringVar(&fl.python, "python", "", "Python interpreter for a live program (default python3 on PATH)")
	f.StringArrayVarP(&fl.bps, "break", "b", nil, "live mode: stop at FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or FUNCTION (repeatable)")
	f.StringVarP(&fl.module, "module", "m", "", "live mode: run a module, like python -m")
	return cmd
}

// looksLikeProgram tells a program (live mode) from a snapshot id.
func looksLikeProgram(arg string) bool {
	if _, err := recording.ParseSnapID(arg); err == nil {
		return false
	}
	if strings.HasSuffix(arg, ".py") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && !st.IsDir()
}

// runTUI opens the recording and runs the UI. Everything that can fail
// (no recording, no snapshots, unknown snapshot, no terminal) fails here,
// before the terminal is switched to the UI.
func runTUI(dbPath string, start int64, live tui.Live, bps []string) error {
	if !isatty.IsTerminal(os.Stdin.Fd()) || !isatty.IsTerminal(os.Stdout.Fd()) {
		return errors.New("pyreplay tui needs a terminal (stdin and stdout must be a tty); use `pyreplay ls` and `pyreplay show` in scripts")
	}
	rep, err := session.OpenReplay(dbPath, 0)
	if err != nil {
		return err
	}
	defer rep.Close()
	renderer := lipgloss.NewRenderer(os.Stdout)
	if os.Getenv("NO_COLOR") != "" {
		renderer.SetColorProfile(termenv.Ascii)
	}
	m, err := tui.New(rep, tui.Options{DBPath: dbPath, Start: start, Renderer: renderer, Live: live, Breakpoints: bps})
	if err != nil {
		return err
	}
	p := tea.NewProgram(m, tea.WithAltScreen())
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrInterrupted) {
		return fmt.Errorf("terminal UI: %v", err)
	}
	return nil
}

// runTUILive records the program with the breakpoints and opens the new
// run in the UI.
func runTUILive(fl tuiFlags, args []string) error {
	if len(fl.bps) == 0 {
		fmt.Fprintln(os.Stderr, "pyreplay: no breakpoints given (-b FILE:LINE); the program is recorded only at an uncaught exception or pyreplay.snapshot()")
	}
	err := runRecord(recordFlags{db: fl.db, python: fl.python, bps: fl.bps, module: fl.module}, args)
	var ee exitError
	if err != nil && !errors.As(err, &ee) {
		return err
	}
	dbPath := recording.Resolve(fl.db)
	store, err := recording.Open(dbPath)
	if err != nil {
		return err
	}
	var run int64
	_ = store.DB.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM runs`).Scan(&run)
	first, _, n, err := store.RunSnapshots(run)
	store.Close()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the program took no snapshot, so there is nothing to show; add a breakpoint with -b FILE:LINE")
	}
	return runTUI(dbPath, first, nil, fl.bps)
}
