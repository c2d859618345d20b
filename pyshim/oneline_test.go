package pyshim

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
)

// A re-execution on 3.8-3.11 counts a one-line function's line event at
// its call, leaving the frame untraced (linehooks.one_line,
// linehistory's at_call): that is exact only if every call of a code
// one_line accepts reports exactly one line event, at that line. The
// checker traces a corpus of one-line and other functions with
// sys.settrace and compares (testdata/one_line_check.py).
func TestOneLineCounting(t *testing.T) {
	for _, py := range testutil.Pythons(t) {
		if minor, _ := strconv.Atoi(strings.TrimPrefix(py.Minor, "3.")); minor >= 12 {
			t.Logf("skipping CPython %s: 3.12+ counts with sys.monitoring, not at calls", py.Minor)
			continue
		}
		t.Run(py.Minor, func(t *testing.T) {
			cmd := exec.Command(py.Path, "testdata/one_line_check.py")
			cmd.Env = append(cmd.Environ(), "PYTHONPATH=.")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if !strings.Contains(string(out), "OK square: 15") {
				t.Fatalf("the checker did not check square():\n%s", out)
			}
		})
	}
}
