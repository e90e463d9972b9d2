package cooperate

// The Cooperator's task lists: every unfinished task, in the order it was
// given, and the runnable ones, in turn order.

// adopt makes t, new, a task of c and returns the Task the user holds: t
// itself, or with lanes a handle for it on the loop while a lane runs it.
func (c *Cooperator) adopt(t *Task) *Task {
	if c.lanes != nil {
		return c.lanes.adopt(t)
	}
	c.add(t)
	return t
}

// add makes a new task live and runnable, or fails it if c is stopped.
func (c *Cooperator) add(t *Task) {
	c.linkLive(t)
	if c.stopped {
		t.finish(stateSchedulerStopped, c.stopErr)
		return
	}
	c.pushRunnable(t)
}

// linkLive appends t to the unfinished tasks.
func (c *Cooperator) linkLive(t *Task) {
	t.lprev = c.liveTail
	if c.liveTail != nil {
		c.liveTail.lnext = t
	} else {
		c.liveHead = t
	}
	c.liveTail = t
}

// dropLive removes t from the unfinished tasks.
func (c *Cooperator) dropLive(t *Task) {
	if t.lprev != nil {
		t.lprev.lnext = t.lnext
	} else if c.liveHead == t {
		c.liveHead = t.lnext
	}
	if t.lnext != nil {
		t.lnext.lprev = t.lprev
	} else if c.liveTail == t {
		c.liveTail = t.lprev
	}
	t.lprev, t.lnext = nil, nil
}

// pushRunnable appends t to the runnable tasks and makes sure a slice is
// coming.
func (c *Cooperator) pushRunnable(t *Task) {
	if t.inRing {
		return
	}
	t.rprev, t.rnext = c.tail, nil
	if c.tail != nil {
		c.tail.rnext = t
	} else {
		c.head = t
	}
	c.tail = t
	t.inRing = true
	c.runnable++
	c.poke()
	c.reschedule()
}

// dropRunnable removes t from the runnable tasks; when none is left, the
// scheduled slice is cancelled (Twisted's _removeTask).
func (c *Cooperator) dropRunnable(t *Task) {
	if !t.inRing {
		return
	}
	if c.cursor == t {
		c.cursor = t.rnext
		c.fresh = true
	}
	if t.rprev != nil {
		t.rprev.rnext = t.rnext
	} else {
		c.head = t.rnext
	}
	if t.rnext != nil {
		t.rnext.rprev = t.rprev
	} else {
		c.tail = t.rprev
	}
	t.rprev, t.rnext = nil, nil
	t.inRing = false
	c.runnable--
	c.poke()
	if c.head == nil {
		c.cancelTick()
	}
}

// poke asks the running task, if any, to look at its state after its step.
func (c *Cooperator) poke() {
	if c.running == nil {
		return
	}
	for {
		w := c.attn.Load()
		if w&pokeBit != 0 || c.attn.CompareAndSwap(w, w|pokeBit) {
			return
		}
	}
}

func (c *Cooperator) clearPoke() {
	for {
		w := c.attn.Load()
		if w&pokeBit == 0 || c.attn.CompareAndSwap(w, w&^pokeBit) {
			return
		}
	}
}

// releaseIter stops the iterator of a finished task, which runs its pending
// defers; while an iterator is executing, the release waits until it
// suspends. A panic or a runtime.Goexit in those defers is logged: the task
// has finished already.
func (c *Cooperator) releaseIter(t *Task) {
	if t.stopIter == nil {
		return
	}
	if c.running != nil {
		c.release = append(c.release, t)
		return
	}
	stop := t.stopIter
	t.next, t.stopIter = nil, nil
	c.running = t
	stopIter(t, stop)
	c.running = nil
	if t.panicked != nil {
		c.cfg.logger.Error("cooperate: iterator panicked while being released", "error", t.panicked)
		t.panicked = nil
	}
	if t.exited {
		c.cfg.logger.Error("cooperate: iterator called runtime.Goexit while being released")
		t.exited = false
	}
	c.drainRelease()
}

// stopIter calls stop, t's iterator's, recovering the goexitSignal of a
// runtime.Goexit in the iterator's defers (see goexit.go).
func stopIter(t *Task, stop func()) {
	defer func() {
		if t.exited {
			_ = recover()
		}
	}()
	stop()
}

func (c *Cooperator) drainRelease() {
	for len(c.release) > 0 && c.running == nil {
		t := c.release[len(c.release)-1]
		c.release = c.release[:len(c.release)-1]
		c.releaseIter(t)
	}
}
