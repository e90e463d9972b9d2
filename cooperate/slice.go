package cooperate

import (
	"iter"
	"runtime"
	"time"
)

// tick runs one slice: Twisted's _tick.
func (c *Cooperator) tick(gen uint64) {
	if gen != c.tickGen || !c.scheduled {
		return
	}
	c.scheduled = false
	c.call = nil
	if c.stopped || c.head == nil {
		return
	}
	c.inTick = true
	defer c.endTick()
	c.beginSlice()
	for c.head != nil && !c.sliceOver {
		t := c.cursor
		if t == nil {
			t = c.head
			c.cursor = t
			c.fresh = true
		}
		if c.fresh {
			c.fresh = false
			t.turn = c.turnLength(t)
		} else if c.runnable > 1 {
			// A turn carried over from the last slice: others may have
			// become runnable, or turns may have shrunk, since it began.
			t.turn = min(t.turn, c.turnCap(t))
		}
		c.runTurn(t)
		if c.cursor == t && t.turn <= 0 {
			c.cursor = t.rnext
			c.fresh = true
		}
	}
	if c.goexit {
		// A step called runtime.Goexit on the loop's goroutine, which the
		// step's task has failed with: end the goroutine, as the step
		// asked, now that endTick is left to wind up the slice.
		c.goexit = false
		runtime.Goexit()
	}
}

// endTick winds up the slice that tick began and asks for the next. It is
// deferred, so that a function of the user's that the slice runs on the
// loop's goroutine (a termination predicate, a Waitable's OnComplete, a
// Done callback) and that ends the goroutine with runtime.Goexit leaves the
// Cooperator in order, to go on from where it stands.
func (c *Cooperator) endTick() {
	c.endSlice()
	c.inTick = false
	c.reschedule()
}

// turnLength is how many steps t may take in the turn that starts.
func (c *Cooperator) turnLength(t *Task) int {
	if c.runnable <= 1 {
		return alone
	}
	return c.turnCap(t)
}

func (c *Cooperator) turnCap(t *Task) int {
	n := c.quantum * t.weight
	if n <= 0 || n > alone {
		n = alone
	}
	return n
}

// runTurn resumes t's iterator until its turn or the slice ends, then deals
// with whatever stopped it: exhaustion, failure, or a value to wait on.
func (c *Cooperator) runTurn(t *Task) {
	if t.next == nil {
		t.next, t.stopIter = iter.Pull(t.run)
	}
	t.segment()
	if c.cfg.mode != modeTerminator {
		// The checkpoint that ended the last turn has just read the clock.
		if c.readOK {
			t.lastCheck = c.read
		} else {
			t.lastCheck = time.Since(c.start)
		}
	}
	c.readOK = false
	c.running = t
	more := resume(t)
	c.running = nil
	t.fold()
	stepEnded := false
	if !more {
		// The iterator returned: that was a step of its own (Twisted's
		// StopIteration or exception from next).
		t.next, t.stopIter = nil, nil
		t.turn--
		c.steps++
		stepEnded = true
		if t.exited && !c.onLane() {
			// The step ran on the loop's goroutine: tick ends it, as the
			// step asked, once the slice is wound up.
			c.goexit, c.sliceOver = true, true
		}
		if t.state == stateActive {
			switch {
			case t.panicked != nil:
				t.finish(stateFailed, t.panicked)
			case t.exited:
				t.finish(stateFailed, errStepGoexit)
			case t.err != nil:
				t.finish(stateFailed, t.err)
			default:
				t.finish(stateDone, nil)
			}
		}
	} else if w := t.wait; w != nil {
		t.wait = nil
		stepEnded = true
		if t.state == stateActive {
			t.await(w)
		}
	}
	if stepEnded {
		c.afterStep()
	}
	if t.state != stateActive {
		c.releaseIter(t)
	}
	c.drainRelease()
	if stepEnded || t.state != stateActive {
		c.readOK = false // user code may have run since the last read
	}
}

