package reactor

import (
	"log/slog"
	"os"
	"syscall"
	"time"
)

// Option configures a [Reactor] in [New].
type Option func(*config)

type config struct {
	logger          *slog.Logger
	watchdog        time.Duration
	shutdownTimeout time.Duration
	maxGoroutines   int
	signals         []os.Signal
}

// Defaults for the options.
const (
	DefaultWatchdog        = 100 * time.Millisecond
	DefaultShutdownTimeout = 10 * time.Second
	DefaultMaxGoroutines   = 10
)

func newConfig(opts []Option) config {
	c := config{
		watchdog:        DefaultWatchdog,
		shutdownTimeout: DefaultShutdownTimeout,
		maxGoroutines:   DefaultMaxGoroutines,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}

// WithLogger sets the logger the reactor reports through: recovered panics,
// failed shutdown triggers, the shutdown timeout, signals and the watchdog.
// The default is [slog.Default] at the time [New] is called.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithWatchdog sets how long one callback may hold the loop before the
// watchdog reports it (default [DefaultWatchdog], 100 ms). Zero or a
// negative d turns the watchdog off.
//
// While the reactor is awake, a watchdog goroutine samples it every quarter
// of d; while the reactor sleeps, so does the watchdog. A callback that has
// held the loop for d is reported once, at a Warn level, while it still
// runs, with the reactor goroutine's stack: between d and 1.25 d after it
// started. When it returns, a second record gives the time it held the loop,
// counted from the watchdog's first sight of it, so up to d/4 short.
func WithWatchdog(d time.Duration) Option {
	return func(c *config) { c.watchdog = d }
}

// WithShutdownTimeout bounds how long shutdown waits for the Deferreds that
// before-shutdown triggers return (default [DefaultShutdownTimeout], 10 s).
// When it expires, the timeout is logged and shutdown goes on. Zero or a
// negative d waits without limit, as Twisted does.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

// WithMaxGoroutines bounds how many goroutines [DeferToGoroutine] runs
// functions on at once (default [DefaultMaxGoroutines], 10, the size of
// Twisted's default thread pool); further functions wait their turn in
// order. n below 1 panics.
func WithMaxGoroutines(n int) Option {
	if n < 1 {
		panic("reactor: WithMaxGoroutines: n must be at least 1")
	}
	return func(c *config) { c.maxGoroutines = n }
}

// WithSignals makes the reactor turn the given signals into an orderly
// [Reactor.Stop] while it runs; with no arguments, SIGINT and SIGTERM. The
// reactor stops listening for them when it has shut down.
//
// Twisted's reactor.run installs such handlers by default; a twine reactor
// leaves signals alone unless given this option, on purpose. Signal
// handling is the whole process's: a Go program ends on SIGINT unless it
// asks otherwise, and a reactor that caught SIGINT unasked would turn
// Ctrl-C into "stop this reactor" while the rest of the program (or its
// other reactors) ran on. Signals also never reach a reactor inside a
// testing/synctest bubble, where reactors are tested, so a default would
// have every test opt out. A program whose reactor is its whole life, as
// Twisted's are, passes WithSignals() to [New] or [React].
func WithSignals(sigs ...os.Signal) Option {
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	return func(c *config) { c.signals = sigs }
}
