package cooperate

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/twinego/twine/scheduler"
)

// DefaultSlice is how much wall time a [Cooperator] gives its tasks in each
// slice unless told otherwise: 10 ms, as Twisted's Cooperator.
const DefaultSlice = 10 * time.Millisecond

// tickDelay is the delay with which the default scheduling function asks the
// loop for the next slice: Twisted's _EPSILON. A loop runs a call made with
// it after whatever else is due, and a ManualClock runs at most one slice per
// Advance.
const tickDelay = time.Nanosecond

// An Option configures a [Cooperator] made by [New].
type Option func(*config)

// sliceMode says what ends a slice.
type sliceMode uint8

const (
	modeFixed      sliceMode = iota // a wall-time budget (WithSlice)
	modeAdaptive                    // a budget sized to a lag target (WithAdaptive)
	modeTerminator                  // a user predicate (WithTerminator)
)

type config struct {
	mode      sliceMode
	slice     time.Duration
	target    time.Duration
	factory   func() func() bool
	schedule  func(tick func()) scheduler.Call
	turnSteps int
	logger    *slog.Logger
	lanes     int  // worker goroutines that run the steps; 0: the loop runs them
	strict    bool // slices end only when their budget is spent (WithStrictSlices)
}

// WithSlice sets the wall time each slice may take (default [DefaultSlice]).
// The Cooperator does not read the clock per step: a task reads it about
// every 100 µs of work (or a sixteenth of the slice, if shorter), learning
// from its steps' cost how many steps that is, so a slice lasts d plus at
// most that much work, or the rest of a longer step under way. Should steps
// suddenly take far longer than the task has learnt, a timer ends the slice
// at most 10 ms after its deadline. The Cooperator measures how far its
// slices overrun and ends them that much earlier (never below d/2), so
// slices take d of wall time on average.
//
// On a loop that can say that other work waits for it (a
// [scheduler.Yielder]: the reactor, whose sockets, queued calls and due
// timers it reports), a slice also ends early: from 1 ms into the slice
// (or half of d, if shorter), the Cooperator asks the loop about once a
// millisecond, and ends the slice when something waits. Data that arrives
// on a socket while tasks run then waits about a millisecond, not the rest
// of the slice; with nothing else to do, the tasks keep whole slices. This
// goes beyond Twisted, whose slices always run to their end:
// [WithStrictSlices] keeps Twisted's way.
//
// WithSlice, [WithAdaptive] and [WithTerminator] each decide what ends a
// slice; the last one given wins. A d that is not positive panics.
func WithSlice(d time.Duration) Option {
	if d <= 0 {
		panic("cooperate: WithSlice: slice must be positive")
	}
	return func(c *config) {
		c.mode = modeFixed
		c.slice = d
	}
}

// WithAdaptive sizes each slice so that the loop's lag stays under target:
// a callback that becomes due while the tasks run waits for at most about
// target before the loop runs it. The Cooperator measures, with one clock
// read per slice, how long the loop takes to come back to it (the other
// work it does between slices) and how far its slices overrun their
// deadline, and gives each slice the rest of target, but never less than a
// sixteenth of it. This goes beyond Twisted, whose slices have a fixed
// length.
//
// WithSlice, WithAdaptive and [WithTerminator] each decide what ends a
// slice; the last one given wins. A target that is not positive panics.
func WithAdaptive(target time.Duration) Option {
	if target <= 0 {
		panic("cooperate: WithAdaptive: target must be positive")
	}
	return func(c *config) {
		c.mode = modeAdaptive
		c.target = target
	}
}

// WithStrictSlices makes slices end only when their budget ([WithSlice],
// [WithAdaptive]) is spent, as Twisted's do, even on a loop that says other
// work waits for it (see [WithSlice]): what waits, waits for the end of
// the slice.
func WithStrictSlices() Option {
	return func(c *config) { c.strict = true }
}

// WithTerminator replaces the wall-time slice by a predicate, as Twisted's
// terminationPredicateFactory: factory is called at the start of each slice
// and the predicate it returns is asked after every step of that slice; the
// slice ends as soon as it returns true. Predicates run on the loop's
// goroutine ([WithLanes]: on the lanes'). A predicate (or factory) that
// panics ends the slice, and the panic is logged; one that calls
// [runtime.Goexit] is logged too, and ends the slice and the loop's
// goroutine (a lane goes on); asked within a step, inside the task's
// iterator, it fails that task as a step's runtime.Goexit does ([Task]).
//
// With a terminator, tasks take turns one step at a time (times their
// weight), exactly as in Twisted, unless [WithTurnSteps] says otherwise.
// Asking the predicate costs a call per step: use it for deterministic tests
// and step-counting budgets, and the default wall-time slice for speed.
//
// [WithSlice], [WithAdaptive] and WithTerminator each decide what ends a
// slice; the last one given wins. A nil factory panics.
func WithTerminator(factory func() func() bool) Option {
	if factory == nil {
		panic("cooperate: WithTerminator: nil factory")
	}
	return func(c *config) {
		c.mode = modeTerminator
		c.factory = factory
	}
}

