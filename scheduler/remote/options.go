package remote

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/twinego/twine/scheduler/process"
)

// Option configures a [Pool] ([NewPool]), a [Worker] ([NewWorker]) or the
// functions that reach the dead-letter queue ([ListDead], [ReplayDead],
// [DeleteQueue]). Each option says what it applies to; the others ignore it.
// An option given a value it cannot take panics at once, naming itself.
type Option func(*config)

// Defaults for the options.
const (
	// DefaultURL is the broker's address when neither [WithURL] nor the
	// environment variable named by [EnvURL] gives one.
	DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"
	// EnvURL names the environment variable read for the broker's
	// address when [WithURL] is not given.
	EnvURL = "TWINE_AMQP_URL"

	DefaultQueue          = "twine"
	DefaultMaxInFlight    = 1024
	DefaultDeliveryLimit  = 5
	DefaultHeartbeat      = 10 * time.Second
	DefaultConnectTimeout = 30 * time.Second
	DefaultReconnectMin   = 100 * time.Millisecond
	DefaultReconnectMax   = 5 * time.Second
	DefaultResultExpiry   = 10 * time.Minute
	DefaultDrainTimeout   = 30 * time.Second
	DefaultMaxMessage     = 16 << 20
)

type config struct {
	url            string
	queue          string
	logger         *slog.Logger
	codec          process.Codec
	maxInFlight    int
	concurrency    int
	deliveryLimit  int
	taskTimeout    time.Duration
	heartbeat      time.Duration
	connectTimeout time.Duration
	reconnectMin   time.Duration
	reconnectMax   time.Duration
	resultExpiry   time.Duration
	drainTimeout   time.Duration
	maxMessage     int
}

func newConfig(method string, opts []Option) config {
	c := config{
		queue:          DefaultQueue,
		codec:          process.Gob(),
		maxInFlight:    DefaultMaxInFlight,
		concurrency:    runtime.GOMAXPROCS(0),
		deliveryLimit:  DefaultDeliveryLimit,
		heartbeat:      DefaultHeartbeat,
		connectTimeout: DefaultConnectTimeout,
		reconnectMin:   DefaultReconnectMin,
		reconnectMax:   DefaultReconnectMax,
		resultExpiry:   DefaultResultExpiry,
		drainTimeout:   DefaultDrainTimeout,
		maxMessage:     DefaultMaxMessage,
	}
	for _, o := range opts {
		if o == nil {
			panic("remote: " + method + ": nil Option")
		}
		o(&c)
	}
	if c.url == "" {
		c.url = os.Getenv(EnvURL)
	}
	if c.url == "" {
		c.url = DefaultURL
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c
}

// WithURL sets the broker's address, an AMQP 0-9-1 URI such as
// "amqp://user:password@host:5672/vhost" (default: the environment variable
// TWINE_AMQP_URL, or [DefaultURL] if it is empty). It applies to everything.
// An empty url panics.
func WithURL(url string) Option {
	if url == "" {
		panic("remote: WithURL: empty URL")
	}
	return func(c *config) { c.url = url }
}

// WithQueue sets the name of the task queue (default [DefaultQueue]); the
// names of the other parts of the topology derive from it (see [Pool]).
// Callers and workers meet on it: give both the same. It applies to
// everything. A name that is empty, starts with "amq." (the broker's own),
// or holds control characters panics.
func WithQueue(name string) Option {
	if name == "" || strings.HasPrefix(name, "amq.") || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }) || len(name) > 200 {
		panic(fmt.Sprintf("remote: WithQueue(%q): want printable text up to 200 bytes, not starting with amq.", name))
	}
	return func(c *config) { c.queue = name }
}

// WithLogger sets the logger of the state changes (connected, connection
// lost, reconnecting, draining) and of the tasks rejected or abandoned
// (default [slog.Default] at the time the Pool or Worker is made). It
// applies to everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithCodec sets how a [Pool] encodes arguments and decodes results (default
// process.Gob()). The codec must be registered with process.RegisterCodec in
// the workers' executables too, where they find it by name. Each message is
// decoded alone, as it may reach any worker: a codec that is a
// process.MessageCodec (gob is) makes such messages itself; another one is
// given a new Encoder and Decoder for each message. A nil codec panics.
func WithCodec(codec process.Codec) Option {
	if codec == nil {
		panic("remote: WithCodec: nil Codec")
	}
	return func(c *config) { c.codec = codec }
}

// WithMaxInFlight caps how many tasks a [Pool] has out at once, published
// and not yet answered (default [DefaultMaxInFlight]); later calls wait in
// the pool, in the order they came. n below 1 panics.
func WithMaxInFlight(n int) Option {
	atLeast("WithMaxInFlight", n, 1)
	return func(c *config) { c.maxInFlight = n }
}

