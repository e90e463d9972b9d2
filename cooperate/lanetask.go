package cooperate

import (
	"runtime"
	"sync/atomic"
)

// laneTask links the two halves of a task of a Cooperator with lanes: outer,
// the Task the user holds, which belongs to the loop, and inner, the Task a
// lane runs, which belongs to that lane's goroutine. The loop decides what
// the user sees at once (what Pause and Stop return, the pause count, the
// weight); the lane learns of it through ctl and home:
//
//   - The loop stores ctl, then loads home and, if a lane holds the task,
//     sends it apply. A lane that attaches the task stores home, then loads
//     ctl and applies it. The atomics being sequentially consistent, the
//     lane that ends up holding the task sees the last ctl either way.
//   - apply reads the whole of ctl, so it does not matter how many applies
//     run, or in what order: the last one leaves the task as the loop asks.
//   - home is written only by the lane that holds the task (nil when it
//     hands it over, itself when it attaches it), so a lane that reads
//     itself there does hold it.
//
// The lane reports the end of the task to the loop once its iterator has
// been released; the loop fires the Done Deferreds then (settle).
type laneTask struct {
	outer, inner *Task

	ctl  atomic.Uint64        // ctlPause, ctlStop, and the weight above ctlWeightShift
	home atomic.Pointer[lane] // the lane that holds inner, if one does
}

const (
	ctlPause = 1 << iota
	ctlStop
	ctlWeightShift = iota
)

// onLanes returns t's laneTask if t is the handle on the loop of a task of a
// Cooperator with lanes, and nil otherwise.
func (t *Task) onLanes() *laneTask {
	if lt := t.lt; lt != nil && lt.outer == t {
		return lt
	}
	return nil
}

// tell records what the loop asks of the task and lets its lane know.
func (lt *laneTask) tell(ctl uint64) {
	lt.ctl.Store(ctl)
	if l := lt.home.Load(); l != nil {
		l.send(func() { l.apply(lt) })
	}
}

func (lt *laneTask) pause() error {
	t := lt.outer
	if t.state != stateActive {
		return t.finErr
	}
	t.pauses++
	if t.pauses == 1 {
		lt.tell(lt.ctl.Load() | ctlPause)
	}
	return nil
}

func (lt *laneTask) resume() error {
	t := lt.outer
	if t.pauses == 0 {
		return ErrNotPaused
	}
	t.pauses--
	if t.pauses == 0 && t.state == stateActive {
		lt.tell(lt.ctl.Load() &^ ctlPause)
	}
	return nil
}

func (lt *laneTask) stop() error {
	t := lt.outer
	if t.state != stateActive {
		return t.finErr
	}
	t.conclude(stateStopped, ErrTaskStopped)
	lt.tell(lt.ctl.Load() | ctlStop)
	return nil
}

func (lt *laneTask) setWeight(w int) {
	if lt.outer.state == stateActive {
		lt.tell(lt.ctl.Load()&(1<<ctlWeightShift-1) | uint64(w)<<ctlWeightShift)
	}
}

// report runs on the lane when the task has finished there and its iterator
// has been released: the loop settles it.
func (lt *laneTask) report(state taskState, result error) {
	lt.outer.c.loop.CallSoon(func() { lt.settle(state, result) })
	// The loop's goroutine, woken, would wait for a processor until the
	// runtime preempts a lane (some 10 ms) when the lanes hold them all:
	// give it this one now.
	runtime.Gosched()
}

// settle runs on the loop once the lane has let go of the task (or the
// lanes have stopped): the task finishes as the lane says unless the loop
// has decided already, leaves its Cooperator, and its Done Deferreds fire.
func (lt *laneTask) settle(state taskState, result error) {
	t := lt.outer
	if t.settled {
		return
	}
	t.settled = true
	if t.state == stateActive {
		t.conclude(state, result)
	} else if state == stateFailed {
		// Stopped on the loop while a step failed on the lane.
		t.c.cfg.logger.Error("cooperate: task failed while being stopped", "error", result)
	}
	t.c.dropLive(t)
	t.fire()
}
