package reactor

import (
	"sync"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Phase is a phase of a system event: Twisted's "before", "during" and
// "after".
type Phase int

// The phases of a system event, in the order they fire.
const (
	Before Phase = iota
	During
	After
)

// Event is a system event: the reactor's startup or its shutdown.
type Event int

// The system events. Startup fires when [Reactor.Run] starts, Shutdown after
// [Reactor.Stop].
const (
	Startup Event = iota
	Shutdown
)

// TriggerID identifies a system event trigger, for
// [Reactor.RemoveSystemEventTrigger].
type TriggerID struct {
	event Event
	phase Phase
	id    uint64
}

// String returns "before", "during" or "after".
func (p Phase) String() string {
	switch p {
	case Before:
		return "before"
	case During:
		return "during"
	case After:
		return "after"
	}
	return "invalid phase"
}

// String returns "startup" or "shutdown".
func (e Event) String() string {
	switch e {
	case Startup:
		return "startup"
	case Shutdown:
		return "shutdown"
	}
	return "invalid event"
}

type trigger struct {
	id   uint64
	f    func() *deferred.Deferred[struct{}]
	name any // the function to name in reports: f, or the one f wraps
}

// How far an event has fired.
const (
	notFired = iota
	firingBefore
	waitingBefore
	firingDuring
	firingAfter
	fired
)

// events holds the triggers of both events. Firing pops each trigger before
// running it, as Twisted does, so a trigger added to the phase being fired
// runs in that phase, and a fired trigger can no longer be removed.
type events struct {
	mu       sync.Mutex
	lastID   uint64
	triggers [2][3][]trigger
	progress [2]int
}

// AddSystemEventTrigger adds f to run on the reactor goroutine in phase of
// event, after the triggers already added to it, and returns an ID that
// [Reactor.RemoveSystemEventTrigger] takes. It is safe from any goroutine.
//
// f may return a Deferred, or nil. Each event fires its "before" triggers,
// waits for all the Deferreds they returned, then fires its "during" and
// "after" triggers; Deferreds returned in those phases are not waited for.
// As in Twisted, the during and after triggers run inside the callback of
// the last of those Deferreds to fire, when it fires on the reactor
// goroutine (so they have run when its Callback returns); fired on another
// goroutine, it hands them to the reactor goroutine, which runs them in its
// next pass.
// Shutdown waits at most the shutdown timeout ([WithShutdownTimeout]) for the
// before-shutdown Deferreds, then logs the timeout and goes on. A failed
// Deferred, or a panic in f, is logged and does not stop the event.
//
// A trigger added to a phase that has already fired never runs; a trigger
// added to the phase that is firing runs in it. If [Reactor.Stop] is called
// while startup waits for its before-startup Deferreds, the rest of startup
// is skipped. An invalid phase or event, or a nil f, panics.
func (r *Reactor) AddSystemEventTrigger(phase Phase, event Event, f func() *deferred.Deferred[struct{}]) TriggerID {
	if phase < Before || phase > After {
		panic("reactor: Reactor.AddSystemEventTrigger: invalid phase")
	}
	if event < Startup || event > Shutdown {
		panic("reactor: Reactor.AddSystemEventTrigger: invalid event")
	}
	if f == nil {
		panic("reactor: Reactor.AddSystemEventTrigger: nil function")
	}
	e := &r.events
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addLocked(event, phase, f, f)
}

func (e *events) addLocked(event Event, phase Phase, f func() *deferred.Deferred[struct{}], name any) TriggerID {
	e.lastID++
	e.triggers[event][phase] = append(e.triggers[event][phase], trigger{id: e.lastID, f: f, name: name})
	return TriggerID{event: event, phase: phase, id: e.lastID}
}

// addIfNotDone adds a trigger unless event has finished firing its after
// phase, and reports whether it did. name is the function to name in
// reports.
func (e *events) addIfNotDone(event Event, phase Phase, f func() *deferred.Deferred[struct{}], name any) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.progress[event] == fired {
		return false
	}
	e.addLocked(event, phase, f, name)
	return true
}

// RemoveSystemEventTrigger removes a trigger that has not fired yet, so that
// it never runs. It returns [ErrNoTrigger] if the trigger was never added,
// was already removed, or has fired. It is safe from any goroutine.
func (r *Reactor) RemoveSystemEventTrigger(id TriggerID) error {
	e := &r.events
	e.mu.Lock()
	defer e.mu.Unlock()
	if id.event < Startup || id.event > Shutdown || id.phase < Before || id.phase > After {
		return ErrNoTrigger
	}
	ts := e.triggers[id.event][id.phase]
	for i, t := range ts {
		if t.id == id.id {
			copy(ts[i:], ts[i+1:])
			ts[len(ts)-1] = trigger{}
			e.triggers[id.event][id.phase] = ts[:len(ts)-1]
			return nil
		}
	}
	return ErrNoTrigger
}

