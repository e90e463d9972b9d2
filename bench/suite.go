package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A suite is a group of scenarios that are run together and drawn in one
// chart.
type suite struct {
	name      string
	doc       string
	scenarios []scenario
}

// A scenario is one thing measured, by up to three sides whose rounds are
// interleaved: twine's way of doing it; where plain Go has an obvious way
// of its own, that way as its baseline; and where a program outside Go
// measures the same (a Twisted script), that program. Round i of every
// side runs before round i+1 of any, so that drift in the machine's speed
// hits all sides alike.
type scenario struct {
	name string
	doc  string
	// metrics are what a round reports, the first one being the headline
	// figure drawn in the suite's chart.
	metrics []metric
	twine   starter
	// baseline, when not nil, is plain Go doing the same; baselineName says
	// what it is ("time.AfterFunc", "plain loop").
	baseline     starter
	baselineName string
	// other, when not nil, is the round of a script that measures the same
	// scenario outside Go; the metrics name its figures.
	other *otherRound
	// lag marks the scenarios whose rounds record the reactor's lag over
	// time.
	lag bool
}

// A starter sets up one side of a scenario for its rounds: it starts what
// the rounds share (a reactor, a pool of workers, a child process) and
// returns the side. It runs once per scenario, before the first round.
type starter func(cfg *config) (*side, error)

// roundsOf makes a side each of whose rounds is f, which sets up and stops
// what it needs itself.
func roundsOf(f func(cfg *config) (sample, error)) starter {
	return func(cfg *config) (*side, error) {
		return &side{round: func() (sample, error) { return f(cfg) }}, nil
	}
}

// A side is one way of doing a scenario, set up and ready for its rounds.
type side struct {
	// round makes one measured round. The first round of a side may take
	// longer: it also calibrates and warms the side up (see [meter]).
	round func() (sample, error)
	// close, when not nil, stops what the starter started; it runs once,
	// after the last round.
	close func() error
}

// A sample is what one round measured: a value per metric key, and for
// the lag scenarios the probe's lag over the round.
type sample struct {
	values map[string]float64
	// allocs and bytes are heap allocations per unit of the headline
	// metric; negative when not measured.
	allocs, bytes float64
	lags          []lagPoint
	// figures are what a script's round printed, for the other side.
	figures []figure
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
	// other names the figure, printed by the scenario's other round, that
	// measures the same thing; empty when there is none.
	other string
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

// timeMetric is the usual headline metric: nanoseconds per unit of work;
// other names the figure of the scenario's other round, if any.
func timeMetric(per, other string) metric {
	return metric{key: "time", label: "time", kind: kindTime, per: per, other: other}
}

// selectSuites returns the suites named in the comma-separated list, in the
// order of all; an empty list selects them all. An entry "suite/scenario"
// selects one scenario of a suite, which keeps only the scenarios so
// named, unless the list also names the whole suite.
func selectSuites(all []suite, list string) ([]suite, error) {
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	whole := map[string]bool{}
	some := map[string]map[string]bool{}
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, scName, one := strings.Cut(entry, "/")
		k := slices.IndexFunc(all, func(s suite) bool { return s.name == name })
		if k < 0 {
			return nil, fmt.Errorf("unknown suite %q (known: %s)", name, suiteNames(all))
		}
		if !one {
			whole[name] = true
			continue
		}
		if !slices.ContainsFunc(all[k].scenarios, func(sc scenario) bool { return sc.name == scName }) {
			return nil, fmt.Errorf("unknown scenario %q of suite %s (see -list)", scName, name)
		}
		if some[name] == nil {
			some[name] = map[string]bool{}
		}
		some[name][scName] = true
	}
	var out []suite
	for _, s := range all {
		switch {
		case whole[s.name]:
			out = append(out, s)
		case some[s.name] != nil:
			s.scenarios = slices.DeleteFunc(slices.Clone(s.scenarios), func(sc scenario) bool { return !some[s.name][sc.name] })
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
