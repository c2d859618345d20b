package launch

// Anchors of time travel by line: periodic snapshots of the program that
// going back re-executes from (session/linehistory.go), taken alike by a
// live session with line history (pyreplay dap, tui --line-history) and
// by pyreplay record --trace. The one rule for both: UseAnchors.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The anchors kept: the newest AnchorsDense, and, older than those, one
// per AnchorsMid of the run (when anchors are denser than that), then one
// per AnchorsThin, AnchorsDense of each: DefaultHistory of the run. A
// longer History adds tiers ten times sparser each (one per 2.5 s, then
// per 25 s, ...), so that the last 10 s stay as dense as by default while
// the anchors kept grow with the log of the history's length.
const (
	AnchorsDense   = 40
	AnchorsMid     = 50 * time.Millisecond
	AnchorsThin    = 250 * time.Millisecond
	DefaultHistory = AnchorsDense * AnchorsThin // 10 s
)

// AnchorPolicy is how often time travel snapshots a program run by
// Python 3.minor: every `every` of its run, less often when its
// snapshots would pause it for more than `budget` of its run (the shim's
// periodic.py paces by the median pause of the last few). Going back
// re-executes from the latest anchor, and a re-execution that traces a
// hot line runs slower than the program, 3-5x on 3.12+ (a Python call per
// line event) and ~10-15x before (sys.settrace): the latency of going
// back is about that factor times the run since the anchor (bench
// lineslive fits 4-20 ms per ms of that distance). A small program's
// anchor pauses it 2.5-4 ms, so the budget sets the pace: one per ~10 ms
// on 3.12+ and ~9-13 ms before. Measured on the CPU-bound workloads
// (2026-12-02, -only timetravel -quick, live / record --trace): 3.12
// 1.34x / 1.32x, 3.10 1.39x / 1.40x, 3.8 1.36x / 1.37x, within time
// travel's targets (2x on 3.12+, 4x before), storage 8-17 MB a minute
// (50). The budgets before (20% on 3.12+, 30% before: 1.20-1.27x) left
// anchors 12-17 ms apart and a Reverse Continue sent at once waited a
// median 80-160 ms; 25-50 ms apart it waited 150-400 ms.
func AnchorPolicy(minor int) (every time.Duration, budget float64) {
	if minor >= 12 {
		return 8 * time.Millisecond, 0.30
	}
	return 8 * time.Millisecond, 0.45
}

// History bounds what time travel keeps of a run (record --trace
// --history, the "history" launch attribute): anchors reaching Span back
// in the run from its newest one (0: DefaultHistory), their stored state
// at most Size bytes in all (0: no bound; the newest anchor is always
// kept). Once the oldest anchor is dropped, so is the one at the
// program's first line: the history then begins at the oldest kept.
type History struct {
	Span time.Duration
	Size int64
}

// ParseHistory reads a history bound: a duration ("30s", "2m", "1h"), a
// size ("500MB", "2GB": as ls shows sizes, MB = 2^20 bytes), or both
// separated by a comma ("2m,500MB"); "" is the default.
func ParseHistory(s string) (History, error) {
	var h History
	if strings.TrimSpace(s) == "" {
		return h, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if n, ok := parseSize(part); ok {
			if h.Size != 0 || n <= 0 {
				return History{}, historyErr(s)
			}
			h.Size = n
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 || h.Span != 0 {
			return History{}, historyErr(s)
		}
		h.Span = d
	}
	return h, nil
}

func historyErr(s string) error {
	return fmt.Errorf("%q is not a history bound: give a duration (30s, 2m), a size (500MB), or both (2m,500MB)", s)
}

var sizeUnits = []struct {
	suffix string
	n      int64
}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"b", 1}}

// parseSize reads "500MB", "1.5GB", "64kB", "1000000B".
func parseSize(s string) (int64, bool) {
	low := strings.ToLower(s)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(low, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f*float64(u.n) >= math.MaxInt64 {
				return 0, false
			}
			return int64(f * float64(u.n)), true
		}
	}
	return 0, false
}

// String is h as ParseHistory reads it ("10s", "2m0s,500MB").
func (h History) String() string {
	s := h.span().String()
	if h.Size > 0 {
		switch {
		case h.Size%(1<<30) == 0:
			s += fmt.Sprintf(",%dGB", h.Size>>30)
		case h.Size%(1<<20) == 0:
			s += fmt.Sprintf(",%dMB", h.Size>>20)
		default:
			s += fmt.Sprintf(",%dB", h.Size)
		}
	}
	return s
}

func (h History) span() time.Duration {
	if h.Span > 0 {
		return h.Span
	}
	return DefaultHistory
}

// Tier keeps, of the periodic snapshots, one per Every seconds of the
// run (the oldest in each such stretch), the newest Keep of those
// stretches (pyshim store.py).
type Tier struct {
	Every float64 `json:"every"`
	Keep  int     `json:"keep"`
}

// anchorTiers is how many of the newest anchors, taken every `every`, are
// all kept (dense), and the tiers older ones are thinned by, so that the
// anchors reach span back.
func anchorTiers(every, span time.Duration) (dense int, tiers []Tier) {
	if every <= 0 {
		every = AnchorsThin
	}
	if span <= AnchorsDense*every {
		return max(1, int((span+every-1)/every)), nil
	}
	next := func(w time.Duration) time.Duration {
		if w < AnchorsThin {
			return AnchorsThin
		}
		return w * 10
	}
	w := AnchorsThin
	if every < AnchorsMid {
		w = AnchorsMid
	}
	for ; ; w = next(w) {
		if span <= AnchorsDense*w {
			return AnchorsDense, append(tiers, Tier{Every: w.Seconds(), Keep: int((span + w - 1) / w)})
		}
		tiers = append(tiers, Tier{Every: w.Seconds(), Keep: AnchorsDense})
	}
}

// UseAnchors makes o's periodic snapshots time travel's anchors for a
// program run by Python 3.minor, kept as h says; what the caller set
// already wins: Every (--every, then without a budget), MaxSnapshots
// (--max-snapshots: only the newest that many, and the snapshot at the
// program's first line is kept).
func (o *Options) UseAnchors(minor int, h History) {
	every, budget := AnchorPolicy(minor)
	if o.Every > 0 {
		every, budget = time.Duration(o.Every*float64(time.Second)), 0
	}
	o.Every, o.EveryBudget = every.Seconds(), budget
	if o.MaxSnapshots > 0 {
		return
	}
	o.MaxSnapshots, o.ThinSnapshots = anchorTiers(every, h.span())
	o.HistorySize, o.HistoryBound, o.HistorySpan = h.Size, true, h.span().Seconds()
}
