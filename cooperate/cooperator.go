package cooperate

import (
	"iter"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/scheduler"
)

// Cooperator runs tasks in slices on a [scheduler.Loop]: Twisted's
// Cooperator. Within a slice its runnable tasks take turns, round-robin in
// the order they became runnable; when the slice ends the Cooperator asks the
// loop for the next one and returns, so the loop runs its timers and other
// callbacks between slices. A Cooperator with no runnable task asks for
// nothing.
//
// What ends a slice is a wall-time budget ([WithSlice], 10 ms by default),
// a budget sized to keep the loop's lag under a target ([WithAdaptive]), or a
// predicate asked after each step ([WithTerminator]). Under a wall-time
// budget a step costs neither a clock read nor a coroutine switch: a timer
// raises a flag at the deadline and the running task checks it after each
// step; iterators are suspended only when a slice or a turn ends.
//
// A Cooperator and its tasks belong to the loop: call their methods on the
// loop's goroutine (in callbacks it runs, or before it starts), never from
// two goroutines at once. Steps, the callbacks of [Task.Done] Deferreds and
// termination predicates run on the loop's goroutine too. A Deferred that a
// task waits on may fire on any goroutine: the task resumes on the loop.
//
// The zero value is not usable: create Cooperators with [New].
type Cooperator struct {
	loop     scheduler.Loop
	schedule func(tick func()) scheduler.Call
	cfg      config

	// Runnable tasks, in turn order, and whose turn it is.
	head, tail *Task
	cursor     *Task // the task whose turn it is; nil: the head's, at the next pick
	fresh      bool  // the cursor's turn has not started yet
	runnable   int

	// Every unfinished task, in the order it was given.
	liveHead, liveTail *Task

	call      scheduler.Call // the scheduled tick, if it can be cancelled
	scheduled bool           // a tick is scheduled
	tickGen   uint64         // identifies the tick wanted; older ones do nothing
	stopped   bool
	inTick    bool
	running   *Task   // the task whose iterator is executing, if any
	release   []*Task // finished tasks whose iterators wait to be released

	// The current slice. attn is read by the running task after each step;
	// its low bits ask it to look at the slice state (see checkpoint).
	attn      atomic.Uint64
	gen       uint64
	sliceOver bool
	pred      func() bool
	timer     *time.Timer
	budget    time.Duration // the slice's length
	start     time.Time     // when it began
	steps     int           // steps taken in it
	check     time.Duration // work between two clock reads of a task

	// Measurements that size turns and adaptive slices.
	quantum     int           // steps per turn for weight 1
	overshoot   ewma          // how far slices overrun their timer
	lag         ewma          // how late the loop runs a scheduled slice
	scheduledAt time.Time     // when the pending tick was asked for
	turnTarget  time.Duration // wanted length of a turn
}

// Bits of Cooperator.attn below the slice generation.
const (
	pokeBit    = 1 << iota // a task's state changed: look at it
	expiredBit             // the slice's time is up
	predBit                // a predicate must be asked after each step
	attnBits   = 3
	attnMask   = 1<<attnBits - 1
)

const (
	// defaultTurn is how long a turn should last under a wall-time slice.
	defaultTurn = 50 * time.Microsecond
	// maxQuantum bounds the steps of a turn, so that a sudden change in step
	// cost cannot give one task many slices in a row.
	maxQuantum = 1 << 24
	// alone is the turn of a task with no other runnable task.
	alone = 1 << 62
	// maxCheck is how much work a task does, at most, between two reads of
	// the clock; minChecks is how many reads a slice gets, at least.
	maxCheck  = 100 * time.Microsecond
	minChecks = 32
)

