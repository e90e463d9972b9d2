package cooperate

import "time"

// beginSlice starts a slice: a predicate from the factory, or a timer that
// raises the expired bit at the deadline.
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
		c.lag.add(now.Sub(c.scheduledAt))
	}
	c.budget = c.sliceBudget()
	c.check = min(maxCheck, c.budget/minChecks)
	gen := c.gen
	c.timer = time.AfterFunc(c.budget, func() { c.expire(gen) })
}

// expire raises the expired bit if slice gen is still the current one; it
// runs on the timer's goroutine.
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

// endSlice stops the slice's timer and learns from the slice: how far it
// overran its timer, and how long a step takes, which sizes turns.
func (c *Cooperator) endSlice() {
	if c.cfg.mode == modeTerminator {
		c.pred = nil
		return
	}
	c.timer.Stop()
	c.timer = nil
	elapsed := time.Since(c.start)
	if c.sliceOver {
		// A sample is clamped so that one long pause of the whole process
		// does not shorten the slices that follow: only steady overruns
		// (long steps, a late timer) are worth arming earlier for.
		c.overshoot.add(min(max(elapsed-c.budget, 0), c.budget/4))
	}
	if c.cfg.turnSteps == 0 && c.steps > 0 && elapsed > 0 {
		c.turnTarget = min(defaultTurn, c.budget/4)
		q := int64(c.turnTarget) * int64(c.steps) / int64(elapsed)
		q = min(q, int64(c.quantum)*16, maxQuantum)
		c.quantum = int(max(q, 1))
	}
}

// sliceBudget is the time the timer of the next slice is armed for.
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
