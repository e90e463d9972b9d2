package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
)

// runSuites runs the suites and, with -compare, the scripts that measure
// the same scenarios outside Go, reporting progress to progress. It
// returns what it measured, and an error if a scenario failed or the run
// was interrupted (with the results of the scenarios that ran, unless
// interrupted).
func runSuites(ctx context.Context, cfg *config, suites []suite, progress io.Writer) (*results, error) {
	res := &results{
		Version: resultsVersion,
		Started: time.Now(),
		Machine: machine{
			GoVersion:  runtime.Version(),
			GOOS:       runtime.GOOS,
			GOARCH:     runtime.GOARCH,
			CPUs:       runtime.NumCPU(),
			GOMAXPROCS: runtime.GOMAXPROCS(0),
		},
		Settings: settings{
			Runs:          cfg.runs,
			Quick:         cfg.quick,
			TargetSeconds: cfg.target.Seconds(),
			LagSeconds:    cfg.lagDuration.Seconds(),
			Compare:       cfg.compare,
		},
	}
	readLoad := cfg.loadAvg
	if readLoad == nil {
		readLoad = readLoadAvg
	}
	load := newLoadWatch(readLoad, res.Machine.CPUs)
	defer func() { res.Load = load.info }()
	cmp := newComparer(ctx, cfg, res, progress)
	defer cmp.close(progress)

	total := 0
	for _, s := range suites {
		total += len(s.scenarios)
	}
	var failed []string
	done := 0
	for _, s := range suites {
		sr := suiteResult{Name: s.name, Doc: s.doc}
		for _, sc := range s.scenarios {
			done++
			fmt.Fprintf(progress, "[%2d/%d] %-32s", done, total, s.name+"/"+sc.name)
			r := runScenario(ctx, cfg, sc, cmp, progress)
			if ctx.Err() != nil {
				fmt.Fprintln(progress)
				return nil, fmt.Errorf("interrupted")
			}
			r.Load = load.sample()
			if r.Load != nil && highLoad(*r.Load, res.Machine.CPUs) {
				fmt.Fprintf(progress, "        load average %.2f on %d CPUs: the machine was busy\n", *r.Load, res.Machine.CPUs)
			}
			if r.Error != "" {
				failed = append(failed, s.name+"/"+sc.name)
			}
			sr.Scenarios = append(sr.Scenarios, r)
		}
		cmp.endSuite(progress)
		res.Suites = append(res.Suites, sr)
	}
	res.Seconds = time.Since(res.Started).Seconds()
	if len(failed) > 0 {
		return res, fmt.Errorf("%d scenario(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return res, nil
}

// A running side of a scenario: its rounds so far.
type running struct {
	name    string // "twine", the baseline's name, or the comparison's label
	side    *side
	samples []sample
}

// runScenario sets the scenario's sides up and makes cfg.runs rounds of
// each, interleaved: round i of every side before round i+1 of any, the
// side that starts each turn rotating, so that no side always follows the
// same one. A failure of twine or of the baseline ends the scenario with
// its error in the result; a failure of the other side (a script) is said
// to progress and leaves its column out.
func runScenario(ctx context.Context, cfg *config, sc scenario, cmp *comparer, progress io.Writer) (r scenarioResult) {
	start := time.Now()
	r = scenarioResult{Name: sc.name, Doc: sc.doc}
	if sc.baseline != nil {
		r.BaselineName = sc.baselineName
	}
	fail := func(err error) scenarioResult {
		r.Error = err.Error()
		fmt.Fprintf(progress, " failed: %v\n", err)
		var pe *deferred.PanicError
		if errors.As(err, &pe) {
			fmt.Fprintf(progress, "%s\n", pe.Stack)
		}
		return r
	}
	var sides []*running
	defer func() {
		for _, rs := range sides {
			if rs.side.close == nil {
				continue
			}
			if err := safeClose(rs.side.close); err != nil && r.Error == "" {
				r.Metrics = nil
				fail(fmt.Errorf("%s: %w", rs.name, err))
			}
		}
	}()
	for _, st := range []struct {
		name string
		f    starter
	}{{"twine", sc.twine}, {sc.baselineName, sc.baseline}} {
		if st.f == nil {
			continue
		}
		s, err := safeStart(st.f, cfg)
		if err != nil {
			return fail(err)
		}
		sides = append(sides, &running{name: st.name, side: s})
	}
	var other *running
	var otherErr error
	if sc.other != nil && cmp != nil {
		other, otherErr = startOther(ctx, cfg, sc.other, cmp, progress)
		if other != nil {
			sides = append(sides, other)
		}
	}

	fmt.Fprint(progress, " round")
	for i := range cfg.runs {
		for j := range sides {
			rs := sides[(i+j)%len(sides)]
			if ctx.Err() != nil {
				return r
			}
			if rs == other && otherErr != nil {
				continue
			}
			s, err := safeRound(rs.side.round)
			if err != nil && rs == other {
				otherErr = err
				continue
			}
			if err != nil {
				return fail(err)
			}
			rs.samples = append(rs.samples, s)
		}
		fmt.Fprintf(progress, " %d", i+1)
	}
	if otherErr != nil && !errors.Is(otherErr, errNotCompared) {
		fmt.Fprintf(progress, "\nbench: %v; %s has no %s column\n       ", otherErr, sc.name, cmp.label(sc.other))
		other = nil
	}

	twine := sides[0].samples
	var base, others []sample
	if sc.baseline != nil {
		base = sides[1].samples
	}
	if other != nil {
		others = other.samples
	}
	for _, m := range sc.metrics {
		mr := metricResult{Key: m.key, Label: m.label, Unit: m.unit(), HigherIsBetter: m.higherBetter}
		get := func(s sample) float64 { return s.values[m.key] }
		mr.Twine = newRuns(values(twine, get))
		if len(base) > 0 {
			b := newRuns(values(base, get))
			mr.Baseline = &b
			mr.VsBaseline = compare(mr.Twine, b, m.higherBetter)
		}
		if len(others) > 0 && m.other != "" {
			o, err := otherFigures(others, m)
			if err != nil {
				fmt.Fprintf(progress, "\nbench: %s: %v", other.name, err)
			} else {
				mr.Other = &otherRuns{Side: other.name, Figure: m.other, runs: newRuns(o)}
				mr.VsOther = compare(mr.Twine, mr.Other.runs, m.higherBetter)
			}
		}
		r.Metrics = append(r.Metrics, mr)
	}
	if allocs := values(twine, func(s sample) float64 { return s.allocs }); allocs[0] >= 0 {
		a, b := median(allocs), median(values(twine, func(s sample) float64 { return s.bytes }))
		r.Allocs, r.Bytes = &a, &b
	}
	if sc.lag {
		r.Lag = newLagData(twine)
	}
	head := r.Metrics[0]
	fmt.Fprintf(progress, "  %s", formatValue(head.Twine.Median, head.Unit))
	if head.Baseline != nil {
		fmt.Fprintf(progress, "  (%s %s)", sc.baselineName, formatValue(head.Baseline.Median, head.Unit))
	}
	if head.Other != nil {
		fmt.Fprintf(progress, "  (%s %s)", head.Other.Side, formatValue(head.Other.Median, head.Unit))
	}
	fmt.Fprintf(progress, "  %.1fs\n", time.Since(start).Seconds())
	cmp.writeLogs(progress)
	return r
}

// startOther starts the scenario's other side: the round of a script,
// served by a server that the comparer keeps for the suite. It returns nil
// and why when the round cannot be had; the reason has been said to
// progress unless it is that its comparison was not asked for.
func startOther(ctx context.Context, cfg *config, o *otherRound, cmp *comparer, progress io.Writer) (*running, error) {
	srv, err := cmp.start(cfg, o, progress)
	if err != nil {
		return nil, err
	}
	rs := &running{name: cmp.label(o)}
	rs.side = &side{round: func() (sample, error) {
		figures, err := srv.round(ctx, o.name)
		if err != nil {
			if !srv.running() {
				cmp.fail(srv, err)
			}
			return sample{}, err
		}
		s := sample{values: map[string]float64{}, allocs: -1, bytes: -1}
		for name, f := range figures {
			s.values[name] = f.Value
			s.figures = append(s.figures, f)
		}
		return s, nil
	}}
	return rs, nil
}

// otherFigures returns the other side's figure for m from each of its
// rounds, in m's unit.
func otherFigures(samples []sample, m metric) ([]float64, error) {
	var xs []float64
	for _, s := range samples {
		var f *figure
		for i := range s.figures {
			if s.figures[i].Name == m.other {
				f = &s.figures[i]
			}
		}
		if f == nil {
			return nil, fmt.Errorf("no figure named %s", m.other)
		}
		v, err := f.convert(m)
		if err != nil {
			return nil, err
		}
		xs = append(xs, v)
	}
	return xs, nil
}

// safeStart starts a side, turning a panic into a *deferred.PanicError.
func safeStart(f starter, cfg *config) (s *side, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = deferred.NewPanicError(v)
		}
	}()
	return f(cfg)
}

