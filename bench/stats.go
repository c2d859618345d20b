package main

import (
	"math"
	"math/rand"
	"sort"
)

// Stat summarises repeated measurements: Value is the figure (the statistic
// named by Statistic), [Lo, Hi] its 95% confidence interval.
type Stat struct {
	N         int       `json:"n"`
	Statistic string    `json:"statistic,omitempty"`
	Value     float64   `json:"value"`
	Lo        float64   `json:"ci95_lo"`
	Hi        float64   `json:"ci95_hi"`
	Median    float64   `json:"median"`
	P95       float64   `json:"p95"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
	Samples   []float64 `json:"samples,omitempty"`
}

func nanStat() Stat {
	n := math.NaN()
	return Stat{Value: n, Lo: n, Hi: n, Median: n, P95: n, Min: n, Max: n}
}

// describe fills the order statistics of xs.
func describe(xs []float64) Stat {
	if len(xs) == 0 {
		return nanStat()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Stat{N: len(s), Median: quantile(s, 0.5), P95: quantile(s, 0.95), Min: s[0], Max: s[len(s)-1], Samples: xs}
}

// medianStat: the median, with the distribution-free 95% interval of the
// median from order statistics.
func medianStat(xs []float64) Stat { return quantileStat(xs, 0.5, "median") }

// fastStat: the median of the fastest half (the lower quartile), with its
// 95% interval — for absolute times, which the machine's load only ever
// makes longer.
func fastStat(xs []float64) Stat { return quantileStat(xs, 0.25, "median of the fastest half") }

// quantileStat: the q-quantile with its distribution-free 95% interval
// (the order statistics between which the true quantile lies with
// probability >= 95%, from the binomial distribution; with too few samples
// for that, the extremes).
func quantileStat(xs []float64, q float64, name string) Stat {
	st := describe(xs)
	if st.N == 0 {
		return st
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	st.Statistic = name
	st.Value = quantile(s, q)
	lo, hi := quantileCIRanks(len(s), q)
	st.Lo, st.Hi = s[lo], s[hi]
	return st
}

// quantileCIRanks are the 0-based ranks of the 95% interval of the
// q-quantile of n samples: lo the largest rank with P(Bin(n,q) <= lo) <=
// 2.5%, hi the smallest with P(Bin(n,q) > hi) <= 2.5%.
func quantileCIRanks(n int, q float64) (int, int) {
	lo, hi := 0, n-1
	cdf := 0.0
	for k := 0; k < n; k++ {
		cdf += binomPMF(n, k, q)
		if cdf <= 0.025 {
			lo = k // P(s[k] > quantile) = P(Bin <= k) <= 2.5%
		}
		if 1-cdf <= 0.025 {
			hi = k
			break
		}
	}
	if lo > n-1 {
		lo = n - 1
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

func binomPMF(n, k int, p float64) float64 {
	ln, _ := math.Lgamma(float64(n + 1))
	lk, _ := math.Lgamma(float64(k + 1))
	lnk, _ := math.Lgamma(float64(n - k + 1))
	return math.Exp(ln - lk - lnk + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// A turn pair: a program's turn and plain Python's turn of the same round.
type turnPair struct{ x, base float64 }

func medianOfRatios(ps []turnPair) float64 {
	rs := make([]float64, len(ps))
	for i, p := range ps {
		rs[i] = p.x / p.base
	}
	return median(rs)
}

func ratioOfSums(ps []turnPair) float64 {
	var a, b float64
	for _, p := range ps {
		a += p.x
		b += p.base
	}
	return a / b
}

// clusterStat is f of every pair of every generation (a generation: one
// set of processes), with a two-level bootstrap 95% interval: generations
// resampled, then the rounds within each, so that the interval includes how
// much processes of the same program differ (memory layout, hash seed), not
// only how much turns do.
func clusterStat(gens [][]turnPair, name string, f func([]turnPair) float64, seed int64) Stat {
	var all []turnPair
	var rs []float64
	for _, g := range gens {
		all = append(all, g...)
		for _, p := range g {
			rs = append(rs, p.x/p.base)
		}
	}
	st := describe(rs)
	if len(all) == 0 {
		return st
	}
	st.Statistic = name
	st.Value = f(all)
	rng := rand.New(rand.NewSource(seed))
	const B = 2000
	boot := make([]float64, B)
	buf := make([]turnPair, 0, len(all))
	for k := range boot {
		buf = buf[:0]
		for range gens {
			g := gens[rng.Intn(len(gens))]
			for range g {
				buf = append(buf, g[rng.Intn(len(g))])
			}
		}
		boot[k] = f(buf)
	}
	sort.Float64s(boot)
	st.Lo, st.Hi = quantile(boot, 0.025), quantile(boot, 0.975)
	return st
}

// quantile of sorted xs with linear interpolation between closest ranks.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	f := pos - float64(lo)
	return s[lo]*(1-f) + s[hi]*f
}

func median(xs []float64) float64 { return describe(xs).Median }

// ratios pairs the i-th measurement of a with the i-th of b.
func ratios(a, b []float64) []float64 {
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	out := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if b[i] > 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// Verdicts of a figure against its target.
const (
	vMet       = "met"       // the whole 95% interval is within the target
	vMissed    = "missed"    // the whole interval is beyond it
	vUndecided = "undecided" // the interval straddles the target
	vUntrusted = "untrusted" // the control of the same measurement drifted
)

// verdictLE judges "value <= limit" from the interval.
func verdictLE(st Stat, limit float64) string {
	switch {
	case st.N == 0 || math.IsNaN(st.Hi):
		return vMissed
	case st.Hi <= limit:
		return vMet
	case st.Lo > limit:
		return vMissed
	}
	return vUndecided
}