// WithConcurrency sets how many tasks a [Worker] runs at once, each on a
// goroutine of its own (default runtime.GOMAXPROCS(0)). It is also the
// worker's prefetch (AMQP's QoS): the broker hands a worker no more tasks
// than it can run, so that a busy worker leaves the rest to idle ones.
// n must be from 1 to 65535.
func WithConcurrency(n int) Option {
	atLeast("WithConcurrency", n, 1)
	if n > 65535 {
		panic(fmt.Sprintf("remote: WithConcurrency(%d): the broker's prefetch stops at 65535", n))
	}
	return func(c *config) { c.concurrency = n }
}

// WithDeliveryLimit sets how many times a task may be delivered without an
// answer before it is abandoned (default [DefaultDeliveryLimit]): it is the
// task queue's delivery limit, so callers and workers must agree on it (the
// broker refuses to declare a queue again with another). A worker runs a
// task on its first n deliveries; the next one it does not run: it fails the
// caller with a [*DeadLetterError] and hands the task back, which the broker
// then moves to the dead-letter queue. n must be from 1 to 1000.
func WithDeliveryLimit(n int) Option {
	atLeast("WithDeliveryLimit", n, 1)
	if n > 1000 {
		panic(fmt.Sprintf("remote: WithDeliveryLimit(%d): at most 1000", n))
	}
	return func(c *config) { c.deliveryLimit = n }
}

// WithTaskTimeout bounds a task's time (default: no bound). For a [Pool],
// a task that has no answer d after its call fails with [ErrTimeout] (the
// timer runs on the pool's loop), and the workers are told to drop it or
// cancel its context; the workers also get the bound with the task, as the
// deadline of its function's context. For a [Worker], it bounds how long a
// function may run, whatever its caller says: at d its context ends and the
// worker answers [ErrTimeout] for it at once. The function's goroutine
// cannot be killed: it is left to finish, and what it returns is dropped.
// Zero or a negative d sets no bound.
func WithTaskTimeout(d time.Duration) Option {
	return func(c *config) { c.taskTimeout = d }
}

// WithHeartbeat sets the AMQP heartbeat interval (default
// [DefaultHeartbeat]): a connection that stays silent for about three of
// them is taken for dead, closed and opened again. The broker may lower
// it. It applies to everything. d below one second panics.
func WithHeartbeat(d time.Duration) Option {
	if d < time.Second {
		panic(fmt.Sprintf("remote: WithHeartbeat(%v): at least 1s", d))
	}
	return func(c *config) { c.heartbeat = d }
}

// WithConnectTimeout bounds the attempts to make the first connection of a
// Pool or a Worker, or the connection of the dead-letter functions (default
// [DefaultConnectTimeout]); the attempts are logged, spaced as for
// reconnecting. A connection lost later is made again for as long as it
// takes. A refused login is not retried. d must be positive.
func WithConnectTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("remote: WithConnectTimeout(%v): need a positive duration", d))
	}
	return func(c *config) { c.connectTimeout = d }
}

// WithReconnect sets the delays between attempts to connect (defaults
// [DefaultReconnectMin], [DefaultReconnectMax]): the first waits about min,
// each next one twice as long as the one before, up to max, each with
// random jitter, so that many clients that lost the broker at once do not
// come back at once. It applies to Pools and Workers. min must be positive
// and at most max.
func WithReconnect(min, max time.Duration) Option {
	if min <= 0 || max < min {
		panic(fmt.Sprintf("remote: WithReconnect(%v, %v): need 0 < min <= max", min, max))
	}
	return func(c *config) { c.reconnectMin, c.reconnectMax = min, max }
}

// WithResultExpiry sets how long a [Pool]'s result queue outlives its
// caller (default [DefaultResultExpiry]): the broker deletes a result queue
// that has had no consumer for that long, with the results in it. A pool that
// reconnects within it finds the results that came meanwhile; one that
// finds its queue gone publishes its unanswered tasks again. d must be at
// least one second.
func WithResultExpiry(d time.Duration) Option {
	if d < time.Second {
		panic(fmt.Sprintf("remote: WithResultExpiry(%v): at least 1s", d))
	}
	return func(c *config) { c.resultExpiry = d }
}

// WithDrainTimeout bounds how long a [Worker] whose Run context has ended
// waits for the tasks it runs (default [DefaultDrainTimeout]); tasks still
// running then are left to the broker, which gives them to another worker.
// Zero or a negative d waits for none.
func WithDrainTimeout(d time.Duration) Option {
	return func(c *config) { c.drainTimeout = d }
}

// WithMaxMessage sets the largest argument or result, in bytes, once encoded
// (default [DefaultMaxMessage], 16 MiB; RabbitMQ refuses messages above its
// max_message_size, 128 MiB by default). A [Pool] fails a call whose argument
// is larger with [ErrTooLarge]; a [Worker] answers [ErrTooLarge] for a result
// that is. n below 1024 panics.
func WithMaxMessage(n int) Option {
	atLeast("WithMaxMessage", n, 1024)
	return func(c *config) { c.maxMessage = n }
}

// atLeast panics, naming the option, if its argument n is below least.
func atLeast(option string, n, least int) {
	if n < least {
		panic(fmt.Sprintf("remote: %s(%d): need at least %d", option, n, least))
	}
}