// resume runs t's iterator until it suspends or returns, and reports
// whether it suspended. A runtime.Goexit in the iterator ends it as if it
// had returned, with t.exited set (see goexit.go).
func resume(t *Task) (more bool) {
	defer func() {
		if t.exited {
			_ = recover() // the goexitSignal of Task.run
		}
	}()
	_, more = t.next()
	return more
}

// afterStep ends the slice if its budget is spent, for a step whose end the
// task's own checkpoint did not see.
func (c *Cooperator) afterStep() {
	if c.pred != nil {
		if c.askPred() {
			c.sliceOver = true
		}
	} else if now := time.Since(c.start); c.attn.Load()&expiredBit != 0 || now >= c.budget || c.yieldDue(now) {
		c.sliceOver = true
	}
	if c.interrupted() {
		c.sliceOver = true
	}
}

// yieldDue reports whether the slice, now into it, must end early because
// its loop says other work waits (see WithSlice). It asks the loop at most
// once every yieldEvery.
func (c *Cooperator) yieldDue(now time.Duration) bool {
	if c.yielder == nil || now < c.nextProbe {
		return false
	}
	c.nextProbe = now + yieldEvery
	return c.yielder.WorkWaiting()
}

// onLane reports whether c is a lane's own Cooperator.
func (c *Cooperator) onLane() bool {
	return c.interrupt != nil
}

// interrupted reports whether the slice must end early: on a lane's
// Cooperator, messages wait for the lane (see lane.send).
func (c *Cooperator) interrupted() bool {
	return c.interrupt != nil && c.interrupt.Load()
}

// askPred asks the slice's termination predicate, treating a panic as true.
func (c *Cooperator) askPred() (over bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			c.cfg.logger.Error("cooperate: termination predicate panicked; slice ended", "panic", r)
			over = true
			return
		}
		c.cfg.logger.Error("cooperate: termination predicate called runtime.Goexit; slice ended")
		c.sliceOver = true
	}()
	over = c.pred()
	returned = true
	return over
}

// newPred calls the terminator factory, treating a panic as a predicate that
// ends the slice after one step.
func (c *Cooperator) newPred() (pred func() bool) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				c.cfg.logger.Error("cooperate: terminator factory panicked; slice limited to one step", "panic", r)
			} else {
				c.cfg.logger.Error("cooperate: terminator factory called runtime.Goexit; slice ended")
				c.sliceOver = true
			}
			pred = nil
		}
		if pred == nil {
			pred = func() bool { return true }
		}
	}()
	pred = c.cfg.factory()
	returned = true
	return pred
}

// beginSlice starts a slice: a predicate from the factory, or a deadline,
// with the backstop behind it.
func (c *Cooperator) beginSlice() {
	c.sliceOver = false
	c.steps = 0
	c.gen++
	if c.cfg.mode == modeTerminator {
		c.pred = c.newPred()
		c.attn.Store(c.gen<<attnBits | predBit)
		return
	}
	c.attn.Store(c.gen << attnBits)
	now := time.Now()
	c.start = now
	if c.cfg.mode == modeAdaptive && !c.scheduledAt.IsZero() {
		// Clamped as overshoot is: a pause of the whole process is no
		// reason to shrink the slices that follow.
		c.lag.add(min(now.Sub(c.scheduledAt), c.cfg.target/2))
	}
	c.budget = c.sliceBudget()
	c.check = min(maxCheck, c.budget/minChecks)
	c.nextProbe = min(yieldEvery, c.budget/2)
	c.armBackstop(now.Sub(c.epoch), c.budget+c.check)
}

