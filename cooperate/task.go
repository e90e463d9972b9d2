package cooperate

import (
	"fmt"
	"time"

	"github.com/twinego/twine/deferred"
)

// taskState is where a task is in its life.
type taskState uint8

const (
	stateActive taskState = iota
	stateDone
	stateStopped
	stateFailed
	stateSchedulerStopped
)

// Task is a task running in a [Cooperator]: Twisted's CooperativeTask. It is
// made by [Cooperator.Cooperate], [Each] or [Coiterate], and can be paused,
// resumed, stopped, weighted and waited on.
//
// A task finishes once: done when its iterator is exhausted, failed when a
// step returns an error, panics or calls [runtime.Goexit] (or a value it
// waits on fails), stopped by [Task.Stop], or failed with
// [ErrSchedulerStopped] by [Cooperator.Stop] (or with an error wrapping it
// and [scheduler.ErrLoopStopped] when its loop stops for good).
// Its [Task.Done] Deferreds fire then, after it has left its Cooperator, so
// their callbacks may use the Cooperator freely.
//
// The iterator runs as a coroutine of its own, which a step that calls
// runtime.Goexit (as t.FailNow does) ends: the iterator's deferred calls
// run, and the task fails with an error wrapping [ErrGoexit]. On a lane
// ([WithLanes]) that is all, as for a panic: the lane goes on with its other
// tasks. On the loop the step ran on the loop's goroutine, and the
// Cooperator then ends that goroutine, as the step asked, once the task has
// failed and the slice is wound up: the reactor shuts down and its Run
// returns a *reactor.GoexitError; on a [scheduler.ManualClock], the
// goroutine that advanced the clock ends. A runtime.Goexit in the
// iterator's deferred calls while the task is being released, once it has
// finished, is logged, as a panic there is, and ends nothing.
//
// Like its Cooperator, a Task belongs to the loop: call its methods on the
// loop's goroutine. With [WithLanes] too, and never from the task's own
// steps, which run on a lane: there, Pause, Resume, Stop and SetWeight take
// effect on the lane after the step under way (or, rarely, after about
// 100 µs more of the task's work), while what they return is decided on
// the loop at once, and the Done Deferreds fire once the lane has let go of
// the task.
type Task struct {
	c *Cooperator

	// body runs the iterator, suspending through yield when the task must
	// give up the loop; run wraps it for iter.Pull, whose functions are
	// next, stopIter and (inside the coroutine) yield.
	body     func()
	next     func() (struct{}, bool)
	stopIter func()
	yield    func(struct{}) bool

	// Turns: links among the runnable tasks, weight, and steps left in the
	// turn. A turn is run in segments of at most k steps, after which the
	// task reads the clock: left counts down the segment, seg is its length.
	rprev, rnext *Task
	inRing       bool
	weight       int
	turn         int
	left, seg    int
	k            int           // steps between clock reads, sized to the slice's check
	lastCheck    time.Duration // when the clock was last read, since the slice began

	lprev, lnext *Task // among the unfinished tasks

	pauses   int      // Pause calls not yet undone by Resume
	waiting  bool     // waiting on a yielded value
	waitGen  uint64   // identifies the current wait
	wait     Waitable // a value the iterator yielded, for the Cooperator to wait on
	err      error    // the error a step returned
	panicked *deferred.PanicError
	exited   bool // the iterator called runtime.Goexit (see goexit.go)

	state  taskState
	result error // what Done Deferreds fail with; nil once done
	finErr error // what Pause and Stop return once finished
	done   []*deferred.Deferred[struct{}]

	// With lanes, a task is two Tasks: the one the user holds, on the loop,
	// and the one its lane runs; lt links them (see laneTask).
	lt      *laneTask
	settled bool // the user's Task: the lane has let go; Done has fired
}

// run is the iterator's coroutine: it runs body and turns a panic into the
// task's failure. A runtime.Goexit, which ends the coroutine, it turns into
// a goexitSignal panic for the goroutine that resumed the coroutine to
// recover (see goexit.go).
func (t *Task) run(yield func(struct{}) bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			t.panicked = deferred.NewPanicError(r)
			return
		}
		t.exited = true
		panic(goexitSignal{})
	}()
	t.yield = yield
	body := t.body
	body()
	returned = true
}

// suspend runs the checkpoint after a step and, if the task must give up the
// loop, suspends its coroutine; it reports whether the iterator must stop,
// the task having been released while suspended.
func (t *Task) suspend() bool {
	return t.checkpoint() && !t.yield(struct{}{})
}

