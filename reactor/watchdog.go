package reactor

import (
	"runtime"
	"sync/atomic"
	"time"
)

// watchdog reports a callback that holds the loop for longer than a
// threshold, while it still runs, with the reactor goroutine's stack.
//
// It costs the loop one atomic increment per callback (the generation it
// shares with Stats) and one atomic load after it. The watchdog goroutine
// looks at the generation every quarter of the threshold while the reactor
// is awake; when the reactor sleeps, the watchdog sleeps too, on a channel
// that the reactor pokes when it wakes, so an idle reactor wakes nobody.
type watchdog struct {
	r         *Reactor
	threshold time.Duration
	tick      time.Duration
	busy      chan struct{} // poked when the reactor wakes; capacity 1

	stalled atomic.Uint64 // generation of the callback reported, 0 if none
	since   atomic.Int64  // when the watchdog first saw it, in reactor time
}

func newWatchdog(r *Reactor, threshold time.Duration) *watchdog {
	return &watchdog{
		r:         r,
		threshold: threshold,
		tick:      max(threshold/4, time.Microsecond),
		busy:      make(chan struct{}, 1),
	}
}

// awake tells the watchdog that the reactor is awake; reactor goroutine.
func (w *watchdog) awake() {
	select {
	case w.busy <- struct{}{}:
	default:
	}
}

// ended reports the end of callback g if the watchdog reported it and its
// end has not been reported yet. The reactor goroutine calls it as soon as
// a reported callback returns; the watchdog calls it when it notices that
// the callback is over, for a callback reported just as it ended.
func (w *watchdog) ended(g uint64) {
	if g != 0 && w.stalled.CompareAndSwap(g, 0) { // 0 is no callback
		held := w.r.elapsed() - time.Duration(w.since.Load())
		w.r.log.Warn("reactor: slow callback finished", "held", held, "threshold", w.threshold)
	}
}

// run is the watchdog goroutine; it returns when stop is closed.
func (w *watchdog) run(stop <-chan struct{}) {
	ticker := time.NewTicker(w.tick)
	ticker.Stop()
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-w.busy:
		}
		ticker.Reset(w.tick)
		w.watch(stop, ticker)
		ticker.Stop()
	}
}

// watch samples the reactor until it sleeps. It reports each callback at
// most once, and settles a report that the reactor missed (when the
// callback ended just as it was being reported).
func (w *watchdog) watch(stop <-chan struct{}, ticker *time.Ticker) {
	r := w.r
	seen := r.gen.Load()
	seenAt := r.elapsed()
	reported := uint64(0)
	defer func() { w.ended(seen) }()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		now := r.elapsed()
		if r.sleeping.Load() {
			return
		}
		g := r.gen.Load()
		if g != seen {
			w.ended(seen)
			seen, seenAt = g, now
			continue
		}
		if now-seenAt >= w.threshold && reported != g {
			stack, callback, ok := w.reactorStack()
			if !ok {
				// No reactor goroutine: the one that ran the callback has
				// just ended in runtime.Goexit, and another takes over.
				// Look again at the next tick.
				continue
			}
			reported = g
			// Log first, then publish: the reactor's "finished" report
			// can then never come before this one.
			w.r.log.Warn("reactor: callback is holding the loop",
				"held", now-seenAt, "threshold", w.threshold,
				"callback", callback, "stack", stack)
			w.since.Store(int64(seenAt))
			w.stalled.Store(g)
		}
	}
}

// reactorStack returns the stack of the reactor goroutine and the callback
// it runs (see parseStack), and false if there is no reactor goroutine at
// the moment. A goroutine cannot read another's stack directly, so it takes
// every goroutine's stack and keeps the reactor's.
func (w *watchdog) reactorStack() (stack stackTrace, callback string, ok bool) {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	s, ok := goroutineStack(buf, w.r.gid.Load())
	if !ok {
		return nil, "", false
	}
	stack, callback = parseStack(s)
	return stack, callback, true
}
