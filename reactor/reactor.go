package reactor

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Reactor is an event loop: Twisted's reactor. [Reactor.Run] starts the
// reactor goroutine and waits for it, and every function given to
// CallSoon, CallLater and CallWhenRunning, every system event trigger and
// every [DeferToGoroutine] result runs there, one at a time, never
// concurrently, so the state they share needs no locks.
//
// CallSoon, CallLater, CallWhenRunning, Stop, Now, Running, Stats and the
// trigger methods are safe to call from any goroutine, at any time. A
// reactor runs once: create it with [New], call Run, and Run returns after
// Stop's orderly shutdown has finished.
//
// When the reactor has nothing to do, its goroutine sleeps until the next
// timer is due or another goroutine hands it work: it never polls. An
// [scheduler.Idler] added with [Reactor.AddIdler] may wait in its place,
// for events of its own; the process pools' does so, and may spin a little
// first. A panic in a callback is recovered, logged through the reactor's
// [slog.Logger] as a [*deferred.PanicError], and the loop goes on; a
// callback that calls [runtime.Goexit] is logged and shuts the reactor
// down (see [Reactor.Run]).
//
// *Reactor implements [scheduler.Loop], so a Cooperator can run on it.
type Reactor struct {
	cfg    config
	log    *slog.Logger
	epoch  time.Time
	timers *scheduler.Timers
	queue  soonQueue

	state    atomic.Int32  // stateNew … stateStopped
	running  atomic.Bool   // between the startup and shutdown "during" phases
	sleeping atomic.Bool   // the reactor goroutine is, or is about to be, asleep
	wake     chan struct{} // wakes the sleeping reactor goroutine; capacity 1
	gid      atomic.Uint64 // the reactor goroutine's id, once Run has started
	gen      atomic.Uint64 // callbacks started
	wakeups  atomic.Uint64 // times the reactor goroutine woke from sleep

	events    events
	stopHooks stopHooks
	pool      pool
	idlers    idlers
	pollers   pollers
	lag       lagWindow
	wd        *watchdog

	// Owned by the reactor goroutine: a goroutine that takes over after
	// runtime.Goexit (see serve) goes on from where these stand.
	shutdownDone bool         // the shutdown event has fired
	loopDone     bool         // the loop has ended; finish runs
	finishing    bool         // finish has told the idlers and closed the timers
	batch        []func()     // the CallSoon functions being run
	next         int          // the next of them to run
	cont         func()       // runs first on the next goroutine: an event going on
	exiting      *GoexitError // the function ending the goroutine now
	exitErr      error        // the first such function, for Run to return

	bgStop chan struct{}  // closed to stop the helper goroutines
	bg     sync.WaitGroup // the watchdog and signal goroutines
}

const (
	stateNew int32 = iota
	stateRunning
	stateStopping
	stateStopped
)

// New returns a reactor that is not running yet. Functions may be scheduled
// on it before [Reactor.Run]: they run once it runs.
func New(opts ...Option) *Reactor {
	cfg := newConfig(opts)
	r := &Reactor{
		cfg:    cfg,
		log:    cfg.logger,
		epoch:  time.Now(),
		wake:   make(chan struct{}, 1),
		bgStop: make(chan struct{}),
	}
	r.timers = scheduler.NewTimers(r.epoch, r.elapsed, r.wakeIfSleeping)
	r.queue.now = r.elapsed
	r.pool.init(cfg.maxGoroutines, r.wakeIfSleeping)
	if cfg.watchdog > 0 {
		r.wd = newWatchdog(r, cfg.watchdog)
	}
	return r
}

// elapsed is the reactor's time, counted from its creation. It reads only
// the monotonic clock.
func (r *Reactor) elapsed() time.Duration {
	return time.Since(r.epoch)
}

// Now returns the reactor's current time (the time of day, with a monotonic
// reading): Twisted's seconds().
func (r *Reactor) Now() time.Time {
	return r.timers.At(r.elapsed())
}

// Running reports whether the reactor is running: true from the start of the
// startup event's "during" phase to the start of the shutdown event's
// "during" phase, as Twisted's reactor.running.
func (r *Reactor) Running() bool {
	return r.running.Load()
}

