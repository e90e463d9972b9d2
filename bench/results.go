package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// results is everything a run of the command measured, as written to
// results.json for tools. Times are in nanoseconds (per unit of work where
// the unit says so: "ns/op", "ns/call", "ns/step"), percentages in percent.
// Ratios say how many times better twine does than the other side: the
// other's time over twine's for a cost, twine's figure over the other's for
// a throughput; above 1 twine is better, below 1 it is worse.
type results struct {
	Version  int           `json:"version"`
	Started  time.Time     `json:"started"`
	Seconds  float64       `json:"seconds"`
	Machine  machine       `json:"machine"`
	Settings settings      `json:"settings"`
	Twisted  twistedInfo   `json:"twisted"`
	Suites   []suiteResult `json:"suites"`
}

// resultsVersion is the version of results.json's layout.
const resultsVersion = 1

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

type twistedInfo struct {
	Requested bool   `json:"requested"`
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
	Error  string   `json:"error,omitempty"`
}

type metricResult struct {
	Key            string        `json:"key"`
	Label          string        `json:"label"`
	Unit           string        `json:"unit"`
	HigherIsBetter bool          `json:"higher_is_better"`
	Twine          runs          `json:"twine"`
	Baseline       *runs         `json:"baseline,omitempty"`
	Twisted        *twistedValue `json:"twisted,omitempty"`
	VsBaseline     *float64      `json:"vs_baseline,omitempty"`
	VsTwisted      *float64      `json:"vs_twisted,omitempty"`
}

// runs are the figures of every run and their median.
type runs struct {
	Runs   []float64 `json:"runs"`
	Median float64   `json:"median"`
}

func newRuns(xs []float64) runs { return runs{Runs: xs, Median: median(xs)} }

// A twistedValue is Twisted's figure for a metric, in the metric's unit,
// with what the script printed.
type twistedValue struct {
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Printed string  `json:"printed"`
}

// lagData is what the lag charts draw.
type lagData struct {
	// Series is the probe's lag over the run whose p99 lag is the median
	// one: [seconds since the start, lag in milliseconds].
	Series [][2]float64 `json:"series"`
	// Histogram counts the lags of every run.
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