// The backstop. The tasks' clock reads end a slice on time; the backstop
// raises the expired bit of a slice that overruns its deadline by more than
// a check anyway, for steps that suddenly take far longer than the tasks
// have learnt. It is one timer, armed at most backstopSlack after the
// current slice's deadline and pushed on only when it falls behind, so that
// it costs the runtime a wake-up every backstopSlack rather than every
// slice; when it fires during a slice that has not overrun, it re-arms for
// that slice's deadline.

// backstopSlack is how late, at most, the backstop acts on an overrunning
// slice.
const backstopSlack = 10 * time.Millisecond

// armBackstop publishes the deadline of the slice that starts at now (since
// c.epoch) and makes sure the backstop fires by backstopSlack after it.
func (c *Cooperator) armBackstop(now, d time.Duration) {
	deadline := now + d
	c.deadline.Store(int64(deadline))
	at := time.Duration(c.backstopAt.Load())
	if at >= deadline && at <= deadline+backstopSlack {
		return
	}
	c.resetBackstop(deadline+backstopSlack, now)
}

func (c *Cooperator) resetBackstop(at, now time.Duration) {
	c.backstopAt.Store(int64(at))
	c.backstop.Reset(at - now)
}

// fireBackstop runs on the timer's goroutine.
func (c *Cooperator) fireBackstop() {
	now := time.Since(c.epoch)
	w := c.attn.Load()
	deadline := time.Duration(c.deadline.Load())
	if deadline == 0 || c.attn.Load()>>attnBits != w>>attnBits {
		// Between slices, or one just began: the next slice re-arms.
		c.backstopAt.Store(0)
		return
	}
	if now >= deadline {
		c.expire(w >> attnBits)
		c.backstopAt.Store(0)
		return
	}
	c.resetBackstop(deadline, now)
}

// expire raises the expired bit if slice gen is still the current one; it
// runs on the backstop's goroutine.
func (c *Cooperator) expire(gen uint64) {
	for {
		w := c.attn.Load()
		if w>>attnBits != gen || w&expiredBit != 0 {
			return
		}
		if c.attn.CompareAndSwap(w, w|expiredBit) {
			return
		}
	}
}

// endSlice learns from the slice: how far it overran its budget, and how
// long a step takes, which sizes turns.
func (c *Cooperator) endSlice() {
	if c.cfg.mode == modeTerminator {
		c.pred = nil
		return
	}
	c.deadline.Store(0)
	elapsed := time.Since(c.start)
	if c.sliceOver {
		// A sample is clamped so that one long pause of the whole process
		// does not shorten the slices that follow: only steady overruns
		// (long steps, sparse clock reads) are worth ending earlier for.
		c.overshoot.add(min(max(elapsed-c.budget, 0), c.budget/4))
	}
	if c.cfg.turnSteps == 0 && c.steps > 0 && elapsed > 0 {
		// About two turns per task and slice, within [minTurn, maxTurn]:
		// longer turns switch less, shorter ones share a slice more finely.
		c.turnTarget = min(max(c.budget/time.Duration(2*max(c.runnable, 1)), minTurn), maxTurn)
		q := int64(c.turnTarget) * int64(c.steps) / int64(elapsed)
		q = min(q, int64(c.quantum)*16, maxQuantum)
		c.quantum = int(max(q, 1))
	}
}

// sliceBudget is how long the next slice may run.
func (c *Cooperator) sliceBudget() time.Duration {
	if c.cfg.mode == modeAdaptive {
		target := c.cfg.target
		b := target - c.lag.value() - c.overshoot.value()
		return min(max(b, target/16), target)
	}
	b := c.cfg.slice - c.overshoot.value()
	return min(max(b, c.cfg.slice/2), c.cfg.slice)
}

// ewma is an exponentially weighted moving average of durations, weight 1/8.
type ewma struct {
	v   time.Duration
	set bool
}

func (e *ewma) add(d time.Duration) {
	if !e.set {
		e.v, e.set = d, true
		return
	}
	e.v += (d - e.v) / 8
}

func (e *ewma) value() time.Duration {
	return e.v
}
