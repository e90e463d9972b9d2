package reactor

import "github.com/twinego/twine/scheduler"

// WorkWaiting implements [scheduler.Yielder]: it reports whether functions
// given to CallSoon wait, a timer is due, or one of the reactor's idlers
// that is a [scheduler.ReadyIdler] (the sockets and child processes of
// reactor/protocol) has events ready. A Cooperator on the reactor asks it
// during its slices and ends a slice early when it reports true. Call it on
// the reactor goroutine only.
func (r *Reactor) WorkWaiting() bool {
	if r.queue.len() > 0 {
		return true
	}
	if next, ok := r.timers.Next(); ok && next <= r.elapsed() {
		return true
	}
	if list := r.idlers.list.Load(); list != nil {
		for _, i := range *list {
			if ri, ok := i.(scheduler.ReadyIdler); ok && r.ready(ri) {
				return true
			}
		}
	}
	return false
}

// ready asks ri whether it has events ready; a panic in it is logged and
// counts as none.
func (r *Reactor) ready(ri scheduler.ReadyIdler) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			r.logPanic("reactor: ReadyIdler.Ready panicked", v)
			ok = false
		}
	}()
	return ri.Ready()
}

var _ scheduler.Yielder = (*Reactor)(nil)
