package dap_test

import (
	"path/filepath"
	"testing"
)

// A re-execution of the past forks copies of itself to record its last
// events (forkpoints.py); random's global generator, which the fork
// would reseed in the copy (random registers that at fork), goes on as it
// was: stepping back from the exception reaches the lines after 3,000
// rolls with the rolls the program made.
func TestLineHistoryRandomAcrossForks(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "dice.py", minor)
			c := newClient(t)
			top := c.launchToException(f, 18)
			last := c.locals(top.num("id"))["last"].str("value")
			loc := c.stepBackTo(17)
			if v := loc["last"].str("value"); v != last {
				t.Fatalf("last at line 17: %s, the program's %s", v, last)
			}
			loc = c.stepBackTo(16)
			if v := loc["rolls"].str("value"); len(v) < 10 || loc["last"].str("value") != "" {
				t.Fatalf("line 16: rolls %.40s, last %q", v, loc["last"].str("value"))
			}
			c.request("terminate", nil)
		})
	}
}

// An asyncio program across the forks of a re-execution: in the copy the
// event loop is still the running one (asyncio forgets it in a forked
// child), so the coroutine's lines after 2,000 awaits come back as they ran.
func TestLineHistoryAsyncioAcrossForks(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "ticker.py", minor)
			c := newClient(t)
			top := c.launchToException(f, 19)
			total := c.locals(top.num("id"))["total"].str("value")
			for _, line := range []int{18, 17, 15} {
				if v := c.stepBackTo(line)["total"].str("value"); v != total {
					t.Fatalf("total at line %d: %s, the program's %s", line, v, total)
				}
			}
			c.request("terminate", nil)
		})
	}
}

// A program with an at-fork hook of its own: a re-execution of its past
// forks no copy (the hook would run there), it records its last events in
// full, and the lines after 3,000 iterations come back with its values.
func TestLineHistoryProgramForkHook(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "forkhook.py", minor)
			c := newClient(t)
			c.launchToException(f, 21)
			for _, line := range []int{20, 18} {
				loc := c.stepBackTo(line)
				if loc["total"].str("value") != "8994" || loc["seen"].str("value") != "[]" {
					t.Fatalf("at line %d: total %s, seen %s", line, loc["total"].str("value"), loc["seen"].str("value"))
				}
			}
			c.request("terminate", nil)
		})
	}
}

// A file the program reads line by line across the forks of a
// re-execution: the copy reads on from where the program was (the
// process that went on had read further through the same descriptor).
func TestLineHistoryReadFileAcrossForks(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "ledger", minor)
			f.prog = filepath.Join(f.prog, "ledger.py")
			c := newClient(t)
			c.launchToException(f, 15)
			loc := c.stepBackTo(14)
			if v := loc["last"].str("value"); v != "'n°3999 €8'" {
				t.Fatalf("last at line 14: %s", v)
			}
			loc = c.stepBackTo(13)
			if v := loc["balance"].str("value"); v != "23982" {
				t.Fatalf("balance at line 13: %s", v)
			}
			c.request("terminate", nil)
		})
	}
}