// checkpoint runs in the task's coroutine after a step, when its segment is
// over or its Cooperator's attention word is set. It reports whether the
// coroutine must suspend: the slice is over, the turn is over, or the task
// was paused or finished by the step.
func (t *Task) checkpoint() bool {
	c := t.c
	c.clearPoke()
	used := t.fold()
	if c.pred != nil {
		if c.askPred() || c.interrupted() {
			c.sliceOver = true
			return true
		}
	} else {
		now := time.Since(c.start)
		if c.attn.Load()&expiredBit != 0 || now >= c.budget || c.interrupted() || c.yieldDue(now) {
			c.sliceOver = true
			return true
		}
		t.adapt(used, now)
		c.read, c.readOK = now, true
	}
	if t.state != stateActive || !t.inRing || t.turn <= 0 {
		return true
	}
	c.readOK = false
	if c.runnable > 1 {
		// Others may have become runnable during a turn that had no end.
		t.turn = min(t.turn, c.turnCap(t))
	}
	t.segment()
	return false
}

// segment starts a segment of the turn: the steps until the next
// checkpoint.
func (t *Task) segment() {
	n := t.turn
	if t.c.cfg.mode != modeTerminator {
		n = min(n, t.k)
	}
	t.left, t.seg = n, n
}

// fold moves the steps taken in the segment so far into the turn and the
// slice, and returns how many there were.
func (t *Task) fold() int {
	used := t.seg - t.left
	t.turn -= used
	t.c.steps += used
	t.seg = t.left
	return used
}

// adapt sizes the task's segments so that it reads the clock about every
// c.check of work, from the steps taken since the last read; a segment at
// most quadruples from one read to the next.
func (t *Task) adapt(used int, now time.Duration) {
	dt := now - t.lastCheck
	t.lastCheck = now
	if used <= 0 || dt <= 0 {
		return
	}
	k := int64(t.c.check) * int64(used) / int64(dt)
	t.k = int(min(max(k, 1), int64(t.k)*4, maxQuantum))
}

// Pause stops the task from running until [Task.Resume] has been called as
// many times as Pause; the step under way, if any, finishes first. A task
// waiting on a yielded Deferred stays paused after it fires, until resumed.
// Once the task has finished, Pause returns the error that says how
// ([ErrTaskDone], [ErrTaskStopped], an error wrapping [ErrTaskFailed] and the
// cause, or [ErrSchedulerStopped]) and does nothing.
func (t *Task) Pause() error {
	if lt := t.onLanes(); lt != nil {
		return lt.pause()
	}
	if t.state != stateActive {
		return t.finErr
	}
	t.pauses++
	if t.pauses == 1 {
		t.c.dropRunnable(t)
	}
	return nil
}

// Resume undoes one [Task.Pause]. When the last pause is undone the task
// becomes runnable again (unless it waits on a yielded value), at the end of
// the turn order; it runs in a later slice, never inside Resume. Resume
// returns [ErrNotPaused] if there is no pause to undo, even once the task
// has finished; resuming a paused task that has since finished only undoes
// the pause.
func (t *Task) Resume() error {
	if lt := t.onLanes(); lt != nil {
		return lt.resume()
	}
	if t.pauses == 0 {
		return ErrNotPaused
	}
	t.pauses--
	if t.pauses == 0 && t.state == stateActive && !t.waiting {
		t.c.pushRunnable(t)
	}
	return nil
}

// Stop finishes the task: it takes no more steps, its iterator is released
// (running its pending defers), and its [Task.Done] Deferreds fail with
// [ErrTaskStopped]. A value it waits on is then ignored when it fires. Once
// the task has finished, Stop returns the error that says how, as
// [Task.Pause] does, and does nothing. With [WithLanes], the task's lane
// releases the iterator after the step under way, and the Done Deferreds
// fire after that, on the loop: later than Stop, but never before the last
// step has ended.
func (t *Task) Stop() error {
	if lt := t.onLanes(); lt != nil {
		return lt.stop()
	}
	if t.state != stateActive {
		return t.finErr
	}
	t.finish(stateStopped, ErrTaskStopped)
	return nil
}

// Done returns a new Deferred that fires when the task finishes: Twisted's
// whenDone. It succeeds when the iterator is exhausted, and fails with the
// step's error when a step fails (a *deferred.PanicError for a panic, an
// error wrapping [ErrGoexit] for a runtime.Goexit), with
// [ErrTaskStopped] when the task is stopped, and with [ErrSchedulerStopped]
// when its Cooperator is (with an error wrapping it and
// [scheduler.ErrLoopStopped] when that is because its loop stopped). Each
// call returns a Deferred of its own, so callbacks added to one do not
// change what another receives, and should a callback end its goroutine
// with runtime.Goexit, the Deferreds after its own fire first; on a finished
// task it has already fired. With [WithLanes] it fires on the loop, through
// its CallSoon, once the lane has released the task's iterator, so that its
// callbacks see everything the steps did; until then it has not fired, even
// if Pause and Stop already report how the task finished.
func (t *Task) Done() *deferred.Deferred[struct{}] {
	if t.onLanes() != nil {
		// On lanes, Done fires once the lane has let go of the task, even
		// if the loop already knows how it finished.
		return t.whenDone(t.settled)
	}
	return t.whenDone(t.state != stateActive)
}