// pop takes the next trigger of a phase, marking the event's progress.
func (e *events) pop(event Event, phase Phase, progress int) (trigger, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.progress[event] = progress
	ts := e.triggers[event][phase]
	if len(ts) == 0 {
		return trigger{}, false
	}
	t := ts[0]
	ts[0] = trigger{}
	e.triggers[event][phase] = ts[1:]
	return t, true
}

func (e *events) setProgress(event Event, progress int) {
	e.mu.Lock()
	e.progress[event] = progress
	e.mu.Unlock()
}

// firing is an event on its way through its phases. It keeps where the
// event stands, so that a goroutine that takes over after a trigger called
// runtime.Goexit goes on with the next trigger.
type firing struct {
	event Event
	phase Phase                          // the phase firing, or After+1 once done
	begun bool                           // the during phase has begun
	waits []*deferred.Deferred[struct{}] // what the before triggers returned
	then  func()                         // called once the event has fired
}

// fireEvent fires event on the reactor goroutine: its before phase, then,
// once the Deferreds it returned have fired (or shutdown's timeout), its
// during and after phases, then calls then (if not nil).
func (r *Reactor) fireEvent(event Event, then func()) {
	r.fire(&firing{event: event, then: then})
}

// fire fires f from where it stands.
func (r *Reactor) fire(f *firing) {
	if f.phase == Before {
		for {
			t, ok := r.events.pop(f.event, Before, firingBefore)
			if !ok {
				break
			}
			if d := r.callTrigger(f, t); d != nil {
				f.waits = append(f.waits, d)
			}
		}
		r.events.setProgress(f.event, waitingBefore)
		var timeout time.Duration
		if f.event == Shutdown {
			timeout = r.cfg.shutdownTimeout
		}
		waits := f.waits
		f.waits = nil
		r.awaitAll(f.event, waits, timeout, func() {
			f.phase = During
			r.fire(f)
		})
		return
	}
	if !f.begun {
		if f.event == Startup && r.state.Load() != stateRunning {
			// Stop came while startup waited: shutdown has taken over.
			r.events.setProgress(f.event, fired)
			return
		}
		f.begun = true
		r.running.Store(f.event == Startup)
	}
	for ; f.phase <= After; f.phase++ {
		progress := firingDuring
		if f.phase == After {
			progress = firingAfter
		}
		for {
			t, ok := r.events.pop(f.event, f.phase, progress)
			if !ok {
				break
			}
			r.callTrigger(f, t)
		}
	}
	r.events.setProgress(f.event, fired)
	if f.then != nil {
		then := f.then
		f.then = nil
		then()
	}
}

// callTrigger runs one trigger of f, recovering and logging a panic. If the
// trigger calls runtime.Goexit, it leaves the rest of the event to the
// goroutine that takes over.
func (r *Reactor) callTrigger(f *firing, t trigger) (d *deferred.Deferred[struct{}]) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			r.logPanic("reactor: system event trigger panicked", v,
				"event", f.event.String(), "phase", f.phase.String())
			d = nil
			return
		}
		r.noteGoexit(t.name, f.phase.String()+" "+f.event.String()+" trigger")
		r.cont = func() { r.fire(f) }
	}()
	d = t.f()
	returned = true
	return d
}

// awaitAll calls cont on the reactor goroutine once every Deferred in ds has
// fired, or once timeout (if positive) has passed, whichever comes first.
// Failures are logged and consumed. As in Twisted, cont runs inside the
// callback of the last Deferred to fire when that one fires on the reactor
// goroutine; one fired on another goroutine hands over to the reactor's.
func (r *Reactor) awaitAll(event Event, ds []*deferred.Deferred[struct{}], timeout time.Duration, cont func()) {
	if len(ds) == 0 {
		cont()
		return
	}
	remaining := len(ds)
	done := false
	var timer scheduler.Call
	if timeout > 0 {
		timer = r.CallLater(timeout, func() {
			if done {
				return
			}
			done = true
			r.log.Warn("reactor: timed out waiting for before-"+event.String()+" triggers",
				"timeout", timeout, "pending", remaining)
			cont()
		})
	}
	for _, d := range ds {
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			count := func() {
				if err != nil {
					r.log.Error("reactor: before-"+event.String()+" trigger failed", "err", err)
				}
				remaining--
				if remaining > 0 || done {
					return
				}
				done = true
				if timer != nil {
					_ = timer.Cancel()
				}
				cont()
			}
			if r.onReactor() {
				count()
			} else {
				r.enqueue(count)
			}
			return struct{}{}, nil
		})
	}
}
