package process

import (
	"fmt"

	"github.com/twinego/twine/scheduler"
)

// Results reach the caller through the pool's loop. A loop that has stopped
// for good (a [scheduler.StoppableLoop] whose TryCallSoon refuses) can no
// longer run them: they are not dropped, but kept, and Close fires their
// Deferreds, failed with an error wrapping scheduler.ErrLoopStopped, and
// counts them.

// post hands evs to the loop, to run there in order; a loop that has
// stopped for good refuses them, and they are kept for Close.
func (p *Pool) post(evs []event) {
	f := func() { p.runEvents(evs) }
	if p.stoppable == nil {
		p.loop.CallSoon(f)
	} else if !p.stoppable.TryCallSoon(f) {
		p.keep(evs)
	}
}

// postOne is post for a lone event, which rides in the closure.
func (p *Pool) postOne(ev event) {
	f := func() { p.runEvent(ev) }
	if p.stoppable == nil {
		p.loop.CallSoon(f)
	} else if !p.stoppable.TryCallSoon(f) {
		p.keep([]event{ev})
	}
}

// keep holds events that the loop refused, for Close to run (see runLost).
// The goroutine that finds them refused is most often one of the pool's
// own, a worker's reader, which must not run callbacks: one that called
// Close would wait for itself. A stream whose value is refused is told to
// stop, since no value of it can be delivered any more.
func (p *Pool) keep(evs []event) {
	p.mu.Lock()
	for _, ev := range evs {
		if ev.item {
			p.cancelRemoteLocked(ev.t)
		}
	}
	p.lost = append(p.lost, evs...)
	p.unlock()
}

// runLost fires, on Close's goroutine, the Deferreds of the events that the
// loop refused, failed with an error wrapping scheduler.ErrLoopStopped, and
// counts them. A callback that calls Close again finds everything done.
func (p *Pool) runLost() {
	for {
		p.mu.Lock()
		evs := p.lost
		p.lost = nil
		p.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, ev := range evs {
			if ev.t.settle(lostError(ev)) {
				p.undelivered.Add(1)
			}
		}
	}
}

// lostError is the error of a task whose event the loop refused.
func lostError(ev event) error {
	name := ev.t.e.name
	switch {
	case ev.item:
		return fmt.Errorf("process: a value of %q could not be delivered: %w", name, scheduler.ErrLoopStopped)
	case ev.err != nil:
		return fmt.Errorf("process: the outcome of %q could not be delivered: %w: %w", name, scheduler.ErrLoopStopped, ev.err)
	}
	return fmt.Errorf("process: the result of %q could not be delivered: %w", name, scheduler.ErrLoopStopped)
}

// notRunError is the error of a call made once the loop has stopped.
func notRunError(name string) error {
	return fmt.Errorf("process: %q not run: %w", name, scheduler.ErrLoopStopped)
}

// undeliveredError is Close's error when n results could not be delivered.
func undeliveredError(n int64) error {
	what := "results"
	if n == 1 {
		what = "result"
	}
	return fmt.Errorf("process: %d %s could not be delivered on the pool's loop: %w", n, what, scheduler.ErrLoopStopped)
}
