package dap_test

import (
	"testing"
)

// A generator's frame is one frame of the history across its yields:
// stepping back from its first line after a resumption reaches its
// previous yield (with its values then), not the line that resumed it.
func TestLineHistoryGeneratorYields(t *testing.T) {
	for _, minor := range []string{"3.8", "3.11", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "gensteps.py", minor)
			c := newClient(t)
			c.launch(f, nil, map[string][]int{"gensteps.py": {8}}, nil)
			c.stopped()
			c.request("continue", msg{"threadId": 1})
			if _, top := c.stopped(); top.num("line") != 8 {
				t.Fatalf("second hit: %v", top)
			}
			c.stepBackTo(7)
			loc := c.stepBackTo(9)
			if v := loc["total"].str("value"); v != "1" {
				t.Fatalf("total at the previous yield: %s", v)
			}
			c.stepBackTo(8)
			c.request("terminate", nil)
		})
	}
}
