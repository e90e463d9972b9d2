package reactor

import (
	"slices"
	"sync"
	"time"
)

// Stats is a snapshot of a reactor's health, from [Reactor.Stats].
//
// Lag is how late the loop gets to work that is ready: for a timer, how long
// after its due time it ran; for functions given to CallSoon, how long the
// oldest of a batch waited. The loop measures it itself, once per pass that
// found work, and keeps the last [LagWindow] measures; LagP50, LagP99 and
// LagMax summarize them (zero before any).
type Stats struct {
	LagP50, LagP99, LagMax time.Duration
	LagSamples             int    // measures in the window
	Callbacks              uint64 // callbacks run so far
	Wakeups                uint64 // times the reactor goroutine woke from sleep
	TimersPending          int    // CallLater calls waiting to run
	QueueLen               int    // CallSoon functions waiting to run
	GoroutinesRunning      int    // DeferToGoroutine functions running
	GoroutinesWaiting      int    // DeferToGoroutine functions waiting for a place
}

// LagWindow is how many of the latest lag measures [Stats] summarizes.
const LagWindow = 1024

// Stats returns a snapshot of the reactor's statistics. It is safe from any
// goroutine; its cost grows with [LagWindow], so call it now and then, not
// in a hot loop.
func (r *Reactor) Stats() Stats {
	s := Stats{
		Callbacks:     r.gen.Load(),
		Wakeups:       r.wakeups.Load(),
		TimersPending: r.timers.Len(),
		QueueLen:      r.queue.len(),
	}
	s.GoroutinesRunning, s.GoroutinesWaiting = r.pool.counts()
	lags := r.lag.snapshot()
	if n := len(lags); n > 0 {
		slices.Sort(lags)
		s.LagSamples = n
		s.LagP50 = lags[(n-1)*50/100]
		s.LagP99 = lags[(n-1)*99/100]
		s.LagMax = lags[n-1]
	}
	return s
}

// lagWindow is a ring of the latest lag measures.
type lagWindow struct {
	mu   sync.Mutex
	ring [LagWindow]time.Duration
	n    int // measures taken, ever
}

func (w *lagWindow) add(d time.Duration) {
	w.mu.Lock()
	w.ring[w.n%LagWindow] = d
	w.n++
	w.mu.Unlock()
}

func (w *lagWindow) snapshot() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.ring[:min(w.n, LagWindow)])
}
