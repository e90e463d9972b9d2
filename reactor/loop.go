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
	var batch []func()
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
		batch, at = r.queue.take(batch)
		if len(batch) > 0 {
			if idl != nil {
				r.busy(*idl)
			}
			lag = max(lag, r.elapsed()-at)
			for i, f := range batch {
				batch[i] = nil
				r.runOne(f)
			}
			if cap(batch) > 1<<16 {
				batch = nil // let a burst's buffer go
			}
		}
		if lag >= 0 {
			r.lag.add(lag)
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

// runOne runs one callback on the reactor goroutine. A panic is recovered
// and logged; the watchdog learns when a callback it reported has ended.
func (r *Reactor) runOne(f func()) {
	g := r.gen.Add(1)
	defer func() {
		if v := recover(); v != nil {
			r.logPanic("reactor: callback panicked", v)
		}
		if r.wd != nil && r.wd.stalled.Load() == g {
			r.wd.ended(g)
		}
	}()
	f()
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