// safeClose closes a side, turning a panic into a *deferred.PanicError.
func safeClose(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = deferred.NewPanicError(v)
		}
	}()
	return f()
}

// safeRound makes a round, turning a panic on the calling goroutine into
// a *deferred.PanicError, so that the other scenarios still run.
func safeRound(round func() (sample, error)) (s sample, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = deferred.NewPanicError(v)
		}
	}()
	return round()
}

// values returns get of each sample.
func values(samples []sample, get func(sample) float64) []float64 {
	xs := make([]float64, len(samples))
	for i, s := range samples {
		xs[i] = get(s)
	}
	return xs
}

// newLagData keeps the lag series of the round with the median p99 lag,
// and counts the lags of every round.
func newLagData(samples []sample) *lagData {
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		pa, pb := samples[a].values["p99"], samples[b].values["p99"]
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	mid := samples[order[(len(order)-1)/2]]
	d := &lagData{Series: make([][2]float64, len(mid.lags))}
	for i, p := range mid.lags {
		d.Series[i] = [2]float64{p.At.Seconds(), ms(p.Lag)}
	}
	var all []float64
	for _, s := range samples {
		for _, p := range s.lags {
			all = append(all, ms(p.Lag))
		}
	}
	d.Histogram = newHistogram(lagEdges(), all)
	return d
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
