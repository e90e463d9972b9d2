package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/twinego/twine/deferred"
)

// runSuites runs the suites and, with -compare twisted, their Twisted
// scripts, reporting progress to progress. It returns what it measured,
// and an error if a scenario failed or the run was interrupted (with the
// results of the scenarios that ran, unless interrupted).
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
	env, cleanup := setUpTwisted(ctx, cfg, res, progress)
	defer cleanup()

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
			r := runScenario(ctx, cfg, sc, progress)
			if ctx.Err() != nil {
				fmt.Fprintln(progress)
				return nil, fmt.Errorf("interrupted")
			}
			if r.Error != "" {
				failed = append(failed, s.name+"/"+sc.name)
			}
			sr.Scenarios = append(sr.Scenarios, r)
		}
		if env != nil && len(s.twisted) > 0 {
			addTwisted(ctx, env, cfg, s, &sr, progress)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("interrupted")
			}
		}
		res.Suites = append(res.Suites, sr)
	}
	res.Seconds = time.Since(res.Started).Seconds()
	if len(failed) > 0 {
		return res, fmt.Errorf("%d scenario(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return res, nil
}

// setUpTwisted finds Twisted for -compare twisted and writes the scripts
// to a temporary directory. When Twisted cannot be used, it says so and
// why, and the run goes on without it (a nil env).
func setUpTwisted(ctx context.Context, cfg *config, res *results, progress io.Writer) (env *twistedEnv, cleanup func()) {
	cleanup = func() {}
	if cfg.compare != "twisted" {
		return nil, cleanup
	}
	res.Twisted = twistedInfo{Requested: true, Python: cfg.python}
	version, err := findTwisted(ctx, cfg.python)
	if err == nil {
		var dir string
		if dir, err = os.MkdirTemp("", "twine-bench-twisted-"); err == nil {
			cleanup = func() { _ = os.RemoveAll(dir) }
			if err = writeScripts(dir); err == nil {
				res.Twisted.Available = true
				res.Twisted.Version = version
				fmt.Fprintf(progress, "bench: comparing with Twisted %s (%s)\n", version, cfg.python)
				return &twistedEnv{python: cfg.python, version: version, dir: dir}, cleanup
			}
		}
	}
	res.Twisted.Error = err.Error()
	fmt.Fprintf(progress, "bench: -compare twisted: %v.\n", err)
	fmt.Fprintf(progress, "bench: the Twisted column is left out; to have it, %s.\n", twistedInstall)
	return nil, cleanup
}

// runScenario makes cfg.runs runs of a scenario, each twine's then the
// baseline's, and returns their figures. A failed run ends the scenario
// with its error in the result.
func runScenario(ctx context.Context, cfg *config, sc scenario, progress io.Writer) scenarioResult {
	start := time.Now()
	r := scenarioResult{Name: sc.name, Doc: sc.doc}
	if sc.baseline != nil {
		r.BaselineName = sc.baselineName
	}
	var twine, base []sample
	fmt.Fprint(progress, " run")
	for i := range cfg.runs {
		if ctx.Err() != nil {
			return r
		}
		s, err := safeRun(sc.twine, cfg)
		if err == nil && sc.baseline != nil {
			var b sample
			if b, err = safeRun(sc.baseline, cfg); err == nil {
				base = append(base, b)
			}
		}
		if err != nil {
			r.Error = err.Error()
			fmt.Fprintf(progress, " failed: %v\n", err)
			var pe *deferred.PanicError
			if errors.As(err, &pe) {
				fmt.Fprintf(progress, "%s\n", pe.Stack)
			}
			return r
		}
		twine = append(twine, s)
		fmt.Fprintf(progress, " %d", i+1)
	}
	for _, m := range sc.metrics {
		mr := metricResult{Key: m.key, Label: m.label, Unit: m.unit(), HigherIsBetter: m.higherBetter}
		get := func(s sample) float64 { return s.values[m.key] }
		mr.Twine = newRuns(values(twine, get))
		if len(base) > 0 {
			b := newRuns(values(base, get))
			mr.Baseline = &b
			mr.VsBaseline = ratio(mr.Twine.Median, b.Median, m.higherBetter)
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
	fmt.Fprintf(progress, "  %.1fs\n", time.Since(start).Seconds())
	return r
}

// safeRun makes a run, turning a panic on the calling goroutine into a
// *deferred.PanicError, so that the other scenarios still run.
func safeRun(f runFunc, cfg *config) (s sample, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = deferred.NewPanicError(v)
		}
	}()
	return f(cfg)
}

// values returns get of each sample.
func values(samples []sample, get func(sample) float64) []float64 {
	xs := make([]float64, len(samples))
	for i, s := range samples {
		xs[i] = get(s)
	}
	return xs
}

// newLagData keeps the lag series of the run with the median p99 lag, and
// counts the lags of every run.
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

// addTwisted runs a suite's Twisted scripts and puts their figures beside
// twine's. A script that fails or leaves a figure out is reported; the
// figures it did print are kept.
func addTwisted(ctx context.Context, env *twistedEnv, cfg *config, s suite, sr *suiteResult, progress io.Writer) {
	figures := map[string]twistedFigure{}
	for _, script := range s.twisted {
		start := time.Now()
		fmt.Fprintf(progress, "        Twisted %s: %s, %d run(s) per scenario\n", env.version, script.file, cfg.runs)
		got, err := env.runScript(ctx, script, cfg, progress)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fmt.Fprintf(progress, "bench: twisted: %v\n", err)
		}
		for k, v := range got {
			figures[k] = v
		}
		fmt.Fprintf(progress, "        %s took %.1fs\n", script.file, time.Since(start).Seconds())
	}
	for i, sc := range s.scenarios {
		r := &sr.Scenarios[i]
		if r.Error != "" {
			continue
		}
		for j, m := range sc.metrics {
			if m.twisted == "" {
				continue
			}
			f, ok := figures[m.twisted]
			if !ok {
				fmt.Fprintf(progress, "bench: twisted: no figure named %s for %s/%s\n", m.twisted, s.name, sc.name)
				continue
			}
			v, err := f.convert(m)
			if err != nil {
				fmt.Fprintf(progress, "bench: %v\n", err)
				continue
			}
			mr := &r.Metrics[j]
			mr.Twisted = &twistedValue{Name: f.Name, Value: v, Printed: strings.TrimSpace(fmt.Sprintf("%g %s", f.Value, f.Unit))}
			mr.VsTwisted = ratio(mr.Twine.Median, v, m.higherBetter)
		}
	}
}
