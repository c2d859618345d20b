package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/internal/scratch"
	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/session"
)

type recordFlags struct {
	db     string
	python string
	bps    []string
	every  time.Duration
	max    int
	module string
	redact []string
	plain  bool // --no-redact
	criu   string
	trace  bool
	hist   string // --history: launch.ParseHistory
}

func recordCmd() *cobra.Command {
	var fl recordFlags
	cmd := &cobra.Command{
		Use:   "record [flags] PROG.py [ARGS...] | record [flags] -m MODULE [ARGS...]",
		Short: "Run a Python program and record snapshots of it",
		Example: `  pyreplay record prog.py
  pyreplay record -b prog.py:12 -b 'prog.py:20 if n > 3' -b Parser.parse prog.py input.txt
  pyreplay record --every 500ms --max-snapshots 20 -m mypkg.tool --verbose`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecord(fl, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&fl.db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	f.StringVar(&fl.python, "python", "", "Python interpreter (default python3 on PATH)")
	f.StringArrayVarP(&fl.bps, "break", "b", nil, "snapshot at FILE:LINE, FILE:LINE@K, 'FILE:LINE if EXPR' or FUNCTION (repeatable)")
	f.DurationVar(&fl.every, "every", 0, "also take a periodic checkpoint this often (e.g. 500ms)")
	f.IntVar(&fl.max, "max-snapshots", 0, "keep only the newest N periodic checkpoints")
	f.StringVarP(&fl.module, "module", "m", "", "run a module, like python -m (must come last: everything after MODULE is the module's arguments)")
	f.StringArrayVar(&fl.redact, "redact", nil, "also hide the values of variables, keys and attributes whose names match this glob (case-insensitive; repeatable) in the recording's views")
	f.BoolVar(&fl.trace, "trace", false, "also snapshot the program at its first line and periodically (time travel's anchors), so that a replay (pyreplay dap with \"lineHistory\", pyreplay tui --line-history) steps back by line")
	f.StringVar(&fl.hist, "history", "", "with --trace: how much of the run its anchors keep: a duration (default "+launch.DefaultHistory.String()+"), a size of their stored state (500MB), or both (2m,500MB)")
	f.StringVar(&fl.criu, "criu", "off", "also take a CRIU image of the whole process at each snapshot exact resume would refuse (--criu), or at every snapshot (--criu=always); needs criu >= 4.1 and root")
	f.Lookup("criu").NoOptDefVal = "refused"
	f.BoolVar(&fl.plain, "no-redact", false, "show secret-looking names' values (*TOKEN*, *SECRET*, *PASSWORD*, ...) in the views too")
	return cmd
}

func runRecord(fl recordFlags, args []string) error {
	if fl.module == "" && len(args) == 0 {
		return errors.New("nothing to record: give a program (pyreplay record prog.py) or a module (-m name)")
	}
	if fl.every < 0 || fl.max < 0 {
		return errors.New("--every and --max-snapshots must not be negative")
	}
	hist, err := launch.ParseHistory(fl.hist)
	if err != nil {
		return fmt.Errorf("--history: %v", err)
	}
	if fl.hist != "" && !fl.trace {
		return errors.New("--history bounds the line history of --trace: give --trace too")
	}
	if fl.hist != "" && fl.max > 0 {
		return errors.New("--history and --max-snapshots both bound the periodic snapshots: give one of them")
	}
	crOpt, err := launch.NewCriu(fl.criu)
	if err != nil {
		return err
	}
	o := launch.Options{Python: fl.python, Breakpoints: fl.bps, Every: fl.every.Seconds(), MaxSnapshots: fl.max, Trace: fl.trace,
		TraceHistory: hist, Redact: fl.redact, NoRedact: fl.plain, DB: recording.Resolve(fl.db)}
	if fl.module != "" {
		o.Target, o.Args = launch.Target{Module: fl.module}, args
	} else {
		o.Target, o.Args = launch.Target{Script: args[0]}, args[1:]
	}
	p, err := launch.Build(o)
	if errors.Is(err, launch.ErrNoProgram) {
		return fmt.Errorf("%v; check the path", err)
	}
	if err != nil {
		return err
	}
	p.Store.Close()
	p.Config.Criu = crOpt
	return launchIn(p.Python, p.Config, o.DB, p.Config.Run, "", true)
}

// launchIn runs the shim in dir, records the run's end and prints the
// summary line (always for a recording, only when snapshots were taken
// for a resume).
func launchIn(python string, cfg launch.Config, dbPath string, run int64, dir string, alwaysSummary bool) error {
	res, err := (&session.Program{Python: python, Config: cfg, Dir: dir}).Run()
	if err != nil {
		return err
	}
	store, serr := recording.Open(dbPath)
	if serr == nil {
		defer store.Close()
	}
	if res.ShimErr != "" {
		fmt.Fprintf(os.Stderr, "pyreplay: %s\n", res.ShimErr)
		if res.ExitCode == 0 {
			res.ExitCode = 2
		}
		return exitError{res.ExitCode}
	}
	if serr == nil {
		first, last, n, _ := store.RunSnapshots(run)
		if alwaysSummary || n > 0 {
			fmt.Fprintln(os.Stderr, summaryLine(n, first, last, dbPath))
		}
	}
	if res.Signal != 0 {
		if serr == nil {
			store.Close()
		}
		scratch.Remove() // (DieBy ends the process without returning to main)
		launch.DieBy(res.Signal)
	}
	if res.ExitCode != 0 {
		return exitError{res.ExitCode}
	}
	return nil
}

func summaryLine(n, first, last int64, db string) string {
	switch n {
	case 0:
		return fmt.Sprintf("pyreplay: recorded 0 snapshots in %s", db)
	case 1:
		return fmt.Sprintf("pyreplay: recorded 1 snapshot: %s in %s", recording.SnapID(first), db)
	}
	return fmt.Sprintf("pyreplay: recorded %d snapshots: %s..%s in %s", n, recording.SnapID(first), recording.SnapID(last), db)
}
