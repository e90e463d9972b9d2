package reactor

import (
	"time"

	"github.com/twinego/twine/deferred"
)

// loop runs due timers and queued functions until shutdown has finished and
// no DeferToGoroutine function is still running. Between passes it lends
// its idle time to the first idler that has something to wait for (see
// AddIdler), or else sleeps on one channel receive and one time.Timer reset
// to the earliest due time.
func (r *Reactor) loop() {
	r.runBatch() // what a goroutine ended by runtime.Goexit left
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	defer timer.Stop()
	for {
		lag := time.Duration(-1)
		now := r.elapsed()
		idl := r.idlers.list.Load()
		if next, ok := r.timers.Next(); ok && next <= now {
			if idl != nil {
				r.busy(*idl)
				idl = nil
			}
			lag = now - next
			// Calls scheduled during this pass wait for the next one, so
			// that a call rescheduling itself cannot starve the queue.
			mark := r.timers.Mark()
			for {
				f, ok := r.timers.PopDueBefore(now, mark)
				if !ok {
					break
				}
				r.runOne(f)
			}
		}

		var at time.Duration
		r.batch, at = r.queue.take(r.batch)
		r.next = 0
		if len(r.batch) > 0 {
			if idl != nil {
				r.busy(*idl)
			}
			lag = max(lag, r.elapsed()-at)
			r.runBatch()
		}
		if lag >= 0 {
			r.lag.add(lag)
			r.poll() // work was done: look for events without waiting
		}
		if r.shutdownDone && r.pool.idle() {
			return
		}
		if testHookBeforeSleep != nil {
			testHookBeforeSleep(r)
		}

		// Announce the sleep first, then look for work: a producer queues
		// first, then looks for a sleeper, so one of the two sees the other.
		// The pool's last goroutine after shutdown is such a producer: it
		// ends, then looks for a sleeper.
		r.sleeping.Store(true)
		if r.queue.len() > 0 || (r.shutdownDone && r.pool.idle()) {
			r.sleeping.Store(false)
			continue
		}
		d := time.Duration(-1)
		if next, ok := r.timers.Next(); ok {
			if d = next - r.elapsed(); d <= 0 {
				r.sleeping.Store(false)
				continue
			}
		}
		if idl := r.idlers.list.Load(); idl != nil {
			if run, ok := r.idle(*idl, d); ok {
				r.sleeping.Store(false)
				select { // a poke meant for this wait
				case <-r.wake:
				default:
				}
				r.wakeups.Add(1)
				if r.wd != nil {
					r.wd.awake()
				}
				if run != nil {
					r.runOne(run)
				}
				continue
			}
		}
		if d >= 0 {
			timer.Reset(d)
			armed = true
		} else if armed {
			timer.Stop()
			armed = false
		}
		select {
		case <-r.wake:
		case <-timer.C:
			armed = false
		}
		r.sleeping.Store(false)
		r.wakeups.Add(1)
		if r.wd != nil {
			r.wd.awake()
		}
	}
}

// wakeIfSleeping wakes the reactor goroutine if it sleeps or is about to.
func (r *Reactor) wakeIfSleeping() {
	if r.sleeping.Load() {
		r.poke()
	}
}

// poke makes the reactor's next (or current) sleep end at once.
func (r *Reactor) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
	r.wakeIdlers()
}

// runBatch runs the functions of r.batch from r.next on, then empties it
// for the next take. r.next moves past each function before it runs, so
// that the goroutine that takes over after one calls runtime.Goexit goes on
// with the next.
func (r *Reactor) runBatch() {
	for r.next < len(r.batch) {
		f := r.batch[r.next]
		r.batch[r.next] = nil
		r.next++
		r.runOne(f)
	}
	r.batch, r.next = r.batch[:0], 0
	if cap(r.batch) > 1<<16 {
		r.batch = nil // let a burst's buffer go
	}
}

// runOne runs one callback on the reactor goroutine. A panic is recovered
// and logged; a runtime.Goexit is noted for serve, which reports it; the
// watchdog learns when a callback it reported has ended.
func (r *Reactor) runOne(f func()) {
	g := r.gen.Add(1)
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				r.logPanic("reactor: callback panicked", v)
			} else {
				r.noteGoexit(f, "callback")
			}
		}
		if r.wd != nil && r.wd.stalled.Load() == g {
			r.wd.ended(g)
		}
	}()
	f()
	returned = true
}

// logPanic logs a recovered panic value v as a *deferred.PanicError, with
// its stack and attrs. Call it inside the deferred function that recovered
// v, so that the stack is the panicking goroutine's.
func (r *Reactor) logPanic(msg string, v any, attrs ...any) {
	pe := deferred.NewPanicError(v)
	r.log.Error(msg, append(attrs, "err", pe, "stack", stackValue(pe.Stack))...)
}

// testHookBeforeSleep, when set by a test, runs on the reactor goroutine
// each time the loop has found nothing to do, just before it announces its
// sleep.
var testHookBeforeSleep func(r *Reactor)