// CallSoon runs f on the reactor goroutine as soon as possible, after the
// functions given before it: Twisted's callFromThread (and callLater(0)).
// It is safe from any goroutine and costs a few tens of nanoseconds; it wakes
// the reactor only if it sleeps.
//
// Every function CallSoon accepts before the reactor has shut down runs,
// even during shutdown. Once [Reactor.Run] has returned, CallSoon drops f
// without running it. A nil f panics.
func (r *Reactor) CallSoon(f func()) {
	if f == nil {
		panic("reactor: Reactor.CallSoon: nil function")
	}
	r.enqueue(f)
}

// enqueue queues f and wakes the reactor if it sleeps; it reports false if
// the reactor has shut down.
func (r *Reactor) enqueue(f func()) bool {
	first, ok := r.queue.push(f)
	if first && r.sleeping.Load() {
		r.poke()
	}
	return ok
}

// TryCallSoon is [Reactor.CallSoon] that reports whether the reactor took
// f: it returns false, and f never runs, once [Reactor.Run] has shut the
// reactor down (see [Reactor.Stopped]). Pools and other code that deliver
// results from other goroutines use it to tell a result they could hand
// over from one that would be lost. A nil f panics.
func (r *Reactor) TryCallSoon(f func()) bool {
	if f == nil {
		panic("reactor: Reactor.TryCallSoon: nil function")
	}
	return r.enqueue(f)
}

// Stopped reports whether the reactor has shut down for good: its shutdown
// event has fired, Run has run the functions queued with CallSoon, and
// those they queued in turn, and runs nothing more; from now on CallSoon
// drops what it is given and CallLater returns an inactive Call. A reactor
// that has not run yet, or is still shutting down, has not stopped. Safe
// from any goroutine.
func (r *Reactor) Stopped() bool {
	return r.queue.isClosed()
}

// CallLater runs f on the reactor goroutine once d has passed (a negative d
// counts as zero): Twisted's callLater. The returned [scheduler.Call] can
// cancel, reset or delay it from any goroutine, and its String describes it
// as Twisted's DelayedCall repr does. Calls due at the same time run in the
// order they were scheduled.
//
// After the reactor has shut down, CallLater returns a Call that is already
// inactive: f never runs, Active reports false, and Cancel returns
// [scheduler.ErrAlreadyCancelled]. Calls still pending at shutdown are
// cancelled. A nil f panics.
func (r *Reactor) CallLater(d time.Duration, f func()) scheduler.Call {
	if f == nil {
		panic("reactor: Reactor.CallLater: nil function")
	}
	return r.timers.Schedule(d, f)
}

// Pending returns the CallLater calls not yet run nor cancelled, sorted by
// due time (ties in scheduling order): Twisted's getDelayedCalls. The slice
// is a snapshot. It is safe from any goroutine.
func (r *Reactor) Pending() []scheduler.Call {
	return r.timers.Pending()
}

// CallWhenRunning runs f on the reactor goroutine once the reactor is
// running: before Run, and while startup is in progress, as an "after
// startup" trigger; once startup has finished, as CallSoon does (Twisted
// calls f at once then; twine queues it so that f always runs on the reactor
// goroutine). After the reactor has shut down, f is dropped. A nil f panics.
func (r *Reactor) CallWhenRunning(f func()) {
	if f == nil {
		panic("reactor: Reactor.CallWhenRunning: nil function")
	}
	if r.events.addIfNotDone(Startup, After, func() *deferred.Deferred[struct{}] { f(); return nil }, f) {
		return
	}
	r.enqueue(f)
}

