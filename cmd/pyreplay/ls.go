package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/launch"
	"github.com/pyreplay/pyreplay/recording"
	"github.com/pyreplay/pyreplay/wire"
)

func lsCmd() *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the snapshots of a recording",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := recording.Open(recording.Resolve(db))
			if err != nil {
				return err
			}
			defer store.Close()
			list, err := store.List(0)
			if err != nil {
				return err
			}
			type row struct {
				wire.Summary
				verdict
			}
			rows := make([]row, len(list))
			for i, s := range list {
				rows[i] = row{s, verdictOf(store, s.N)}
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(list) == 0 {
				fmt.Println("no snapshots yet in", store.Path)
				return nil
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tRUN\tREASON\tWHERE\tFUNCTION\tLABEL\tTIME\tSIZE\tRESUME")
			for i, s := range list {
				run := strconv.FormatInt(s.Run, 10)
				if s.ForkOf != nil && s.Pid != nil {
					// a child process's snapshots: its own run
					how := "fork"
					if s.Spawned {
						how = "child"
					}
					run = fmt.Sprintf("%d (%s of %d, pid %d)", s.Run, how, *s.ForkOf, *s.Pid)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s:%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, run, printable(s.Reason), printable(filepath.Base(s.File)), s.Line,
					printable(s.Function), printable(s.Label), time.Unix(0, int64(s.Time*1e9)).Format("15:04:05.000"), humanSize(s.Size), rows[i].Resume)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printable escapes what a terminal would act on (control characters,
// escape sequences, invalid UTF-8) in text a recording holds: a label or a
// file name must not move the cursor, recolour or retitle the terminal.
func printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			b.WriteString(strings.Trim(strconv.QuoteRuneToASCII(r), "'"))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// verdict is how a snapshot resumes (launch.ResumeVerdict); embedded next
// to a snapshot's own fields, its JSON adds resume and resume_why to them.
type verdict struct {
	Resume    string `json:"resume"`
	ResumeWhy string `json:"resume_why,omitempty"`
}

func verdictOf(store *recording.Store, n int64) verdict {
	v, why := launch.ResumeVerdict(store, n)
	return verdict{v, why}
}

func showCmd() *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show SNAP",
		Short: "Show one snapshot: its stack and variables",
		Args:  snapshotArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := recording.ParseSnapID(args[0])
			if err != nil {
				return err
			}
			store, err := recording.Open(recording.Resolve(db))
			if err != nil {
				return err
			}
			defer store.Close()
			snap, err := store.Get(n)
			if err != nil {
				return err
			}
			row := struct {
				*wire.Snapshot
				verdict
			}{snap, verdictOf(store, n)}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(row)
			}
			printSnapshot(snap)
			if row.Resume == launch.ResumeExact {
				fmt.Println("resume: exact")
			} else if row.Resume == launch.ResumeCriu {
				fmt.Println("resume: criu (its CRIU image; exact resume refuses:", printable(row.ResumeWhy)+")")
			} else {
				fmt.Println("resume: refused:", printable(row.ResumeWhy))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "recording file (default $PYREPLAY_DB or "+recording.DefaultPath+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printSnapshot(s *wire.Snapshot) {
	label := ""
	if s.Label != "" {
		label = fmt.Sprintf(" %q", s.Label)
	}
	fmt.Printf("%s  run %d  %s%s  at %s:%d in %s  (Python %s, %s)\n", s.ID, s.Run, printable(s.Reason), label, printable(s.File), s.Line, printable(s.Function), printable(s.Python), humanSize(s.Size))
	fmt.Printf("output so far: %d bytes on stdout, %d on stderr\n", s.StdoutBytes, s.StderrBytes)
	for i := len(s.Frames) - 1; i >= 0; i-- {
		f := s.Frames[i]
		tag := ""
		if f.Library {
			tag = "  [library]"
		}
		fmt.Printf("\n#%d %s  %s:%d%s\n", len(s.Frames)-1-i, printable(f.Function), printable(f.File), f.Line, tag)
		for _, name := range sortedKeys(f.Locals) {
			v := f.Locals[name]
			fmt.Printf("    %s: %s = %s\n", printable(name), printable(v.Type), printable(v.Repr))
		}
	}
	if len(s.Placeholders) > 0 {
		fmt.Printf("\nnot saved (%d):\n", len(s.Placeholders))
		for _, p := range s.Placeholders {
			fmt.Printf("    %s: %s %s\n", printable(p.Where), printable(p.Type), printable(p.Repr))
		}
	}
}