// New returns a Cooperator that runs its slices on loop. It schedules
// nothing until it is given a task. A nil loop panics.
func New(loop scheduler.Loop, opts ...Option) *Cooperator {
	if loop == nil {
		panic("cooperate: New: nil loop")
	}
	cfg := config{mode: modeFixed, slice: DefaultSlice}
	for _, o := range opts {
		if o == nil {
			panic("cooperate: New: nil option")
		}
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	c := &Cooperator{loop: loop, schedule: cfg.schedule, cfg: cfg, quantum: 1}
	if c.schedule == nil {
		c.schedule = func(tick func()) scheduler.Call { return loop.CallLater(tickDelay, tick) }
	}
	if cfg.turnSteps > 0 {
		c.quantum = cfg.turnSteps
	}
	c.turnTarget = defaultTurn
	return c
}

// Cooperate adds seq as a new task and returns it: Twisted's cooperate. The
// task's first step runs in a later slice, never inside Cooperate. Each step
// runs the iterator to its next value. A value that is a
// *deferred.Deferred[any], a *deferred.Deferred[struct{}] or a [Waitable]
// pauses the task until it completes, and fails the task if it fails; other
// values, nil included, are ignored. A step that panics fails the task with a
// *deferred.PanicError.
//
// On a stopped Cooperator the task fails at once with [ErrSchedulerStopped].
// A nil seq panics.
func (c *Cooperator) Cooperate(seq iter.Seq[any]) *Task {
	if seq == nil {
		panic("cooperate: Cooperator.Cooperate: nil iterator")
	}
	t := c.newTask()
	t.body = func(yield func(struct{}) bool) {
		for v := range seq {
			if v != nil {
				if w := asWaitable(v); w != nil {
					t.wait = w
					t.left--
					if !yield(struct{}{}) {
						return
					}
					continue
				}
			}
			t.left--
			if t.left <= 0 || t.c.attn.Load()&attnMask != 0 {
				if t.checkpoint() && !yield(struct{}{}) {
					return
				}
			}
		}
	}
	c.add(t)
	return t
}

// Stop fails every unfinished task, paused and waiting ones included, with
// [ErrSchedulerStopped], in the order they were given, releases their
// iterators, and cancels the next slice; tasks given afterwards fail at once
// the same way. A step under way when Stop is called from inside it
// finishes first. Stopping twice does nothing more.
func (c *Cooperator) Stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	c.cancelTick()
	for c.liveHead != nil {
		c.liveHead.finish(stateSchedulerStopped, ErrSchedulerStopped)
	}
}

// Running reports whether the Cooperator accepts tasks: true until
// [Cooperator.Stop]. Twisted's Cooperator.running.
func (c *Cooperator) Running() bool {
	return !c.stopped
}

// newTask returns a task of c that is not yet linked anywhere.
func (c *Cooperator) newTask() *Task {
	if c == nil {
		panic("cooperate: nil Cooperator")
	}
	return &Task{c: c, weight: 1, k: 1}
}

// add makes a new task live and runnable, or fails it if c is stopped.
func (c *Cooperator) add(t *Task) {
	t.lprev = c.liveTail
	if c.liveTail != nil {
		c.liveTail.lnext = t
	} else {
		c.liveHead = t
	}
	c.liveTail = t
	if c.stopped {
		t.finish(stateSchedulerStopped, ErrSchedulerStopped)
		return
	}
	c.pushRunnable(t)
}

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

// reschedule asks for a slice if there is work and none is coming. Inside a
// slice it does nothing: the slice asks for the next one when it ends.
func (c *Cooperator) reschedule() {
	if c.inTick || c.scheduled || c.stopped || c.head == nil {
		return
	}
	c.scheduled = true
	c.tickGen++
	gen := c.tickGen
	if c.cfg.mode == modeAdaptive {
		c.scheduledAt = time.Now()
	}
	c.call = c.schedule(func() { c.tick(gen) })
}

func (c *Cooperator) cancelTick() {
	if !c.scheduled {
		return
	}
	c.scheduled = false
	c.tickGen++
	if c.call != nil {
		_ = c.call.Cancel()
		c.call = nil
	}
}

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
		t.lastCheck = time.Since(c.start)
	}
	c.running = t
	_, more := t.next()
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
		if t.state == stateActive {
			switch {
			case t.panicked != nil:
				t.finish(stateFailed, t.panicked)
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
}

// afterStep ends the slice if its budget is spent, for a step whose end the
// task's own checkpoint did not see.
func (c *Cooperator) afterStep() {
	if c.pred != nil {
		if c.askPred() {
			c.sliceOver = true
		}
	} else if c.attn.Load()&expiredBit != 0 || time.Since(c.start) >= c.budget {
		c.sliceOver = true
	}
}

// askPred asks the slice's termination predicate, treating a panic as true.
func (c *Cooperator) askPred() (over bool) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.logger.Error("cooperate: termination predicate panicked; slice ended", "panic", r)
			over = true
		}
	}()
	return c.pred()
}

// newPred calls the terminator factory, treating a panic as a predicate that
// ends the slice after one step.
func (c *Cooperator) newPred() (pred func() bool) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.logger.Error("cooperate: terminator factory panicked; slice limited to one step", "panic", r)
			pred = nil
		}
		if pred == nil {
			pred = func() bool { return true }
		}
	}()
	return c.cfg.factory()
}

// releaseIter stops the iterator of a finished task, which runs its pending
// defers; while an iterator is executing, the release waits until it
// suspends.
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
	stop()
	c.running = nil
	if t.panicked != nil {
		c.cfg.logger.Error("cooperate: iterator panicked while being released", "error", t.panicked)
		t.panicked = nil
	}
	c.drainRelease()
}

func (c *Cooperator) drainRelease() {
	for len(c.release) > 0 && c.running == nil {
		t := c.release[len(c.release)-1]
		c.release = c.release[:len(c.release)-1]
		c.releaseIter(t)
	}
}
