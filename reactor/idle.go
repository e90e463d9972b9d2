package reactor

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/scheduler"
)

// idlers are the [scheduler.Idler]s the reactor offers its idle time to.
// The list is copied on write, so that the loop and poke read it with one
// atomic load.
type idlers struct {
	mu   sync.Mutex
	list atomic.Pointer[[]scheduler.Idler]
	done atomic.Bool // the loop has ended: Idle is never called again
}

// AddIdler makes the reactor offer its idle time to i: when it has nothing
// to run, it asks its idlers in turn, in the order they were added, and
// sleeps as usual only if none of them has anything to wait for. See
// [scheduler.IdleLoop]. The poke it returns wakes the reactor if it sleeps,
// and reports false once the reactor has shut down; remove ends the offer.
// A nil i panics.
func (r *Reactor) AddIdler(i scheduler.Idler) (poke func() bool, remove func()) {
	if i == nil {
		panic("reactor: Reactor.AddIdler: nil Idler")
	}
	r.idlers.mu.Lock()
	defer r.idlers.mu.Unlock()
	var list []scheduler.Idler
	if old := r.idlers.list.Load(); old != nil {
		list = slices.Clone(*old)
	}
	list = append(list, i)
	r.idlers.list.Store(&list)
	var once sync.Once
	return r.pokeIdle, func() { once.Do(func() { r.removeIdler(i) }) }
}

// pokeIdle is the poke that AddIdler returns.
func (r *Reactor) pokeIdle() bool {
	if r.idlers.done.Load() {
		return false
	}
	r.wakeIfSleeping()
	return true
}

func (r *Reactor) removeIdler(i scheduler.Idler) {
	r.idlers.mu.Lock()
	defer r.idlers.mu.Unlock()
	old := r.idlers.list.Load()
	if old == nil {
		return
	}
	list := slices.Clone(*old)
	if k := slices.Index(list, i); k >= 0 {
		list = slices.Delete(list, k, k+1)
	}
	if len(list) == 0 {
		r.idlers.list.Store(nil)
	} else {
		r.idlers.list.Store(&list)
	}
}

// idle offers the idlers the reactor's idle time, for at most d (no limit
// if negative). It reports whether one of them took it, and what it handed
// back to run. A panic in an idler is logged, every idler is told Busy
// (the loop will not wait for their events), and the loop sleeps as usual.
func (r *Reactor) idle(list []scheduler.Idler, d time.Duration) (run func(), ok bool) {
	defer func() {
		if v := recover(); v != nil {
			r.logPanic("reactor: Idler.Idle panicked", v)
			r.busy(list)
			run, ok = nil, false
		}
	}()
	for k, i := range list {
		if run, ok = i.Idle(d); ok {
			r.busy(list[k+1:])
			return run, true
		}
	}
	return nil, false
}

// busy tells the idlers that the loop is about to run other work, or will
// not wait for their events.
func (r *Reactor) busy(list []scheduler.Idler) {
	for _, i := range list {
		r.tellBusy(i)
	}
}

func (r *Reactor) tellBusy(i scheduler.Idler) {
	defer func() {
		if v := recover(); v != nil {
			r.logPanic("reactor: Idler.Busy panicked", v)
		}
	}()
	i.Busy()
}

// wakeIdlers makes the idlers' Idle in progress, or next, return at once.
func (r *Reactor) wakeIdlers() {
	if list := r.idlers.list.Load(); list != nil {
		for _, i := range *list {
			i.Wake()
		}
	}
}

var _ scheduler.IdleLoop = (*Reactor)(nil)
