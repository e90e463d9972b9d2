package main

import (
	"os"
	"time"
)

// The table the command prints: the medians of the runs, and how many
// times better twine does than plain Go and than Twisted.
func Example_table() {
	twine, channel, twisted := 131.0, 125.0, 1400.0
	res := &results{
		Version:  resultsVersion,
		Started:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Machine:  machine{GoVersion: "go1.26.0", GOOS: "linux", GOARCH: "amd64", CPUs: 2},
		Settings: settings{Runs: 3, Compare: "twisted"},
		Twisted:  twistedInfo{Requested: true, Available: true, Version: "22.4.0", Python: "/usr/bin/python3"},
		Suites: []suiteResult{{Name: "deferred", Scenarios: []scenarioResult{{
			Name:         "create_callback",
			BaselineName: "buffered channel",
			Metrics: []metricResult{{
				Key: "time", Label: "time", Unit: "ns/op",
				Twine:      newRuns([]float64{twine, 128, 135}),
				Baseline:   &runs{Runs: []float64{channel}, Median: channel},
				Twisted:    &twistedValue{Name: "create_addcallback_callback", Value: twisted},
				VsBaseline: ratio(twine, channel, false),
				VsTwisted:  ratio(twine, twisted, false),
			}},
		}}}},
	}
	writeTable(os.Stdout, res)
	// Output:
	// twine benchmarks: medians of 3 runs; go1.26.0 linux/amd64, 2 CPUs.
	// Twisted 22.4.0 (/usr/bin/python3) measured the same scenarios in the same run.
	// ±: half the range of twine's runs, in percent of their median.
	// ×: how many times better twine does than the column to its left (above 1: better; below 1: worse).
	//
	// scenario                      twine    ±   baseline      ×     Twisted      ×  allocs  baseline is
	// deferred/create_callback  131 ns/op  ±3%  125 ns/op  0.95×  1.40 µs/op  10.7×          buffered channel
}
