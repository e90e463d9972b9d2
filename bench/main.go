package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// config is what the flags say.
type config struct {
	runs        int
	quick       bool
	target      time.Duration // how long one timed measurement lasts at least
	lagDuration time.Duration // how long one run of a lag scenario lasts
	suites      string
	out         string
	compare     string
	python      string
	list        bool
	render      string
}

// Defaults, and in -quick mode.
const (
	defaultRuns   = 5
	quickRuns     = 3
	defaultTarget = 200 * time.Millisecond
	quickTarget   = 20 * time.Millisecond
	defaultLag    = 3 * time.Second
	quickLag      = 400 * time.Millisecond
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command: it returns the exit status, 2 for bad flags and 1
// for a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	suites, err := selectSuites(allSuites(), cfg.suites)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if cfg.list {
		listSuites(stdout, suites)
		return 0
	}
	var res *results
	if cfg.render != "" {
		res, err = readResults(cfg.render)
	} else {
		res, err = runSuites(ctx, cfg, suites, stderr)
	}
	if res != nil {
		fmt.Fprintln(stdout)
		writeTable(stdout, res)
		wrote, werr := writeOutputs(cfg.out, res, cfg.render == "")
		if werr != nil {
			fmt.Fprintln(stderr, "bench:", werr)
			return 1
		}
		fmt.Fprintf(stderr, "bench: wrote %s\n", strings.Join(wrote, " and "))
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

const usage = `Usage: go run ./bench [flags]

Runs twine's benchmark scenarios, each -runs times, prints a table of the
medians and of the ratios to plain Go (and to Twisted with -compare
twisted), and writes results.json and report.html to -out.

Ratios say how many times better twine does: above 1 it is faster (or,
for a throughput, gets more done), below 1 it is slower.

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.runs, "runs", defaultRuns, "runs of each scenario; the table shows their median (-quick: 3)")
	fs.BoolVar(&cfg.quick, "quick", false, "short runs for CI: the whole command in well under a minute")
	fs.DurationVar(&cfg.target, "time", defaultTarget, "least time of one timed measurement (-quick: 20ms)")
	fs.DurationVar(&cfg.lagDuration, "lag", defaultLag, "length of one run of a lag scenario (-quick: 400ms)")
	fs.StringVar(&cfg.suites, "suite", "", "comma-separated suites to run (default all; see -list)")
	fs.StringVar(&cfg.out, "out", filepath.Join("bench", "out"), "directory for results.json and report.html")
	fs.StringVar(&cfg.compare, "compare", "", `"twisted" to run the same scenarios in Twisted and compare`)
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	fs.StringVar(&cfg.python, "python", python, "Python interpreter with Twisted, for -compare twisted ($PYTHON)")
	fs.BoolVar(&cfg.list, "list", false, "list the suites and their scenarios, and exit")
	fs.StringVar(&cfg.render, "render", "", "run nothing: read this results.json, print its table and write its report.html to -out")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (try -help)", fs.Arg(0))
	}
	if cfg.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["runs"] {
			cfg.runs = quickRuns
		}
		if !set["time"] {
			cfg.target = quickTarget
		}
		if !set["lag"] {
			cfg.lagDuration = quickLag
		}
	}
	switch {
	case cfg.runs < 1:
		return nil, fmt.Errorf("-runs %d: want at least 1", cfg.runs)
	case cfg.target <= 0:
		return nil, fmt.Errorf("-time %v: want a positive duration", cfg.target)
	case cfg.lagDuration < 40*time.Millisecond:
		return nil, fmt.Errorf("-lag %v: want at least 40ms", cfg.lagDuration)
	case cfg.compare != "" && cfg.compare != "twisted":
		return nil, fmt.Errorf("-compare %q: the only comparison is \"twisted\"", cfg.compare)
	}
	return cfg, nil
}

func listSuites(w io.Writer, suites []suite) {
	for _, s := range suites {
		fmt.Fprintf(w, "%s: %s\n", s.name, s.doc)
		for _, sc := range s.scenarios {
			base := ""
			if sc.baseline != nil {
				base = " [baseline: " + sc.baselineName + "]"
			}
			fmt.Fprintf(w, "  %-22s %s%s\n", sc.name, sc.doc, base)
		}
	}
}

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
		s, err := sc.twine(cfg)
		if err == nil && sc.baseline != nil {
			var b sample
			if b, err = sc.baseline(cfg); err == nil {
				base = append(base, b)
			}
		}
		if err != nil {
			r.Error = err.Error()
			fmt.Fprintf(progress, " failed: %v\n", err)
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

// writeOutputs writes report.html, and results.json if withJSON, to dir,
// and returns the paths it wrote.
func writeOutputs(dir string, res *results, withJSON bool) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	write := func(name string, f func(io.Writer, *results) error) error {
		path := filepath.Join(dir, name)
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(file, res); err != nil {
			file.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		wrote = append(wrote, path)
		return file.Close()
	}
	if withJSON {
		if err := write("results.json", writeJSON); err != nil {
			return wrote, err
		}
	}
	return wrote, write("report.html", writeHTML)
}
