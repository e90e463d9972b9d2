package cooperate

import (
	"fmt"
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
// budget a step costs neither a clock read nor a coroutine switch: after
// each step the running task decrements a counter and tests a flag. The
// counter makes it read the clock about every 100 µs of work (it learns how
// many of its steps that is), and a timer raises the flag after the deadline
// in case steps suddenly slow down. Iterators are suspended only when a
// slice or a turn ends.
//
// A Cooperator and its tasks belong to the loop: call their methods on the
// loop's goroutine (in callbacks it runs, or before it starts), never from
// two goroutines at once. Steps, the callbacks of [Task.Done] Deferreds and
// termination predicates run on the loop's goroutine too. A Deferred that a
// task waits on may fire on any goroutine: the task resumes on the loop.
//
// With [WithLanes], steps and termination predicates run on the lanes'
// goroutines instead, each lane running slices of its own tasks as above,
// while the Cooperator's and the tasks' methods, and the callbacks of
// [Task.Done] Deferreds, stay on the loop.
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
	stopErr   error  // what tasks fail with once stopped
	unhook    func() // cancels the loop's OnStop, if it has one
	inTick    bool
	goexit    bool    // a step called runtime.Goexit: tick ends the goroutine
	running   *Task   // the task whose iterator is executing, if any
	release   []*Task // finished tasks whose iterators wait to be released

	// The current slice. attn is read by the running task after each step;
	// its low bits ask it to look at the slice state (see checkpoint).
	attn      atomic.Uint64
	gen       uint64
	sliceOver bool
	pred      func() bool
	budget    time.Duration // the slice's length
	start     time.Time     // when it began
	steps     int           // steps taken in it
	check     time.Duration // work between two clock reads of a task
	read      time.Duration // the clock at the checkpoint that ended the last turn,
	readOK    bool          // if that is what happened last

	// The backstop timer (see armBackstop), and what it reads: the current
	// slice's deadline (since epoch; 0 between slices) and when it is armed
	// to fire.
	epoch      time.Time
	backstop   *time.Timer
	deadline   atomic.Int64
	backstopAt atomic.Int64

	// Measurements that size turns and adaptive slices.
	quantum     int           // steps per turn for weight 1
	overshoot   ewma          // how far slices overrun their budget
	lag         ewma          // how late the loop runs a scheduled slice
	scheduledAt time.Time     // when the pending tick was asked for
	turnTarget  time.Duration // wanted length of a turn

	// With lanes: the lanes, on the Cooperator the user holds. On a lane's
	// own Cooperator, interrupt is raised while messages wait for the lane,
	// and ends the slice at the next checkpoint.
	lanes     *lanePool
	interrupt *atomic.Bool

	// The loop, when it can say that other work waits for it (the
	// reactor), and when the running slice asks it next (see yieldDue).
	yielder   scheduler.Yielder
	nextProbe time.Duration
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
	// minTurn and maxTurn bound how long a turn lasts under a wall-time
	// slice.
	minTurn = 100 * time.Microsecond
	maxTurn = time.Millisecond
	// maxQuantum bounds the steps of a turn, so that a sudden change in step
	// cost cannot give one task many slices in a row.
	maxQuantum = 1 << 24
	// alone is the turn of a task with no other runnable task.
	alone = 1 << 62
	// maxCheck is how much work a task does, at most, between two reads of
	// the clock; minChecks is how many reads a slice gets, at least.
	maxCheck  = 100 * time.Microsecond
	minChecks = 16

	// yieldEvery is how often, at most, a slice asks a [scheduler.Yielder]
	// loop whether other work waits; the first time at yieldEvery into the
	// slice, or half the slice if that is shorter.
	yieldEvery = time.Millisecond
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
	if cfg.lanes > 0 && cfg.schedule != nil {
		panic("cooperate: New: WithScheduler and WithLanes cannot be combined")
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	c := newCooperator(loop, cfg)
	c.bind()
	return c
}

// errLoopStopped is what the tasks of a Cooperator whose loop has stopped
// for good fail with: the Cooperator has stopped too.
var errLoopStopped = fmt.Errorf("%w: %w", ErrSchedulerStopped, scheduler.ErrLoopStopped)

// bind ties c to the life of its loop, if the loop can stop for good: on a
// loop that has stopped, c is stopped at once; on one that tells when it
// stops (the reactor), c stops then.
func (c *Cooperator) bind() {
	switch l := c.loop.(type) {
	case scheduler.StopNotifier:
		unhook, ok := l.OnStop(func() {
			c.unhook = nil
			c.stopWith(errLoopStopped)
		})
		if !ok {
			c.stopWith(errLoopStopped)
			return
		}
		c.unhook = unhook
	case scheduler.StoppableLoop:
		if l.Stopped() {
			c.stopWith(errLoopStopped)
		}
	}
}

// newCooperator returns a Cooperator on loop configured by cfg: the one
// the user holds, and each lane's own.
func newCooperator(loop scheduler.Loop, cfg config) *Cooperator {
	c := &Cooperator{loop: loop, schedule: cfg.schedule, cfg: cfg, quantum: 1, epoch: time.Now()}
	if cfg.lanes > 0 {
		// The lanes run the slices; this Cooperator runs none.
		c.lanes = newLanePool(c)
		return c
	}
	if c.schedule == nil {
		c.schedule = func(tick func()) scheduler.Call { return loop.CallLater(tickDelay, tick) }
	}
	if cfg.turnSteps > 0 {
		c.quantum = cfg.turnSteps
	}
	if cfg.mode != modeTerminator {
		// Made here, stopped, so that the field is never written while the
		// timer's function might read it.
		c.backstop = time.AfterFunc(time.Hour, c.fireBackstop)
		c.backstop.Stop()
	}
	c.turnTarget = minTurn
	if y, ok := loop.(scheduler.Yielder); ok && cfg.mode != modeTerminator && !cfg.strict {
		c.yielder = y
	}
	return c
}

// Stop fails every unfinished task, paused and waiting ones included, with
// [ErrSchedulerStopped], in the order they were given, releases their
// iterators, and cancels the next slice; tasks given afterwards fail at once
// the same way. A step under way when Stop is called from inside it
// finishes first. Stopping twice does nothing more.
//
// A Cooperator also stops when its loop stops for good, if the loop tells
// ([scheduler.StopNotifier], as the reactor does): then, on the loop's
// goroutine as it stops, and at once for a Cooperator made on a loop that
// has already stopped ([scheduler.StoppableLoop]), its tasks fail with an
// error that wraps both ErrSchedulerStopped and [scheduler.ErrLoopStopped],
// instead of waiting for ever for a slice that will never come.
//
// With [WithLanes], Stop also stops the lanes and waits for them: each lane
// ends its slice after the step under way, fails its tasks and releases their
// iterators on its own goroutine, and exits. When Stop returns, no step runs
// and no goroutine of the Cooperator is left; the tasks' Done Deferreds fire
// inside Stop, on the loop, as without lanes. A step that waits for the loop
// would make Stop wait forever.
func (c *Cooperator) Stop() {
	if c.unhook != nil {
		c.unhook()
		c.unhook = nil
	}
	c.stopWith(ErrSchedulerStopped)
}

// stopWith stops c, failing its tasks with err.
func (c *Cooperator) stopWith(err error) {
	if c.stopped {
		return
	}
	c.stopped = true
	c.stopErr = err
	if c.lanes != nil {
		c.lanes.stop()
	} else {
		c.cancelTick()
		if c.backstop != nil {
			c.backstop.Stop()
		}
	}
	c.failLive(err)
}

// failLive fails every unfinished task of a stopped c with err, in the
// order they were given. If a Done callback calls runtime.Goexit, the tasks
// after its own still fail, as its goroutine ends.
func (c *Cooperator) failLive(err error) {
	var t *Task
	defer func() {
		// Go on only past a task that has left the list: a failure
		// before that is no callback's, and would recur.
		if c.liveHead != nil && c.liveHead != t {
			c.failLive(err)
		}
	}()
	for c.liveHead != nil {
		t = c.liveHead
		if c.lanes != nil {
			t.lt.settle(stateSchedulerStopped, err)
		} else {
			t.finish(stateSchedulerStopped, err)
		}
	}
}

// Running reports whether the Cooperator accepts tasks: true until
// [Cooperator.Stop], or until its loop stops for good. Twisted's
// Cooperator.running.
func (c *Cooperator) Running() bool {
	return !c.stopped
}

// Lanes returns how many lanes run the Cooperator's steps ([WithLanes]), or
// 0 if its loop runs them.
func (c *Cooperator) Lanes() int {
	if c.lanes == nil {
		return 0
	}
	return len(c.lanes.all)
}

// newTask returns a task of c that is not yet linked anywhere.
func (c *Cooperator) newTask() *Task {
	return &Task{c: c, weight: 1, k: 1}
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
