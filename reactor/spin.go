package reactor

import (
	"runtime"
	"time"
)

// Spinning before sleep ([WithSpin]).
//
// Waking a parked goroutine from another one is cheap when the waker's OS
// thread runs it next, but costs microseconds (tens of them on some virtual
// machines) when an idle OS thread must be woken for it: when the producer
// goes on running, or blocks in a system call, after handing over its work.
// A reactor that polls its queue for a moment before sleeping is found
// awake: the producer does not wake it, and the work runs at once.
//
// The reactor spins only where that has lately paid: after a sleep that
// ended by work from another goroutine within the spin's length, and whose
// wake was slow (wakeCostToSpin or more, from the queueing of the work to
// the reactor taking it). An idle reactor, or one whose work comes from its
// timers, or rarely, or through cheap wakes, never spins. A spin that finds
// nothing, or finds work later than sleeping has lately got it (the spin
// took a core that the producer needed), makes the reactor let its next 1,
// 2, 4 … 64 chances to spin go; after spinResample spins in a row that paid,
// it sleeps once, to measure a wake again.

// wakeCostToSpin is the least wake cost that makes spinning worth it.
const wakeCostToSpin = 5 * time.Microsecond

// maxSpinSkip is how many chances to spin the reactor lets go, at most,
// after spins that did not pay.
const maxSpinSkip = 64

// spinResample is how many spins in a row that paid the reactor makes before
// it sleeps once, to measure a wake again.
const spinResample = 64

// spinCheck is how many times a spin looks for work between two readings of
// the clock.
const spinCheck = 8

// spinPolicy decides when the reactor spins; reactor goroutine only.
type spinPolicy struct {
	max      time.Duration // the longest spin; 0 if the reactor never spins
	pays     bool          // the last sleep says a spin would have paid
	sleepLat time.Duration // running mean of the wait for work when sleeping; 0 if none yet
	skip     int           // chances to spin still to let go
	backoff  int           // chances let go after the last spin that did not pay
	streak   int           // spins in a row that paid
	forced   bool          // tests: spin at every chance
}

// want reports whether the reactor should spin before it sleeps.
func (p *spinPolicy) want() bool {
	switch {
	case p.max <= 0:
		return false
	case p.forced:
		return true
	case !p.pays:
		return false
	case p.skip > 0:
		p.skip--
		return false
	case p.streak >= spinResample:
		p.streak = 0
		return false
	}
	return true
}

// found records a spin that found work lat after the reactor went idle.
func (p *spinPolicy) found(lat time.Duration) {
	if p.sleepLat > 0 && lat > p.sleepLat {
		p.missed() // sleeping got work sooner
		return
	}
	p.streak++
	p.backoff = 0
}

// missed records a spin that did not pay.
func (p *spinPolicy) missed() {
	p.streak = 0
	p.backoff = min(max(2*p.backoff, 1), maxSpinSkip)
	p.skip = p.backoff
}

// woke records a sleep that ended by work queued arrival after the reactor
// went idle, which then waited cost for the reactor to wake.
func (p *spinPolicy) woke(arrival, cost time.Duration) {
	p.pays = cost >= wakeCostToSpin && arrival <= p.max
	if arrival <= p.max {
		lat := arrival + cost
		if p.sleepLat == 0 {
			p.sleepLat = lat
		} else {
			p.sleepLat += (lat - p.sleepLat) / 4
		}
	}
}

// idled records a sleep that no queued work ended: a timer came due, or
// changed.
func (p *spinPolicy) idled() { p.pays = false }

// spin polls for work for up to r.spinner.max from idleAt, and reports
// whether work came (or a timer came due, or the timers or the pool
// changed) meanwhile. While it
// polls, the reactor is not sleeping, so a producer that queues work does
// not wake it. It polls only when another OS thread can run the producer
// (GOMAXPROCS above one), and never past the next due timer. It does not
// yield to the scheduler while it polls: a goroutine that yields in a loop
// keeps its thread from polling the network for the producer.
//
// A clock that stands still, as it does in a testing/synctest bubble while
// goroutines run, ends the spin at once.
func (r *Reactor) spin(idleAt time.Duration) bool {
	if runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	until, timer := idleAt+r.spinner.max, false
	if next, ok := r.timers.Next(); ok && next < until {
		until, timer = next, true
	}
	r.spins.Add(1)
	last := idleAt
	for i := 1; ; i++ {
		if r.queue.pending() || r.kicked.Load() {
			return true
		}
		if i%spinCheck == 0 {
			now := r.elapsed()
			if now >= until {
				return timer
			}
			if now == last {
				return false
			}
			last = now
		}
	}
}

// kick ends a spin and wakes the reactor goroutine if it sleeps: for
// changes that the queue does not show, a new earliest timer or the last
// DeferToGoroutine function ending after shutdown. The loop clears the flag
// at the start of each pass, before it reads the timers and the pool, and
// looks at it again once it has announced its sleep, so a change made at any
// point of a pass is never slept through.
func (r *Reactor) kick() {
	if !r.kicked.Load() { // a store would take the cache line from the loop
		r.kicked.Store(true)
	}
	r.wakeIfSleeping()
}