// WithScheduler sets how the Cooperator asks for its next slice: Twisted's
// scheduler argument. schedule must arrange for tick to run once, later, on
// the loop's goroutine, and return the [scheduler.Call] that would cancel it
// (or nil if it cannot be cancelled: a tick that runs after it is no longer
// wanted does nothing). It must not run tick before returning.
//
// The default is loop.CallLater(1ns, tick), as Twisted's callLater(_EPSILON):
// the loop runs whatever else is due between two slices, and a
// [scheduler.ManualClock] runs one slice per Advance. With [WithLanes] the
// loop runs no slices, so there is nothing to schedule: [New] panics if both
// are given. A nil schedule panics.
func WithScheduler(schedule func(tick func()) scheduler.Call) Option {
	if schedule == nil {
		panic("cooperate: WithScheduler: nil function")
	}
	return func(c *config) {
		c.schedule = schedule
	}
}

// WithTurnSteps fixes how many steps a task takes in one turn before the
// next task's turn, for a task of weight 1 (a task of weight w takes n*w).
// WithTurnSteps(1) gives Twisted's strict alternation under any slice
// policy.
//
// By default, turns under a wall-time slice ([WithSlice], [WithAdaptive])
// are sized from the measured cost of a step so that each runnable task gets
// about two turns per slice, a turn lasting between 100 µs and 1 ms (and at
// least one step): switching tasks costs a coroutine switch, which the
// Cooperator then pays once per turn instead of once per step. Under
// [WithTerminator] a turn is one step by default. A task alone in its
// Cooperator never yields its turn. An n below 1 panics.
func WithTurnSteps(n int) Option {
	if n < 1 {
		panic("cooperate: WithTurnSteps: steps must be at least 1")
	}
	return func(c *config) {
		c.turnSteps = n
	}
}

// WithLogger sets where the Cooperator reports what it cannot hand to
// anyone: a task that fails while nobody waits on its [Task.Done], a
// terminator that panics. The default is [slog.Default]. A nil logger
// panics.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("cooperate: WithLogger: nil logger")
	}
	return func(c *config) {
		c.logger = l
	}
}

// WithLanes runs the tasks' steps on n worker goroutines, the lanes, instead
// of on the loop; n <= 0 means runtime.GOMAXPROCS(0) at the time WithLanes
// is called. Use it for CPU-bound tasks that should use every core while
// their results, and everything else, stay on the loop.
//
// Each lane runs slices of its own, exactly as a Cooperator without lanes
// runs them on its loop: the same budget ([WithSlice], [WithAdaptive] or
// [WithTerminator]), the same turns ([WithTurnSteps]) and weights. A new
// task goes to the lane with the fewest runnable tasks; a lane left with
// nothing to run asks the busiest lane for work, which hands over one of its
// runnable tasks at the end of its current slice, never during a step. So a
// short task added behind many long ones takes turns with them at once,
// where a first-in first-out pool would make it wait for them.
//
// With lanes, a task's iterator and step function run on a lane goroutine,
// concurrently with the loop and with other tasks: they must not touch state
// that belongs to the loop (and must not call methods of the Cooperator or
// of a Task), unless they synchronize with it. One task's steps never run
// concurrently with each other, even when the task moves to another lane.
// Termination predicates ([WithTerminator]) run on the lanes too, and must
// be safe to use from several goroutines at once. Everything the Cooperator
// hands out stays on the loop: the [Task] methods are still called there,
// and [Task.Done] Deferreds fire there, through the loop's CallSoon, once
// the task's iterator has been released, so callbacks may read what its steps
// wrote. A Deferred a task waits on may fire on any goroutine: the task then
// resumes on its lane. A step that panics or calls [runtime.Goexit] fails
// its task, and the lane goes on with the others (see [Task]).
//
// It is an option rather than a constructor of its own because nothing else
// changes: [Each], [Cooperator.Cooperate], [Coiterate] and the [Task] API
// stay the same, so code moves its loops off the loop by adding one
// argument. The lanes start with the first task and run until
// [Cooperator.Stop], which stops them and waits for them. WithLanes cannot be
// combined with [WithScheduler]: [New] panics.
func WithLanes(n int) Option {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return func(c *config) {
		c.lanes = n
	}
}
