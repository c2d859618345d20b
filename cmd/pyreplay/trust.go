package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/recording"
)

// pyreplay trust FILE: sign a recording made elsewhere with the user's key,
// so that its snapshots can be resumed and evaluated. Browsing (ls, show,
// tui, DAP variables) never needs it: it reads only the JSON views.
func trustCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "trust FILE",
		Short: "Allow resuming and evaluating a recording made under another key",
		Long: `A recording holds pickled program state: loading it can run code. pyreplay
loads only snapshots signed with your key ($XDG_CONFIG_HOME/pyreplay/key).
trust signs every snapshot and source of FILE with your key: do it only for
recordings whose origin you know.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("give the recording file to trust, e.g. pyreplay trust .pyreplay/recording.db")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := trust.UserKey()
			if err != nil {
				return err
			}
			if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("no recording at %s", args[0])
			}
			store, err := recording.Create(args[0])
			if err != nil {
				return err
			}
			defer store.Close()
			all, err := store.List(0)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "pyreplay: trusting %s: its %d snapshots will be signed with your key %s, and resuming or evaluating them will load their pickled state\n",
				args[0], len(all), trust.KeyID(key))
			snaps, sources, err := store.Trust(key)
			if err != nil {
				return fmt.Errorf("cannot sign %s: %v", args[0], err)
			}
			fmt.Fprintf(os.Stderr, "pyreplay: signed %d snapshots and %d source files\n", snaps, sources)
			return nil
		},
	}
}
