package reactor

import (
	"bytes"
	"runtime"
	"strconv"
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

// ended is called on the reactor goroutine after callback g, which the
// watchdog has reported, returns.
func (w *watchdog) ended(g uint64) {
	if w.stalled.CompareAndSwap(g, 0) {
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

// watch samples the reactor until it sleeps.
func (w *watchdog) watch(stop <-chan struct{}, ticker *time.Ticker) {
	r := w.r
	seen := r.gen.Load()
	seenAt := r.elapsed()
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
			seen, seenAt = g, now
			continue
		}
		if now-seenAt >= w.threshold && w.stalled.Load() != g {
			w.since.Store(int64(seenAt))
			w.stalled.Store(g)
			// The callback may have ended between the load of g and the
			// store: then ended ran already and will not report it; the
			// report below stays true about the time the loop was held.
			w.r.log.Warn("reactor: callback is holding the loop",
				"held", now-seenAt, "threshold", w.threshold,
				"stack", w.reactorStack())
		}
	}
}

// reactorStack returns the stack of the reactor goroutine. A goroutine
// cannot read another's stack directly, so it takes every goroutine's stack
// and keeps the reactor's.
func (w *watchdog) reactorStack() string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	head := []byte("goroutine " + strconv.FormatUint(w.r.gid.Load(), 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return string(buf)
	}
	s := buf[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return string(s)
}
