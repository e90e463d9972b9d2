package process

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"
)

// Option configures a [Pool] in [NewPool]. An option given a value it cannot
// take panics at once, naming itself.
type Option func(*config)

// Defaults for the options.
const (
	DefaultIdleTimeout  = 20 * time.Second // as ampoule's maxIdle
	DefaultMaxInFlight  = 64
	DefaultMaxFrame     = 16 << 20
	DefaultStartTimeout = 10 * time.Second
	DefaultCancelGrace  = 5 * time.Second
)

type config struct {
	minWorkers   int
	maxWorkers   int
	maxSet       bool
	idleTimeout  time.Duration
	recycleAfter int
	taskTimeout  time.Duration
	cancelGrace  time.Duration
	maxInFlight  int
	maxFrame     int
	procs        int
	nice         int
	startTimeout time.Duration
	codec        Codec
	logger       *slog.Logger
	env          []string
	dir          string
}

func newConfig(opts []Option) config {
	c := config{
		minWorkers:   1,
		maxWorkers:   max(1, runtime.NumCPU()),
		idleTimeout:  DefaultIdleTimeout,
		maxInFlight:  DefaultMaxInFlight,
		maxFrame:     DefaultMaxFrame,
		procs:        1,
		nice:         DefaultWorkerNice,
		startTimeout: DefaultStartTimeout,
		cancelGrace:  DefaultCancelGrace,
		codec:        Gob(),
	}
	for _, o := range opts {
		if o == nil {
			panic("process: NewPool: nil Option")
		}
		o(&c)
	}
	if c.minWorkers > c.maxWorkers {
		if c.maxSet {
			panic(fmt.Sprintf("process: NewPool: WithMinWorkers(%d) exceeds WithMaxWorkers(%d)", c.minWorkers, c.maxWorkers))
		}
		c.maxWorkers = c.minWorkers
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}

// WithMinWorkers sets how many workers the pool keeps running even when idle
// (default 1). [NewPool] starts them at once, and the pool replaces those that
// go away. Zero starts workers only when tasks come. A negative n panics.
func WithMinWorkers(n int) Option {
	atLeast("WithMinWorkers", n, 0)
	return func(c *config) { c.minWorkers = n }
}

// WithMaxWorkers caps the number of worker processes alive at once,
// including those finishing their tasks before being recycled (default
// runtime.NumCPU()). The pool starts a worker when tasks wait and the
// running ones are full. n below 1 panics.
func WithMaxWorkers(n int) Option {
	atLeast("WithMaxWorkers", n, 1)
	return func(c *config) { c.maxWorkers, c.maxSet = n, true }
}

// WithIdleTimeout sets how long a worker beyond the minimum may stay without
// tasks before the pool stops it (default [DefaultIdleTimeout], 20 s, as
// ampoule's maxIdle). Zero or a negative d keeps idle workers running.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) { c.idleTimeout = d }
}

// WithRecycleAfter makes each worker serve at most n tasks: after its n-th
// task has been sent to it, it gets no more, and it is stopped once its tasks
// have finished; a new worker takes its place when needed (ampoule's
// recycleAfter). Zero (the default) never recycles. A negative n panics.
func WithRecycleAfter(n int) Option {
	atLeast("WithRecycleAfter", n, 0)
	return func(c *config) { c.recycleAfter = n }
}

// WithTaskTimeout bounds how long a task may run, counted from the moment it
// is sent to a worker (ampoule's timeout). When the time is up the worker is
// killed with SIGKILL: the task fails with a [*WorkerError] wrapping
// [ErrTimeout], and the other tasks that were running on that worker fail
// with one wrapping [ErrKilled] (they are not retried, since a task may not be
// safe to run twice). Queued tasks go to other workers. The timer is one of
// the pool's own, not the loop's: it fires whatever the loop is doing, even
// while the loop waits in [Pool.Close] for the task. Zero (the default) or a
// negative d sets no limit. A task that is cancelled is bounded by
// [WithCancelGrace] from then on, instead.
func WithTaskTimeout(d time.Duration) Option {
	return func(c *config) { c.taskTimeout = d }
}

// WithCancelGrace bounds how long a worker is held by a cancelled task
// whose function does not return (default [DefaultCancelGrace], 5 s). When
// a task's Deferred is cancelled, its Deferred fails at once and the worker
// cancels the function's context; a function that ignores its context would
// keep its place on the worker, and a draining [Pool.Close] waiting, for as
// long as it runs. Once the grace has passed, its worker takes no more tasks
// (a new one is started as needed), finishes its other tasks, which are not
// disturbed, and then stops, without waiting for the function. The timer,
// like the task timeout's, is not the loop's. The same grace applies to a
// stream the pool stops itself (its callback panicked, say). Zero or a
// negative d waits for the function as long as it runs, and the task
// timeout, if any, still applies to it.
func WithCancelGrace(d time.Duration) Option {
	return func(c *config) { c.cancelGrace = d }
}

