package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// results is everything a run of the command measured, as written to
// results.json for tools. Times are in nanoseconds (per unit of work where
// the unit says so: "ns/op", "ns/call", "ns/step"), percentages in percent.
// Ratios say how many times better twine does than the other side: the
// other's time over twine's for a cost, twine's figure over the other's for
// a throughput; above 1 twine is better, below 1 it is worse.
type results struct {
	Version     int              `json:"version"`
	Started     time.Time        `json:"started"`
	Seconds     float64          `json:"seconds"`
	Machine     machine          `json:"machine"`
	Settings    settings         `json:"settings"`
	Load        loadInfo         `json:"load"`
	Comparisons []comparisonInfo `json:"comparisons,omitempty"`
	Suites      []suiteResult    `json:"suites"`
}

// resultsVersion is the version of results.json's layout: 2 since the
// sides' rounds are interleaved and every side has its runs, spread and
// rank.
const resultsVersion = 2

type machine struct {
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

type settings struct {
	Runs          int     `json:"runs"`
	Quick         bool    `json:"quick"`
	TargetSeconds float64 `json:"target_seconds"`
	LagSeconds    float64 `json:"lag_seconds"`
	Compare       string  `json:"compare,omitempty"`
}

// loadInfo is the machine's load average over the last minute (see
// load.go), read before the first scenario and after each one.
type loadInfo struct {
	Known bool    `json:"known"`
	CPUs  int     `json:"cpus"`
	Start float64 `json:"start"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	End   float64 `json:"end"`
	Error string  `json:"error,omitempty"`
}

// high says whether the load average was above the number of processors
// at some point of the run.
func (l loadInfo) high() bool { return l.Known && highLoad(l.Max, l.CPUs) }

// comparisonInfo says what became of a comparison that -compare named.
type comparisonInfo struct {
	Name      string `json:"name"`
	Label     string `json:"label"`
	Available bool   `json:"available"`
	Version   string `json:"version,omitempty"`
	Python    string `json:"python,omitempty"`
	Error     string `json:"error,omitempty"`
}

type suiteResult struct {
	Name      string           `json:"name"`
	Doc       string           `json:"doc"`
	Scenarios []scenarioResult `json:"scenarios"`
}

type scenarioResult struct {
	Name         string         `json:"name"`
	Doc          string         `json:"doc"`
	BaselineName string         `json:"baseline_name,omitempty"`
	Metrics      []metricResult `json:"metrics"`
	// Allocations per unit of the headline metric, twine's median.
	Allocs *float64 `json:"allocs_per_unit,omitempty"`
	Bytes  *float64 `json:"bytes_per_unit,omitempty"`
	Lag    *lagData `json:"lag,omitempty"`
	// Load is the load average after the scenario's last round.
	Load  *float64 `json:"load,omitempty"`
	Error string   `json:"error,omitempty"`
}

type metricResult struct {
	Key            string     `json:"key"`
	Label          string     `json:"label"`
	Unit           string     `json:"unit"`
	HigherIsBetter bool       `json:"higher_is_better"`
	Twine          runs       `json:"twine"`
	Baseline       *runs      `json:"baseline,omitempty"`
	Other          *otherRuns `json:"other,omitempty"`
	VsBaseline     *versus    `json:"vs_baseline,omitempty"`
	VsOther        *versus    `json:"vs_other,omitempty"`
}

// runs are the figures of every round of a side, their median, and their
// spread: half their range in percent of the median (0 for one round).
type runs struct {
	Runs   []float64 `json:"runs"`
	Median float64   `json:"median"`
	Spread float64   `json:"spread_percent"`
}

func newRuns(xs []float64) runs {
	r := runs{Runs: xs, Median: median(xs)}
	if len(xs) > 1 && r.Median > 0 {
		r.Spread = 100 * (slices.Max(xs) - slices.Min(xs)) / 2 / r.Median
	}
	return r
}

// otherRuns are the figures of a comparison's script for a metric, in the
// metric's unit: Side is the comparison's label ("Twisted"), Figure the
// name the script printed them under.
type otherRuns struct {
	Side   string `json:"side"`
	Figure string `json:"figure"`
	runs
}

// versus is how twine's figure compares with another side's: the ratio of
// their medians (see [ratio]), and whether their rounds were too spread to
// say which side does better (see [separated]).
type versus struct {
	Ratio    float64 `json:"ratio"`
	TooNoisy bool    `json:"too_noisy,omitempty"`
}

// compare returns how twine's runs compare with other's, or nil when a
// median is not a positive number.
func compare(twine, other runs, higherBetter bool) *versus {
	r := ratio(twine.Median, other.Median, higherBetter)
	if r == nil {
		return nil
	}
	return &versus{Ratio: *r, TooNoisy: !separated(twine.Runs, other.Runs)}
}

// minRankRounds is how many rounds each side needs before a run can rank
// them: with three each, two sides that do equally well come out separated
// by chance one time in ten.
const minRankRounds = 3

// separated says whether every round of one side did better than every
// round of the other: then the run ranks them. When their ranges overlap,
// the rounds disagree about which side does better, and the ratio of the
// medians is too noisy to rank them.
func separated(a, b []float64) bool {
	if len(a) < minRankRounds || len(b) < minRankRounds {
		return false
	}
	return slices.Max(a) < slices.Min(b) || slices.Max(b) < slices.Min(a)
}

// lagData is what the lag charts draw.
type lagData struct {
	// Series is the probe's lag over the round whose p99 lag is the median
	// one: [seconds since the start, lag in milliseconds].
	Series [][2]float64 `json:"series"`
	// Histogram counts the lags of every round.
	Histogram histogram `json:"histogram"`
}

// A histogram counts values in bins: Counts[i] is the number of values
// from Edges[i] up to Edges[i+1] (the first bin takes everything below,
// the last everything above).
type histogram struct {
	EdgesMs []float64 `json:"edges_ms"`
	Counts  []int     `json:"counts"`
}

// lagEdges are the histogram's bin edges in milliseconds: five per decade
// from 1 µs to 10 s, the same for every scenario so that they overlay.
func lagEdges() []float64 {
	const perDecade = 5
	edges := make([]float64, 0, 7*perDecade+1)
	for i := 0; i <= 7*perDecade; i++ {
		edges = append(edges, math.Pow(10, -3+float64(i)/perDecade))
	}
	return edges
}

// newHistogram counts values (in milliseconds) in bins between edges.
func newHistogram(edges, values []float64) histogram {
	h := histogram{EdgesMs: edges, Counts: make([]int, len(edges)-1)}
	for _, v := range values {
		i := 0
		for i < len(h.Counts)-1 && v >= edges[i+1] {
			i++
		}
		h.Counts[i]++
	}
	return h
}

// ratio returns how many times better twine's figure is than other's, or
// nil when either is not a positive number.
func ratio(twine, other float64, higherBetter bool) *float64 {
	if !(twine > 0) || !(other > 0) || math.IsInf(twine, 0) || math.IsInf(other, 0) {
		return nil
	}
	r := other / twine
	if higherBetter {
		r = twine / other
	}
	return &r
}

// readResults reads a results.json that [writeJSON] wrote.
func readResults(path string) (*results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.Version != resultsVersion {
		return nil, fmt.Errorf("%s: layout version %d, want %d", path, res.Version, resultsVersion)
	}
	return &res, nil
}

// writeJSON writes res as indented JSON.
func writeJSON(w io.Writer, res *results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
