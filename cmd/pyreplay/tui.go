package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/launch"
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
	criu   string
	edited bool
	lines  bool
}

func tuiCmd() *cobra.Command {
	var fl tuiFlags
	cmd := &cobra.Command{
		Use:   "tui [--db PATH] [SNAP] | tui [-b SPEC]... PROG.py [ARGS...] | tui [-b SPEC]... -m MODULE [ARGS...]",
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
				// a program: time travel by line is on unless turned off
				// (as a DAP live session's "timeTravel")
				fl.lines = fl.lines || !cmd.Flags().Changed("line-history")
				return runTUILive(fl, args)
			}
			if len(fl.bps) > 0 {
				return errors.New("-b needs a program to run (pyreplay tui -b prog.py:12 prog.py); to browse a recording, give a snapshot id")
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
			return runTUIOpts(recording.Resolve(fl.db), start, fl)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&fl.db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	f.StringVar(&fl.python, "python", "", "Python interpreter for a live program (default python3 on PATH)")
	f.StringArrayVarP(&fl.bps, "break", "b", nil, "live mode: stop at FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or FUNCTION (repeatable)")
	f.BoolVar(&fl.lines, "line-history", false, "b steps back by line, re-executing the program from an earlier snapshot (on by default with a program: --line-history=false turns it off; a replay needs one: record --trace)")
	f.BoolVar(&fl.edited, "allow-edited", false, "r continues in the program's edited source (as pyreplay resume --allow-edited)")
	f.StringVar(&fl.criu, "criu", "off", "live mode: also take a CRIU image at each stop exact resume would refuse (--criu), or at every stop (--criu=always); r restores it")
	f.Lookup("criu").NoOptDefVal = "refused"
	f.StringVarP(&fl.module, "module", "m", "", "live mode: run a module, like python -m (must come last: everything after MODULE is the module's arguments)")
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

// runTUIOpts opens the recording in the engine and runs the UI on it.
// Everything that can fail (no recording, no snapshots, unknown snapshot,
// no terminal) fails here, before the terminal is switched to the UI.
func runTUIOpts(db string, start int64, fl tuiFlags) error {
	if !isatty.IsTerminal(os.Stdin.Fd()) || !isatty.IsTerminal(os.Stdout.Fd()) {
		return errors.New("pyreplay tui needs a terminal (stdin and stdout must be a tty); use `pyreplay ls` and `pyreplay show` in scripts")
	}
	eng := session.NewEngine()
	eng.SetAllowEdited(fl.edited)
	defer eng.Close()
	if err := eng.OpenRecording(db, session.OpenOptions{Snap: start, AllRuns: true, LineHistory: fl.lines}); err != nil {
		return err
	}
	return runUI(eng)
}

func runUI(eng *session.Engine) error {
	opts := tui.Options{Renderer: lipgloss.NewRenderer(os.Stdout)}
	if os.Getenv("NO_COLOR") != "" {
		opts.Renderer.SetColorProfile(termenv.Ascii)
	}
	m, err := tui.New(eng, opts)
	if err != nil {
		return err
	}
	p := tea.NewProgram(m, tea.WithAltScreen())
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrInterrupted) {
		return fmt.Errorf("terminal UI: %v", err)
	}
	return nil
}

// runTUILive starts the program under the engine, stopping at the
// breakpoints (at its first line when there are none, and at an uncaught
// exception), and opens the UI on it once it has stopped.
func runTUILive(fl tuiFlags, args []string) error {
	if fl.module == "" && len(args) == 0 {
		return errors.New("nothing to run: give a program (pyreplay tui -b prog.py:12 prog.py) or a module (-m name)")
	}
	if !isatty.IsTerminal(os.Stdin.Fd()) || !isatty.IsTerminal(os.Stdout.Fd()) {
		return errors.New("pyreplay tui needs a terminal (stdin and stdout must be a tty)")
	}
	crOpt, err := launch.NewCriu(fl.criu)
	if err != nil {
		return err
	}
	cwd, _ := os.Getwd()
	dbPath, _ := filepath.Abs(recording.Resolve(fl.db))
	opts := session.LaunchOptions{Python: fl.python, Cwd: cwd, JustMyCode: true, DB: dbPath,
		Breakpoints: fl.bps, Exceptions: []string{"uncaught"}, StopOnEntry: len(fl.bps) == 0, Criu: crOpt, LineHistory: fl.lines}
	what := args
	if fl.module != "" {
		opts.Target, opts.Args = launch.Target{Module: fl.module}, args
		what = append([]string{"-m", fl.module}, args...)
	} else {
		opts.Target, opts.Args = launch.Target{Script: args[0]}, args[1:]
	}
	eng := session.NewEngine()
	eng.SetAllowEdited(fl.edited)
	defer eng.Close()
	fmt.Fprintf(os.Stderr, "pyreplay: starting %s …\n", strings.Join(what, " "))
	if err := eng.Launch(opts); err != nil {
		return err
	}
	if err := eng.Start(); err != nil {
		return err
	}
	if err := eng.WaitStop(24 * time.Hour); err != nil {
		return err
	}
	if st := eng.State(); st.Len == 0 {
		os.Stdout.WriteString(eng.Output())
		fmt.Fprintf(os.Stderr, "pyreplay: the program ended (exit code %d) without stopping at a breakpoint\n", st.ExitCode)
		if st.ExitCode != 0 {
			return exitError{st.ExitCode}
		}
		return nil
	}
	return runUI(eng)
}
