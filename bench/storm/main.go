package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/twinego/twine/scheduler/process"
)

func main() {
	process.Main() // in a worker, serves and never returns
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command: it returns the exit status, 2 for bad flags and 1
// for a storm that lost, doubled or wrongly failed a task.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "storm:", err)
		return 2
	}
	early := "none"
	if cfg.early > 0 {
		early = fmt.Sprintf("1 in %d", cfg.early)
	}
	fmt.Fprintf(stdout, "storm: %d tasks on %d workers (%d in flight each, recycled every %d tasks); a running worker killed every %v, and %s as it starts\n",
		cfg.tasks, cfg.workers, cfg.inFlight, cfg.recycle, cfg.every, early)
	t, err := runStorm(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "storm:", err)
		return 1
	}
	t.write(stdout)
	if !t.ok() {
		fmt.Fprintln(stderr, "storm: FAILED: a task was lost, fired twice, or failed without its worker being killed")
		return 1
	}
	return 0
}

// config is what the flags say.
type config struct {
	tasks    int
	workers  int
	inFlight int
	recycle  int
	window   int           // calls outstanding at once
	every    time.Duration // between two kills of running workers
	early    int           // one of so many workers is killed as it starts
	stall    time.Duration // without any Deferred firing, before the rest count as lost
	close    time.Duration // for Close to drain the pool
	seed     uint64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.tasks, "tasks", 100_000, "tasks to run")
	fs.IntVar(&cfg.workers, "workers", 8, "worker processes at most")
	fs.IntVar(&cfg.inFlight, "inflight", process.DefaultMaxInFlight, "tasks in flight on one worker at most")
	fs.IntVar(&cfg.recycle, "recycle", 50, "tasks a worker serves before it is recycled (0: never)")
	fs.IntVar(&cfg.window, "window", 0, "calls outstanding at once (0: twice what the workers take)")
	fs.DurationVar(&cfg.every, "every", 2*time.Millisecond, "time between two kills of workers that have answered tasks")
	fs.IntVar(&cfg.early, "early", 2, "kill one of every `n` workers as soon as it starts, most often before its handshake (0: none)")
	fs.DurationVar(&cfg.stall, "stall", time.Minute, "time without any result after which the tasks left count as lost")
	fs.DurationVar(&cfg.close, "close", time.Minute, "time Close may take to drain the pool")
	fs.Uint64Var(&cfg.seed, "seed", uint64(time.Now().UnixNano()), "seed of the killer's choices")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.tasks < 1:
		return cfg, fmt.Errorf("-tasks %d: want at least 1", cfg.tasks)
	case cfg.workers < 1:
		return cfg, fmt.Errorf("-workers %d: want at least 1", cfg.workers)
	case cfg.inFlight < 1:
		return cfg, fmt.Errorf("-inflight %d: want at least 1", cfg.inFlight)
	case cfg.recycle < 0:
		return cfg, fmt.Errorf("-recycle %d: want 0 or more", cfg.recycle)
	case cfg.early < 0:
		return cfg, fmt.Errorf("-early %d: want 0 or more", cfg.early)
	case cfg.window < 0:
		return cfg, fmt.Errorf("-window %d: want 0 or more", cfg.window)
	case cfg.every <= 0, cfg.stall <= 0, cfg.close <= 0:
		return cfg, errors.New("-every, -stall and -close want positive durations")
	}
	if cfg.window == 0 {
		cfg.window = 2 * cfg.workers * cfg.inFlight
	}
	return cfg, nil
}
