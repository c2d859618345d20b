package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// -m MODULE ends pyreplay's options, whatever form -m takes and whatever
// options come before it; a program path, "--" and commands without -m
// are left alone.
func TestCLIArgsModuleEndsOptions(t *testing.T) {
	root := &cobra.Command{Use: "pyreplay"}
	root.AddCommand(recordCmd(), lsCmd(), showCmd(), resumeCmd())
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	cases := []struct{ in, want string }{
		{"record -m unittest -q test.test_bisect", "record -m unittest -- -q test.test_bisect"},
		{"record -m pkg --help", "record -m pkg -- --help"},
		{"record --db r.db -b a.py:3 --python py -m pkg -b x --db y", "record --db r.db -b a.py:3 --python py -m pkg -- -b x --db y"},
		{"record -b -m -m pkg -v", "record -b -m -m pkg -- -v"}, // -b takes "-m" as its value
		{"record --db=r.db -mpkg -q", "record --db=r.db -mpkg -- -q"},
		{"record -m=pkg -q", "record -m=pkg -- -q"},
		{"record --module pkg -q", "record --module pkg -- -q"},
		{"record --module=pkg -q", "record --module=pkg -- -q"},
		{"record -m pkg", "record -m pkg"},
		{"record -m pkg -- x", "record -m pkg -- -- x"}, // the module gets its own "--", as with python -m
		{"record prog.py -m pkg -q", "record prog.py -m pkg -q"},
		{"record -- -m pkg", "record -- -m pkg"},
		{"record --help -m pkg --help", "record --help -m pkg -- --help"},
		{"tui --db r.db -b a.py:3 -m pkg -q", "tui --db r.db -b a.py:3 -m pkg -- -q"},
		{"resume snap-1 -m x", "resume snap-1 -m x"},
		{"ls", "ls"},
		{"--version", "--version"},
	}
	for _, c := range cases {
		got, err := cliArgs(root, strings.Fields(c.in))
		if err != nil || !reflect.DeepEqual(got, strings.Fields(c.want)) {
			t.Errorf("%s\n got  %q (%v)\n want %q", c.in, got, err, strings.Fields(c.want))
		}
	}
	for _, in := range []string{"record -m", "record --db r.db --module", "tui -b a.py:3 -m"} {
		if _, err := cliArgs(root, strings.Fields(in)); err == nil || !strings.Contains(err.Error(), "-m needs a module name") {
			t.Errorf("%s: %v", in, err)
		}
	}
}
