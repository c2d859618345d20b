package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// cliArgs prepares the command line for cobra. For the subcommands that
// launch a module (those with a -m/--module flag: record, tui), -m MODULE
// ends pyreplay's own options, as it does for python: everything after the
// module name belongs to the module (`pyreplay record -m unittest -q test.test_bisect`,
// `pyreplay record -m pkg --help`). This inserts "--" right after the
// module name; pyreplay's options before -m are parsed as usual.
func cliArgs(root *cobra.Command, args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	for _, c := range root.Commands() {
		if c.Name() != args[0] && !c.HasAlias(args[0]) {
			continue
		}
		if c.Flags().Lookup("module") == nil {
			return args, nil
		}
		rest, missing := moduleEndsOptions(c, args[1:])
		if missing {
			return nil, fmt.Errorf("-m needs a module name, as with python -m: pyreplay %s -m MODULE [ARGS...]", c.Name())
		}
		return append([]string{args[0]}, rest...), nil
	}
	return args, nil
}

// moduleEndsOptions scans the options of cmd in args the way pflag does
// without interspersed arguments (options stop at the first positional
// argument or at "--") and returns args with "--" inserted after the value
// of the first -m/--module; missing is true when -m ends the command line.
func moduleEndsOptions(cmd *cobra.Command, args []string) (out []string, missing bool) {
	fs := cmd.Flags()
	// kind tells whether a flag consumes a value and whether it is -m;
	// unknown flags (the help flag cobra adds later, or a mistake pflag
	// will report) take no value.
	kind := func(name string, short bool) (takesValue, module bool) {
		f := fs.Lookup(name)
		if short {
			f = fs.ShorthandLookup(name)
		}
		if f == nil {
			return false, false
		}
		return f.NoOptDefVal == "", f.Name == "module"
	}
	endAfter := func(i int) []string {
		if i+1 >= len(args) {
			return args // nothing follows the module name
		}
		out := make([]string, 0, len(args)+1)
		out = append(out, args[:i+1]...)
		out = append(out, "--")
		return append(out, args[i+1:]...)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return args, false // the end of the options, or the program path
		}
		if strings.HasPrefix(a, "--") {
			name, _, inline := strings.Cut(a[2:], "=")
			takes, module := kind(name, false)
			switch {
			case inline || !takes:
			case i+1 >= len(args):
				return args, module // --name and nothing after it
			default:
				i++ // --name VALUE
			}
			if module {
				return endAfter(i), false
			}
			continue
		}
		// a cluster of shorthands, -xyz; one that takes a value takes the
		// rest of the cluster (-mMOD, -m=MOD) or else the next argument
		for j := 1; j < len(a); j++ {
			takes, module := kind(a[j:j+1], true)
			if !takes {
				continue
			}
			if j+1 == len(a) {
				if i+1 >= len(args) {
					return args, module
				}
				i++
			}
			if module {
				return endAfter(i), false
			}
			break
		}
	}
	return args, false
}

// snapshotArg is the argument check of the commands that take one snapshot
// (resume, show): a missing id says what to give and where to find one.
func snapshotArg(cmd *cobra.Command, args []string) error {
	switch len(args) {
	case 1:
		return nil
	case 0:
		ls := "pyreplay ls"
		if f := cmd.Flags().Lookup("db"); f != nil && f.Changed {
			ls += " --db " + f.Value.String()
		}
		return fmt.Errorf("%s: missing argument: give a snapshot id such as snap-3; %s lists them", cmd.Name(), ls)
	}
	return fmt.Errorf("%s takes one snapshot id, got %d arguments: %s", cmd.Name(), len(args), strings.Join(args, " "))
}
