package reactor

import (
	"slices"
	"sync"
	"sync/atomic"
)

// pollers are the functions given to AddPoller. The list is copied on
// write, so that the loop reads it with one atomic load.
type pollers struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*func()]
}

// AddPoller makes the reactor call poll on its goroutine once in every pass
// of its loop that has run other work (due timers, functions given to
// CallSoon), after that work: a source of events that the reactor waits
// for in its idle time, through a [scheduler.Idler], looks for them there
// without waiting, so that a busy reactor still serves them in time. The
// pollers run in the order they were added. poll must not block; a panic
// in it is recovered and logged, as a callback's is. remove ends the calls:
// a pass already under way when it returns may still call poll once. It is
// safe from any goroutine. A nil poll panics.
func (r *Reactor) AddPoller(poll func()) (remove func()) {
	if poll == nil {
		panic("reactor: Reactor.AddPoller: nil function")
	}
	p := &poll
	r.pollers.mu.Lock()
	defer r.pollers.mu.Unlock()
	var list []*func()
	if old := r.pollers.list.Load(); old != nil {
		list = slices.Clone(*old)
	}
	list = append(list, p)
	r.pollers.list.Store(&list)
	var once sync.Once
	return func() { once.Do(func() { r.removePoller(p) }) }
}

func (r *Reactor) removePoller(p *func()) {
	r.pollers.mu.Lock()
	defer r.pollers.mu.Unlock()
	old := r.pollers.list.Load()
	if old == nil {
		return
	}
	list := slices.DeleteFunc(slices.Clone(*old), func(q *func()) bool { return q == p })
	if len(list) == 0 {
		r.pollers.list.Store(nil)
	} else {
		r.pollers.list.Store(&list)
	}
}

// poll runs the pollers, once each.
func (r *Reactor) poll() {
	if list := r.pollers.list.Load(); list != nil {
		for _, p := range *list {
			r.runOne(*p)
		}
	}
}
