package main

import (
	"os"
	"time"
)

// The table the command prints: the median of each side's rounds with
// their spread, how many times better twine does than plain Go and than
// Twisted, a "?" on a ratio too noisy to rank, and the machine's load.
func Example_table() {
	twine := newRuns([]float64{131, 128, 135})
	channel := newRuns([]float64{125, 119, 140})
	twisted := newRuns([]float64{1400, 1350, 1480})
	load := 0.8
	res := &results{
		Version:     resultsVersion,
		Started:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Machine:     machine{GoVersion: "go1.26.0", GOOS: "linux", GOARCH: "amd64", CPUs: 2},
		Settings:    settings{Runs: 3, Compare: "twisted"},
		Load:        loadInfo{Known: true, CPUs: 2, Start: 0.5, Min: 0.5, Max: 0.8, End: 0.8},
		Comparisons: []comparisonInfo{{Name: "twisted", Label: "Twisted", Available: true, Version: "22.4.0", Python: "/usr/bin/python3"}},
		Suites: []suiteResult{{Name: "deferred", Scenarios: []scenarioResult{{
			Name:         "create_callback",
			BaselineName: "buffered channel",
			Load:         &load,
			Metrics: []metricResult{{
				Key: "time", Label: "time", Unit: "ns/op",
				Twine:      twine,
				Baseline:   &channel,
				Other:      &otherRuns{Side: "Twisted", Figure: "create_addcallback_callback", runs: twisted},
				VsBaseline: compare(twine, channel, false),
				VsOther:    compare(twine, twisted, false),
			}},
		}}}},
	}
	writeTable(os.Stdout, res)
	// Output:
	// twine benchmarks: medians of 3 interleaved rounds; go1.26.0 linux/amd64, 2 CPUs.
	// Twisted 22.4.0 (/usr/bin/python3) measured the same scenarios, its rounds interleaved with twine's.
	// Load average (1 min): 0.50 at the start, 0.50 to 0.80 during the run, on 2 CPUs: the machine was not busy.
	// ±: half the range of a side's rounds, in percent of their median.
	// ×: how many times better twine does than the column to its left (above 1: better; below 1: worse);
	//    ? marks a ratio too noisy to rank: the two sides' rounds overlap, so the run cannot say which does better.
	// load: the load average after the scenario's rounds.
	//
	// scenario                      twine    ±   baseline    ±       ×     Twisted    ±      ×  allocs  load  baseline is
	// deferred/create_callback  131 ns/op  ±3%  125 ns/op  ±8%  0.95×?  1.40 µs/op  ±5%  10.7×          0.80  buffered channel
	//
	// Too noisy to rank (1): deferred/create_callback against buffered channel.
}
