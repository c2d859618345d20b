package launch

import (
	"fmt"
	"testing"
	"time"
)

func TestParseHistory(t *testing.T) {
	good := map[string]History{
		"":          {},
		"30s":       {Span: 30 * time.Second},
		"2m":        {Span: 2 * time.Minute},
		"500MB":     {Size: 500 << 20},
		"1.5gb":     {Size: 3 << 29},
		"2m,500MB":  {Span: 2 * time.Minute, Size: 500 << 20},
		" 64kB, 1h": {Span: time.Hour, Size: 64 << 10},
	}
	for in, want := range good {
		if got, err := ParseHistory(in); err != nil || got != want {
			t.Errorf("ParseHistory(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"5x", "0s", "-3s", "0MB", "1m,2m", "1MB,2MB", "30", "2 minutes", ","} {
		if h, err := ParseHistory(in); err == nil {
			t.Errorf("ParseHistory(%q) = %+v, want an error", in, h)
		}
	}
	if s := (History{}).String(); s != "10s" {
		t.Errorf("the default history reads %q", s)
	}
	if s := (History{Span: 2 * time.Minute, Size: 500 << 20}).String(); s != "2m0s,500MB" {
		t.Errorf("String: %q", s)
	}
}

// The default keeps the newest 40, one per 50 ms of the 2 s before when
// anchors are denser, and one per 250 ms of the 10 s before; longer
// histories add sparser tiers, shorter ones keep fewer dense anchors.
func TestAnchorTiers(t *testing.T) {
	cases := []struct {
		every, span time.Duration
		want        string
	}{
		{50 * time.Millisecond, DefaultHistory, "40 [{0.25 40}]"},
		{25 * time.Millisecond, DefaultHistory, "40 [{0.05 40} {0.25 40}]"},
		{12 * time.Millisecond, 2 * time.Minute, "40 [{0.05 40} {0.25 40} {2.5 40} {25 5}]"},
		{12 * time.Millisecond, time.Second, "40 [{0.05 20}]"},
		{50 * time.Millisecond, 300 * time.Millisecond, "6 []"},
		{25 * time.Millisecond, time.Second, "40 []"},
		{50 * time.Millisecond, 2 * time.Minute, "40 [{0.25 40} {2.5 40} {25 5}]"},
		{50 * time.Millisecond, time.Millisecond, "1 []"},
	}
	for _, c := range cases {
		dense, tiers := anchorTiers(c.every, c.span)
		if got := fmt.Sprintf("%d %v", dense, tiers); got != c.want {
			t.Errorf("anchorTiers(%v, %v) = %s, want %s", c.every, c.span, got, c.want)
		}
	}
	// what the caller gave wins (the policy's pace stays)
	every, budget := AnchorPolicy(12)
	o := Options{MaxSnapshots: 5}
	o.UseAnchors(12, History{Span: time.Minute})
	if o.MaxSnapshots != 5 || o.ThinSnapshots != nil || o.HistoryBound || o.Every != every.Seconds() || o.EveryBudget != budget {
		t.Errorf("--max-snapshots 5: %+v", o)
	}
	o = Options{Every: 0.2}
	o.UseAnchors(11, History{})
	if o.Every != 0.2 || o.EveryBudget != 0 || o.MaxSnapshots != 40 || !o.HistoryBound {
		t.Errorf("--every 200ms: %+v", o)
	}
}
