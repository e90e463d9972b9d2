package main

import (
	"fmt"
	"strings"
	"time"
)

// A suite is a group of scenarios that are run together and drawn in one
// chart, with the Twisted scripts that measure the same scenarios.
type suite struct {
	name      string
	doc       string
	scenarios []scenario
	twisted   []twistedScript
}

// A scenario is one thing measured: twine's way of doing it, and, where
// plain Go has an obvious way of its own, that way as its baseline. Each
// run of a scenario measures the baseline right after twine, so that drift
// in the machine's speed hits both alike.
type scenario struct {
	name string
	doc  string
	// metrics are what a run reports, the first one being the headline
	// figure drawn in the suite's chart.
	metrics []metric
	twine   runFunc
	// baseline, when not nil, is plain Go doing the same; baselineName says
	// what it is ("time.AfterFunc", "plain loop").
	baseline     runFunc
	baselineName string
	// lag marks the scenarios whose runs record the reactor's lag over time.
	lag bool
}

// A runFunc makes one run of a scenario.
type runFunc func(cfg *config) (sample, error)

// A sample is what one run measured: a value per metric key, and for the
// lag scenarios the probe's lag over the run.
type sample struct {
	values map[string]float64
	// allocs and bytes are heap allocations per unit of the headline
	// metric; negative when not measured.
	allocs, bytes float64
	lags          []lagPoint
}

// A lagPoint is one run of the lag probe: when it ran, since the start of
// the run, and how late.
type lagPoint struct {
	At, Lag time.Duration
}

// kind says how a metric's values read.
type kind uint8

const (
	kindTime    kind = iota // nanoseconds
	kindPercent             // a percentage
	kindBytes               // bytes
)

// A metric is one figure of a scenario.
type metric struct {
	key   string // the key of the value in a sample
	label string // a short name, shown when a scenario has several metrics
	kind  kind
	// per is the unit of work a time is for: "op", "call", "step"; empty
	// for a plain duration such as a lag.
	per          string
	higherBetter bool
	// twisted names the figure of a Twisted script that measures the same
	// thing; empty when Twisted has none.
	twisted string
}

// unit is the metric's unit as written in results: "ns/op", "ns", "%",
// "B/conn", "B".
func (m metric) unit() string {
	switch {
	case m.kind == kindPercent:
		return "%"
	case m.kind == kindBytes && m.per != "":
		return "B/" + m.per
	case m.kind == kindBytes:
		return "B"
	case m.per != "":
		return "ns/" + m.per
	default:
		return "ns"
	}
}

// timeMetric is the usual headline metric: nanoseconds per unit of work.
func timeMetric(per, twisted string) metric {
	return metric{key: "time", label: "time", kind: kindTime, per: per, twisted: twisted}
}

// A twistedScript is a script under bench/twisted that measures some of a
// suite's scenarios. args gives its command-line arguments for a run.
type twistedScript struct {
	file string
	args func(cfg *config) []string
}

// selectSuites returns the suites named in the comma-separated list, in the
// order of all; an empty list selects them all.
func selectSuites(all []suite, list string) ([]suite, error) {
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, s := range all {
			if s.name == name {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown suite %q (known: %s)", name, suiteNames(all))
		}
		want[name] = true
	}
	var out []suite
	for _, s := range all {
		if want[s.name] {
			out = append(out, s)
		}
	}
	return out, nil
}

func suiteNames(all []suite) string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}