// Run runs the reactor until it has been stopped and has shut down. It
// fires the startup event, runs callbacks as they come due, and after
// [Reactor.Stop] fires the shutdown event. Before returning it waits for
// the goroutines that [DeferToGoroutine] started and delivers their
// results, runs every function CallSoon accepted, and cancels the timers
// still pending. With nothing to do, Run waits until it is stopped, as
// Twisted's reactor.run does: while a reactor runs, the Go runtime never
// ends the program as deadlocked ("all goroutines are asleep"), even when
// every goroutine waits. (Inside a testing/synctest bubble, a reactor that
// nothing will stop is still reported as a deadlock by the bubble.)
//
// The callbacks run on the reactor goroutine, which Run starts and then
// waits for: a callback that ends its goroutine with [runtime.Goexit] (as
// t.FailNow does) ends only that goroutine, never Run's caller. Go cannot
// undo such an exit, so the reactor takes it as a fault: it logs a
// [*GoexitError] naming the function, goes on on a new reactor goroutine
// with the work that was queued, and shuts down in order (an event that
// was firing goes on with its next trigger); Run then returns the error.
//
// A reactor runs once: Run on a reactor that is running or has run returns
// [ErrAlreadyRun] at once. Run otherwise returns nil, or the
// [*GoexitError] of the first function that ended the reactor goroutine.
func (r *Reactor) Run() error {
	if !r.state.CompareAndSwap(stateNew, stateRunning) {
		return ErrAlreadyRun
	}
	holdKeepAlive()
	defer releaseKeepAlive()
	r.startHelpers()
	r.cont = func() { r.fireEvent(Startup, nil) }
	done := make(chan bool, 1)
	for {
		go r.serve(done)
		if <-done {
			break
		}
	}
	r.state.Store(stateStopped)
	return r.exitErr
}

// serve is the reactor goroutine: it runs the loop, then finishes the
// reactor off, and sends true on done. A function that ends the goroutine
// with runtime.Goexit makes it send false instead, once it has reported
// the exit, and Run starts another serve, which goes on from where this
// one stood.
func (r *Reactor) serve(done chan<- bool) {
	finished := false
	defer func() {
		if !finished {
			r.goexited()
		}
		done <- finished
	}()
	r.gid.Store(goid())
	if f := r.cont; f != nil {
		r.cont = nil
		r.runOne(f)
	}
	if !r.loopDone {
		r.loop()
		r.loopDone = true
	}
	r.finish()
	finished = true
}

// Stop starts an orderly shutdown, from any goroutine: the reactor fires the
// shutdown event (before, during and after phases, waiting for the Deferreds
// of before-shutdown triggers) and then Run returns. Stop returns at once,
// with [ErrNotRunning] if the reactor has not started, is already stopping,
// or has stopped.
func (r *Reactor) Stop() error {
	if !r.state.CompareAndSwap(stateRunning, stateStopping) {
		return ErrNotRunning
	}
	r.enqueue(r.shutdown)
	return nil
}

// shutdown fires the shutdown event; when it has finished, the loop ends as
// soon as no DeferToGoroutine function is running any more.
func (r *Reactor) shutdown() {
	r.fireEvent(Shutdown, func() {
		r.shutdownDone = true
		// Each job that never started is failed by a callback of its own,
		// so that the others are failed too should one's errback call
		// runtime.Goexit.
		for _, j := range r.pool.close() {
			r.enqueue(j.stop)
		}
	})
}

// finish tears the reactor down once the loop has ended. It may run again,
// on a new goroutine, after a leftover function called runtime.Goexit.
func (r *Reactor) finish() {
	if !r.finishing {
		r.finishing = true
		r.idlers.done.Store(true)
		if list := r.idlers.list.Load(); list != nil {
			r.busy(*list) // the idlers must not count on the loop any more
		}
		r.timers.Close()
		// The OnStop functions go first, as a batch, so that one that ends
		// the goroutine leaves the others to the goroutine that takes over.
		r.batch, r.next = append(r.batch[:0], r.stopHooks.take()...), 0
	}
	// Run what CallSoon took, and what that queues in turn, until nothing
	// is left: only then does the queue refuse work, so that once Stopped
	// reports true nothing more runs here. A function that keeps queueing
	// itself is cut off after maxDrainRounds: what it queues then is
	// refused (TryCallSoon says so).
	for round := 0; ; round++ {
		r.runBatch()
		var ok bool
		r.batch, ok = r.queue.drain(r.batch, round >= maxDrainRounds)
		r.next = 0
		if !ok {
			break
		}
	}
	r.runBatch()
	close(r.bgStop)
	r.bg.Wait()
	r.pool.wait()
}

// maxDrainRounds bounds the rounds of functions that finish runs after the
// loop has ended.
const maxDrainRounds = 1000

var _ scheduler.StopNotifier = (*Reactor)(nil)
