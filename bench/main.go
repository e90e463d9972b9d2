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
	"strings"
	"time"

	"github.com/twinego/twine/scheduler/process"
)

// config is what the flags say.
type config struct {
	runs        int
	quick       bool
	target      time.Duration // how long one round lasts, about
	lagDuration time.Duration // how long one round of a lag scenario lasts
	suites      string
	out         string
	compare     string
	python      string
	list        bool
	render      string
	// loadAvg reads the machine's load average; readLoadAvg when nil.
	loadAvg func() (float64, error)
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
	// This executable, started again, is also the pools suite's worker
	// processes, its bare echo child, the parallel suite's plain spinning
	// child and the net suite's load client: those never return from here.
	if os.Getenv(envEcho) == "1" {
		os.Exit(echoChild())
	}
	if os.Getenv(envSpin) == "1" {
		os.Exit(spinChild())
	}
	if mode := os.Getenv(envNetChild); mode != "" {
		os.Exit(netChild(mode))
	}
	process.Main()
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

Runs twine's benchmark scenarios, -runs rounds of each side (twine, plain
Go, and Twisted with -compare twisted) interleaved, prints a table of the
medians with their spread and of the ratios between them, and writes
results.json and report.html to -out.

Ratios say how many times better twine does: above 1 it is faster (or,
for a throughput, gets more done), below 1 it is slower. A ratio marked ?
is too noisy to rank: the two sides' rounds overlap. The load average of
the machine is shown beside each scenario.

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
	fs.IntVar(&cfg.runs, "runs", defaultRuns, "rounds of each side of a scenario; the table shows their median (-quick: 3)")
	fs.BoolVar(&cfg.quick, "quick", false, "short runs for CI: the whole command in well under a minute")
	fs.DurationVar(&cfg.target, "time", defaultTarget, "time of one round, found on the first (-quick: 20ms)")
	fs.DurationVar(&cfg.lagDuration, "lag", defaultLag, "length of one round of a lag scenario (-quick: 400ms)")
	fs.StringVar(&cfg.suites, "suite", "", "comma-separated suites to run, or suite/scenario for one scenario (default all; see -list)")
	fs.StringVar(&cfg.out, "out", filepath.Join("bench", "out"), "directory for results.json and report.html")
	fs.StringVar(&cfg.compare, "compare", "", `"twisted" to run the same scenarios in Twisted and compare (a comma-separated list of comparisons)`)
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	fs.StringVar(&cfg.python, "python", python, "Python interpreter for -compare, with Twisted for -compare twisted ($PYTHON)")
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
	}
	for _, name := range compareList(cfg.compare) {
		if _, ok := findComparison(name); !ok {
			return nil, fmt.Errorf("-compare %q: the comparisons are %s", name, comparisonNames())
		}
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
			if sc.other != nil {
				base += " [" + sc.other.script.comparison + ": " + sc.other.script.file + " " + sc.other.name + "]"
			}
			fmt.Fprintf(w, "  %-22s %s%s\n", sc.name, sc.doc, base)
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