// WithMaxInFlight sets how many tasks one worker runs at a time (default
// [DefaultMaxInFlight], 64): the depth of the pipeline of requests on its
// pipe. A worker runs each of its tasks on a goroutine of its own. Use 1 for
// one task at a time per process, as Python's multiprocessing does; a deeper
// pipeline hides the round trip and gives the throughput. n below 1 panics.
func WithMaxInFlight(n int) Option {
	atLeast("WithMaxInFlight", n, 1)
	return func(c *config) { c.maxInFlight = n }
}

// WithWorkerProcs sets GOMAXPROCS in each worker (default 1): how many
// threads at a time run Go code in one worker. One is the process pool's
// usual model, as in Python's multiprocessing: parallelism comes from the
// number of workers, and a worker switches between its tasks without
// waking other threads, which keeps the round trip short. Zero leaves the
// workers Go's default (or the GOMAXPROCS of the environment). An entry for
// GOMAXPROCS given to [WithEnv] wins over this option. A negative n panics.
func WithWorkerProcs(n int) Option {
	atLeast("WithWorkerProcs", n, 0)
	return func(c *config) { c.procs = n }
}

// DefaultWorkerNice is how far, by default, the workers' nice value is
// raised above this process's: to 19, the lowest priority, from nice 0.
const DefaultWorkerNice = 19

// WithWorkerNice makes each worker raise its nice value n above this
// process's (default [DefaultWorkerNice], 19; at most 19 in all), on Linux:
// the kernel then runs the loop's thread first when it wakes on a machine
// whose processors the workers keep busy. Workers that fill every
// processor otherwise hold a timer's callback on the loop back by a
// millisecond or more, a kernel time slice; at the lowest priority they
// give way at once. On processors with time to spare, nice changes
// nothing; beside other busy programs, the workers get what those leave,
// so give a smaller n for a pool that must keep its share. Zero leaves the
// workers this process's nice value. n below 0 panics: a worker above its
// parent's priority needs privileges.
func WithWorkerNice(n int) Option {
	atLeast("WithWorkerNice", n, 0)
	return func(c *config) { c.nice = n }
}

// WithMaxFrame sets the largest frame, in bytes, that may cross a worker's
// pipes in either direction (default [DefaultMaxFrame], 16 MiB). An argument
// or a result that does not fit fails its task with [ErrFrameTooLarge]; a
// worker that sends a longer frame anyway is killed. n below 1024 panics.
func WithMaxFrame(n int) Option {
	atLeast("WithMaxFrame", n, 1024)
	return func(c *config) { c.maxFrame = n }
}

// WithStartTimeout bounds the time from starting a worker process to the end
// of its handshake (default [DefaultStartTimeout], 10 s). A worker that takes
// longer is killed, and counts as a failed start. d must be positive.
func WithStartTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("process: WithStartTimeout(%v): need a positive duration", d))
	}
	return func(c *config) { c.startTimeout = d }
}

// WithCodec sets how arguments and results are encoded (default [Gob]).
// The codec must have been registered with [RegisterCodec] (as Gob is), so
// that workers find it by name. A nil c panics.
func WithCodec(c Codec) Option {
	if c == nil {
		panic("process: WithCodec: nil Codec")
	}
	return func(cfg *config) { cfg.codec = c }
}

// WithLogger sets the logger that receives each line the workers write on
// stderr (at level Info, with their pid), and the pool's own reports: workers
// that went away, failed starts (default [slog.Default] at the time
// [NewPool] is called).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithEnv adds "KEY=value" entries to the environment that workers inherit
// from this process; later entries win over earlier ones and over inherited
// ones. An entry without "=" panics.
func WithEnv(kv ...string) Option {
	for _, e := range kv {
		if !validEnv(e) {
			panic(fmt.Sprintf("process: WithEnv(%q): want KEY=value", e))
		}
	}
	kv = append([]string(nil), kv...)
	return func(c *config) { c.env = append(c.env, kv...) }
}

// WithDir sets the working directory of the workers (default: this
// process's).
func WithDir(dir string) Option {
	return func(c *config) { c.dir = dir }
}

func validEnv(e string) bool {
	for i := 1; i < len(e); i++ {
		if e[i] == '=' {
			return true
		}
	}
	return false
}

// atLeast panics, naming the option, if its argument n is below least.
func atLeast(option string, n, least int) {
	switch {
	case n >= least:
	case least == 0:
		panic(fmt.Sprintf("process: %s(%d): negative", option, n))
	default:
		panic(fmt.Sprintf("process: %s(%d): need at least %d", option, n, least))
	}
}
