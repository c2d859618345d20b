package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func resumeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "resume SNAP",
		Short: "Continue a recorded program from a snapshot in a fresh process",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("resume is not implemented yet")
		},
	}
}