// whenDone returns a new Deferred for Done: fired with the task's result if
// fired, else one that fire will fire.
func (t *Task) whenDone(fired bool) *deferred.Deferred[struct{}] {
	if fired {
		if t.result != nil {
			return deferred.Fail[struct{}](t.result)
		}
		return deferred.Succeed(struct{}{})
	}
	d := deferred.New[struct{}]()
	t.done = append(t.done, d)
	return d
}

// SetWeight sets how many turns' worth of steps the task takes each time its
// turn comes (default 1): over many slices, the steps of runnable tasks are
// shared in proportion to their weights. It takes effect from the task's
// next turn. This goes beyond Twisted, whose tasks all weigh 1. A weight
// below 1 panics.
func (t *Task) SetWeight(w int) {
	if w < 1 {
		panic("cooperate: Task.SetWeight: weight must be at least 1")
	}
	t.weight = w
	if lt := t.onLanes(); lt != nil {
		lt.setWeight(w)
	}
}

// Weight returns the task's weight, as set by [Task.SetWeight].
func (t *Task) Weight() int {
	return t.weight
}

// await pauses the task until w completes; the Cooperator then resumes or
// fails it on the loop.
func (t *Task) await(w Waitable) {
	c := t.c
	t.waiting = true
	t.waitGen++
	gen := t.waitGen
	c.dropRunnable(t)
	exited := true
	defer func() {
		if exited {
			// OnComplete called runtime.Goexit: the value will not
			// complete. Fail the task before the goroutine ends.
			t.waitOver(gen, &goexitError{what: fmt.Sprintf("OnComplete of %T", w)})
		}
	}()
	err := onComplete(w, func(err error) {
		c.loop.CallSoon(func() { t.waitOver(gen, err) })
	})
	exited = false
	if err != nil {
		t.waiting = false
		t.finish(stateFailed, err)
	}
}

// onComplete registers done with w, turning a panic of w into an error.
func onComplete(w Waitable, done func(error)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = deferred.NewPanicError(r)
		}
	}()
	w.OnComplete(done)
	return nil
}

// waitOver ends the wait numbered gen: Twisted's resume or failLater.
func (t *Task) waitOver(gen uint64, err error) {
	if gen != t.waitGen || !t.waiting {
		return
	}
	t.waiting = false
	if t.state != stateActive {
		return
	}
	if err != nil {
		t.finish(stateFailed, err)
		return
	}
	if t.pauses == 0 {
		t.c.pushRunnable(t)
	}
}

// finish ends the task: Twisted's _completeWith. The task leaves its
// Cooperator before its Done Deferreds fire. On a lane, it tells the loop
// instead, once the iterator has been released.
func (t *Task) finish(state taskState, result error) {
	c := t.c
	t.conclude(state, result)
	t.body = nil // a running iterator has its own reference; drop ours
	t.wait = nil
	c.dropRunnable(t)
	c.dropLive(t)
	c.poke()
	c.releaseIter(t)
	if t.lt != nil {
		t.lt.report(state, result)
		return
	}
	t.fire()
}

// conclude records how the task finished.
func (t *Task) conclude(state taskState, result error) {
	t.state = state
	t.result = result
	switch state {
	case stateDone:
		t.finErr = ErrTaskDone
	case stateFailed:
		t.finErr = fmt.Errorf("%w: %w", ErrTaskFailed, result)
	default:
		t.finErr = result
	}
}

// fire fires the task's Done Deferreds with its result, on the loop.
func (t *Task) fire() {
	ds := t.done
	t.done = nil
	if t.state == stateFailed && len(ds) == 0 {
		t.c.cfg.logger.Error("cooperate: task failed and nothing waits on it", "error", t.result)
	}
	fireAll(ds, t.result)
}

// fireAll fires ds with result, in order. If a callback calls
// runtime.Goexit, the Deferreds after its own still fire, as its goroutine
// ends.
func fireAll(ds []*deferred.Deferred[struct{}], result error) {
	next := 0
	defer func() {
		if next < len(ds) {
			fireAll(ds[next:], result)
		}
	}()
	for next < len(ds) {
		d := ds[next]
		next++
		if result == nil {
			d.Callback(struct{}{})
		} else {
			d.Errback(result)
		}
	}
}
