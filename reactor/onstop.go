package reactor

import (
	"slices"
	"sync"
)

// stopHooks are the functions given to OnStop.
type stopHooks struct {
	mu    sync.Mutex
	next  uint64
	hooks map[uint64]func()
	taken bool // finish has taken them: OnStop refuses more
}

// OnStop arranges for f to run once on the reactor goroutine when the
// reactor stops for good: after the shutdown event has fired, the
// goroutines of [DeferToGoroutine] have ended and the pending timers have
// been cancelled, and before Run runs the last functions queued with
// CallSoon (so that what f queues still runs) and returns. Functions given to OnStop run in the order given. It returns a
// cancel function, safe from any goroutine and idempotent, and true; once
// the reactor has gone past that point, f never runs and OnStop returns a
// cancel that does nothing and false. A nil f panics.
//
// Code bound to the reactor that would otherwise wait for ever once it
// stops uses it: a Cooperator fails its unfinished tasks, a LoopingCall its
// Deferred. It implements [scheduler.StopNotifier].
func (r *Reactor) OnStop(f func()) (cancel func(), ok bool) {
	if f == nil {
		panic("reactor: Reactor.OnStop: nil function")
	}
	h := &r.stopHooks
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.taken {
		return func() {}, false
	}
	if h.hooks == nil {
		h.hooks = make(map[uint64]func())
	}
	h.next++
	id := h.next
	h.hooks[id] = f
	return func() {
		h.mu.Lock()
		delete(h.hooks, id)
		h.mu.Unlock()
	}, true
}

// take returns the hooks in the order they were given and refuses more.
func (h *stopHooks) take() []func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taken = true
	ids := make([]uint64, 0, len(h.hooks))
	for id := range h.hooks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fs := make([]func(), len(ids))
	for i, id := range ids {
		fs[i] = h.hooks[id]
	}
	h.hooks = nil
	return fs
}
