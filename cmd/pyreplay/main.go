// Command pyreplay records, replays and resumes Python programs.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/internal/scratch"
)

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	root := &cobra.Command{
		Use:           "pyreplay",
		Short:         "Record, replay and resume Python programs",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("{{.Version}}")
	root.AddCommand(recordCmd(), lsCmd(), showCmd(), resumeCmd(), trustCmd())
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	args, err := cliArgs(root, os.Args[1:])
	if err == nil {
		root.SetArgs(args)
		err = root.Execute()
	}
	// (before every exit: os.Exit runs no deferred call)
	scratch.Remove()
	if err == nil {
		return
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	fmt.Fprintf(os.Stderr, "pyreplay: %v\n", err)
	os.Exit(2)
}

// extraCommands lets other files (dap, tui, bench) register subcommands.
var extraCommands []func() *cobra.Command
