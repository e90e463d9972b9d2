package cooperate_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// crunch computes for a while, rounds of xorshift from x, and returns the
// result so that the work cannot be optimised away.
func crunch(x uint64, rounds int) uint64 {
	x |= 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// exclusive fails the test if two steps of the same task overlap: each step
// holds it while it runs.
type exclusive struct {
	t    *testing.T
	busy atomic.Bool
}

func (e *exclusive) enter() {
	if !e.busy.CompareAndSwap(false, true) {
		e.t.Error("two steps of one task ran at once")
	}
}

func (e *exclusive) leave() { e.busy.Store(false) }

// self gives a task's steps the task, which they may need before the call
// that makes it has returned it.
type self struct {
	task atomic.Pointer[cooperate.Task]
}

// lane returns the lane running the step that calls it, or -1 before the
// task has been set.
func (s *self) lane() int {
	if t := s.task.Load(); t != nil {
		return cooperate.LaneOf(t)
	}
	return -1
}

func TestLanesResults(t *testing.T) {
	for _, lanes := range []int{2, 4} {
		t.Run(fmt.Sprintf("%d lanes", lanes), func(t *testing.T) {
			c, loop := newLanes(t, lanes)
			require.Equal(t, lanes, c.Lanes())
			const tasks = 64
			sums := make([]int, tasks)
			stepLanes := make([]map[int]bool, tasks)
			onLoop := make([]bool, tasks)
			dones := make([]*outcome[struct{}], tasks)
			doneOnLoop := 0
			for i := range tasks {
				n := 200 + 37*i
				guard := &exclusive{t: t}
				me := &self{}
				stepLanes[i] = map[int]bool{}
				step := func(v int) {
					guard.enter()
					defer guard.leave()
					sums[i] += v
					if v%50 == 0 {
						stepLanes[i][me.lane()] = true
						onLoop[i] = onLoop[i] || goid() == loop.gid
					}
				}
				var task *cooperate.Task
				if i%2 == 0 {
					task = cooperate.Each(c, upTo(n), func(v int) error {
						step(v)
						return nil
					})
				} else {
					// Cooperate, yielding Deferreds that have fired now and
					// then: the task waits for its lane's next slice.
					task = c.Cooperate(func(yield func(any) bool) {
						for v := range n {
							step(v)
							var y any
							switch v % 10 {
							case 3:
								y = deferred.Succeed[any](v)
							case 7:
								y = cooperate.Wait(deferred.Succeed(v))
							}
							if !yield(y) {
								return
							}
						}
					})
				}
				me.task.Store(task)
				task.SetWeight(1 + i%3)
				d := task.Done()
				d.AddCallback(func(v struct{}) (struct{}, error) {
					if goid() == loop.gid {
						doneOnLoop++
					}
					return v, nil
				})
				dones[i] = watch(d)
			}
			loop.runUntil(t, func() bool {
				for _, d := range dones {
					if !d.fired {
						return false
					}
				}
				return true
			})
			used := map[int]bool{}
			for i := range tasks {
				require.NoError(t, dones[i].err, "task %d", i)
				n := 200 + 37*i
				assert.Equal(t, n*(n-1)/2, sums[i], "task %d", i)
				assert.False(t, onLoop[i], "task %d took a step on the loop", i)
				for l := range stepLanes[i] {
					used[l] = true
				}
			}
			assert.Equal(t, tasks, doneOnLoop, "every Done fired on the loop")
			delete(used, -1) // steps taken before the test stored the task
			assert.Len(t, used, lanes, "every lane ran steps")
		})
	}
}

func TestLanesShortTaskBehindLongOnes(t *testing.T) {
	c, loop := newLanes(t, 2)
	var running sync.WaitGroup
	longs := make([]*cooperate.Task, 16)
	for i := range longs {
		first := true
		x := uint64(i)
		running.Add(1)
		longs[i] = cooperate.Each(c, endless, func(int) error {
			if first {
				first = false
				running.Done()
			}
			x = crunch(x, 200)
			return nil
		})
	}
	running.Wait() // all 16 have taken a step: they hold both lanes

	x := uint64(99)
	steps := 0
	short := watch(cooperate.Each(c, upTo(1000), func(int) error {
		steps++
		x = crunch(x, 200)
		return nil
	}).Done())
	loop.runUntil(t, func() bool { return short.fired })
	require.NoError(t, short.err)
	assert.Equal(t, 1000, steps)
	for i, long := range longs {
		// The long tasks never end: the short one finished beside them.
		require.NoError(t, long.Stop(), "long task %d had finished", i)
	}
}

func TestLanesIdleLaneTakesWork(t *testing.T) {
	c, _ := newLanes(t, 2)
	// t1 goes to lane 0, the gated task to lane 1, t3 to lane 0, the first
	// of the two least loaded lanes. When the gated task ends, lane 1 is
	// idle, and lane 0 must hand it t1 or t3 at the end of a slice.
	moved := make(chan int, 2)
	first := make(chan int, 2)
	mover := func() (*self, func(int) error) {
		me := &self{}
		home := -1
		return me, func(int) error {
			l := me.lane()
			switch {
			case l < 0:
			case home < 0:
				home = l
				first <- l
			case l != home:
				moved <- l
				home = l
			}
			return nil
		}
	}
	me1, f1 := mover()
	t1 := cooperate.Each(c, endless, f1)
	me1.task.Store(t1)

	release := blockLane(t, c)

	me3, f3 := mover()
	t3 := cooperate.Each(c, endless, f3)
	me3.task.Store(t3)
	busy := receive(t, first, "a first step on the busy lane")
	assert.Equal(t, busy, receive(t, first, "the other first step on the busy lane"),
		"both tasks start on the same lane")

	release()
	assert.Equal(t, 1-busy, receive(t, moved, "a task moving to the idle lane"),
		"a task moved to the lane left idle")
	require.NoError(t, t1.Stop())
	require.NoError(t, t3.Stop())
}

func TestLanesPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLanes(2))
		defer c.Stop()
		gate := make(chan struct{})
		var steps atomic.Int32
		task := cooperate.Each(c, upTo(100), func(v int) error {
			steps.Add(1)
			if v == 9 {
				<-gate
			}
			return nil
		})
		done := watch(task.Done())
		synctest.Wait() // the lane waits in the tenth step
		require.Equal(t, int32(10), steps.Load())

		require.NoError(t, task.Pause())
		require.NoError(t, task.Pause())
		close(gate)
		synctest.Wait() // the lane has paused the task and sleeps
		assert.Equal(t, int32(10), steps.Load(), "paused after the step under way")

		require.NoError(t, task.Resume())
		synctest.Wait()
		assert.Equal(t, int32(10), steps.Load(), "one pause is left")

		require.NoError(t, task.Resume())
		assert.ErrorIs(t, task.Resume(), cooperate.ErrNotPaused)
		synctest.Wait()
		clock.Advance(0) // runs what the lane sent the loop
		assert.Equal(t, int32(100), steps.Load())
		require.True(t, done.fired)
		assert.NoError(t, done.err)
		assert.ErrorIs(t, task.Pause(), cooperate.ErrTaskDone)
		assert.ErrorIs(t, task.Stop(), cooperate.ErrTaskDone)
		require.True(t, watch(task.Done()).fired, "Done on a finished task has fired already")
	})
}

// blockLane gives c a task whose only step blocks until the returned
// function is called, and waits until that step runs, so that what is given
// to the lane meanwhile waits for the lane's next slice.
func blockLane(t *testing.T, c *cooperate.Cooperator) (release func()) {
	gate := make(chan struct{})
	entered := make(chan struct{})
	cooperate.Each(c, upTo(1), func(int) error {
		close(entered)
		<-gate
		return nil
	})
	receive(t, entered, "the blocking step")
	return func() { close(gate) }
}

func TestLanesPauseBeforeFirstStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLanes(1))
		defer c.Stop()
		release := blockLane(t, c)
		var steps atomic.Int32
		task := cooperate.Each(c, upTo(5), func(int) error {
			steps.Add(1)
			return nil
		})
		require.NoError(t, task.Pause())
		release()
		synctest.Wait()
		assert.Zero(t, steps.Load(), "paused before it reached its lane")
		require.NoError(t, task.Resume())
		synctest.Wait()
		assert.Equal(t, int32(5), steps.Load())
	})
}

func TestLanesStopTask(t *testing.T) {
	c, loop := newLanes(t, 2)
	started := make(chan struct{})
	var released atomic.Bool
	task := cooperate.Each(c, func(yield func(int) bool) {
		defer released.Store(true)
		endless(yield)
	}, func(v int) error {
		if v == 0 {
			close(started)
		}
		return nil
	})
	done := watch(task.Done())
	releasedAtDone := false
	task.Done().AddErrback(func(error) (struct{}, error) {
		releasedAtDone = released.Load()
		return struct{}{}, nil
	})
	receive(t, started, "the first step")

	require.NoError(t, task.Stop())
	assert.ErrorIs(t, task.Stop(), cooperate.ErrTaskStopped, "decided on the loop at once")
	assert.ErrorIs(t, task.Pause(), cooperate.ErrTaskStopped)
	assert.False(t, done.fired, "Done waits for the lane to let go of the task")
	late := watch(task.Done())
	assert.False(t, late.fired)

	loop.runUntil(t, func() bool { return done.fired && late.fired })
	requireFailedWith(t, done, cooperate.ErrTaskStopped)
	requireFailedWith(t, late, cooperate.ErrTaskStopped)
	assert.True(t, releasedAtDone, "the iterator was released before Done fired")
}

func TestLanesStopBeforeFirstStep(t *testing.T) {
	c, loop := newLanes(t, 1)
	release := blockLane(t, c)
	steps := 0
	task := cooperate.Each(c, upTo(5), func(int) error {
		steps++
		return nil
	})
	done := watch(task.Done())
	require.NoError(t, task.Stop())
	release()
	loop.runUntil(t, func() bool { return done.fired })
	requireFailedWith(t, done, cooperate.ErrTaskStopped)
	assert.Zero(t, steps)
}

func TestLanesWeights(t *testing.T) {
	// One lane, fixed turns: the order of steps is Twisted's round-robin
	// with weights, whatever the slices, as on the loop.
	c, loop := newLanes(t, 1, cooperate.WithTurnSteps(4))
	release := blockLane(t, c)
	var order strings.Builder
	record := func(name string, n int) *cooperate.Task {
		return cooperate.Each(c, upTo(n), func(int) error {
			order.WriteString(name)
			return nil
		})
	}
	a := watch(record("a", 400).Done())
	bt := record("b", 800)
	bt.SetWeight(2)
	assert.Equal(t, 2, bt.Weight())
	b := watch(bt.Done())
	release()
	loop.runUntil(t, func() bool { return a.fired && b.fired })
	assert.Equal(t, strings.Repeat("aaaabbbbbbbb", 100), order.String())
}

func TestLanesWeightChange(t *testing.T) {
	// Two endless tasks on one lane, one step per turn, alternate; once
	// SetWeight(3) has reached the lane, b takes three steps for each of
	// a's.
	synctest.Test(t, func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLanes(1), cooperate.WithTurnSteps(1))
		defer c.Stop()
		release := blockLane(t, c)
		var order []byte // only the lane touches it until it waits
		hold := map[int]chan struct{}{20: make(chan struct{}), 60: make(chan struct{})}
		record := func(name byte) func(int) error {
			return func(int) error {
				order = append(order, name)
				if ch, ok := hold[len(order)]; ok {
					<-ch
				}
				return nil
			}
		}
		a := cooperate.Each(c, endless, record('a'))
		b := cooperate.Each(c, endless, record('b'))
		release()
		synctest.Wait() // in the 20th step
		b.SetWeight(3)
		close(hold[20])
		synctest.Wait() // in the 60th step
		assert.Equal(t, strings.Repeat("ab", 10)+strings.Repeat("abbb", 10), string(order))
		require.NoError(t, a.Stop())
		require.NoError(t, b.Stop())
		close(hold[60])
	})
}

func TestLanesDeferredFiredElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock, cooperate.WithLanes(2))
		defer c.Stop()
		d := deferred.New[any]()
		di := deferred.New[int]()
		var stage atomic.Int32
		done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
			stage.Store(1)
			if !yield(d) {
				return
			}
			stage.Store(2)
			if !yield(cooperate.Wait(di)) {
				return
			}
			stage.Store(3)
		}))
		synctest.Wait()
		require.Equal(t, int32(1), stage.Load(), "the task waits on d")

		var wg sync.WaitGroup
		wg.Go(func() { d.Callback("from another goroutine") })
		wg.Wait()
		synctest.Wait()
		require.Equal(t, int32(2), stage.Load(), "the task resumed on its lane")

		di.Callback(7) // from the loop's goroutine this time
		synctest.Wait()
		clock.Advance(0)
		assert.Equal(t, int32(3), stage.Load())
		require.True(t, done.fired)
		assert.NoError(t, done.err)
	})
}

func TestLanesFailedDeferredFailsTask(t *testing.T) {
	c, loop := newLanes(t, 2)
	d := deferred.New[struct{}]()
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		yield(d)
	}))
	go d.Errback(errBoom)
	loop.runUntil(t, func() bool { return done.fired })
	requireFailedWith(t, done, errBoom)
}

func TestLanesPanicFailsOnlyItsTask(t *testing.T) {
	c, loop := newLanes(t, 2)
	var released atomic.Bool
	panicking := watch(cooperate.Each(c, func(yield func(int) bool) {
		defer released.Store(true)
		endless(yield)
	}, func(v int) error {
		if v == 5 {
			panic("step five")
		}
		return nil
	}).Done())
	failing := watch(cooperate.Each(c, endless, func(v int) error {
		if v == 3 {
			return errBoom
		}
		return nil
	}).Done())
	sums := make([]int, 6)
	others := make([]*outcome[struct{}], len(sums))
	for i := range sums {
		others[i] = watch(cooperate.Each(c, upTo(1000), func(v int) error {
			sums[i] += v
			return nil
		}).Done())
	}
	loop.runUntil(t, func() bool {
		for _, o := range others {
			if !o.fired {
				return false
			}
		}
		return panicking.fired && failing.fired
	})
	var pe *deferred.PanicError
	require.ErrorAs(t, panicking.err, &pe)
	assert.Equal(t, "step five", pe.Value)
	assert.True(t, released.Load(), "the panicking task's iterator was released")
	requireFailedWith(t, failing, errBoom)
	for i, o := range others {
		require.NoError(t, o.err)
		assert.Equal(t, 999*1000/2, sums[i])
	}
}

func TestLanesFailureWithoutWaiterIsLogged(t *testing.T) {
	logger, logs := testLogger()
	c, loop := newLanes(t, 2, cooperate.WithLogger(logger))
	task := cooperate.Each(c, upTo(3), func(int) error { return errBoom })
	loop.runUntil(t, func() bool { return strings.Contains(logs.String(), "boom") })
	assert.ErrorIs(t, task.Stop(), cooperate.ErrTaskFailed)
	assert.ErrorIs(t, task.Stop(), errBoom)
}

func TestLanesStopInFlight(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	loop := newChanLoop()
	c := cooperate.New(loop, cooperate.WithLanes(4))

	var began, released atomic.Int32
	var started sync.WaitGroup
	var all []*outcome[struct{}]
	add := func(seq func(yield func(any) bool)) *cooperate.Task {
		task := c.Cooperate(func(yield func(any) bool) {
			began.Add(1)
			defer released.Add(1)
			seq(yield)
		})
		all = append(all, watch(task.Done()))
		return task
	}
	for range 24 {
		started.Add(1)
		add(func(yield func(any) bool) {
			x := uint64(1)
			started.Done()
			for yield(nil) {
				x = crunch(x, 100)
			}
		})
	}
	for range 4 { // waiting on Deferreds that never fire
		started.Add(1)
		add(func(yield func(any) bool) {
			started.Done()
			yield(deferred.New[any]())
		})
	}
	for range 4 { // paused
		require.NoError(t, add(func(yield func(any) bool) {
			for yield(nil) {
			}
		}).Pause())
	}
	started.Wait()
	// One step is under way when Stop is called, and ends after. It blocks
	// its lane: add it once the others have all begun.
	inStep, gate := make(chan struct{}), make(chan struct{})
	var stepEnded atomic.Bool
	add(func(yield func(any) bool) {
		close(inStep)
		<-gate
		stepEnded.Store(true)
		yield(nil)
	})
	receive(t, inStep, "the blocking step")

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.Stop()
	}()
	close(gate)
	receive(t, stopped, "Stop")
	assert.True(t, stepEnded.Load(), "Stop waited for the step under way")
	for _, o := range all {
		requireFailedWith(t, o, cooperate.ErrSchedulerStopped)
	}
	// The paused tasks may have begun before their pause reached the lane.
	assert.GreaterOrEqual(t, began.Load(), int32(24+4+1))
	assert.Equal(t, began.Load(), released.Load(), "every started iterator was released")
	goleak.VerifyNone(t, ignore)

	late := watch(cooperate.Each(c, upTo(3), func(int) error { return nil }).Done())
	requireFailedWith(t, late, cooperate.ErrSchedulerStopped)
}

func TestLanesStopReentrant(t *testing.T) {
	c, loop := newLanes(t, 2)
	var phases []string
	task := cooperate.Each(c, upTo(10), func(int) error { return nil })
	task.Done().AddCallback(func(v struct{}) (struct{}, error) {
		phases = append(phases, "done")
		c.Stop()
		phases = append(phases, "stopped")
		return v, nil
	})
	loop.runUntil(t, func() bool { return len(phases) == 2 })
	assert.Equal(t, []string{"done", "stopped"}, phases)
	assert.False(t, c.Running())
}

func TestLanesStoppedBeforeStart(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	c := cooperate.New(newChanLoop(), cooperate.WithLanes(3))
	c.Stop()
	done := watch(cooperate.Coiterate(c, empty))
	requireFailedWith(t, done, cooperate.ErrSchedulerStopped)
	goleak.VerifyNone(t, ignore)
}

func TestLanesOptions(t *testing.T) {
	c := cooperate.New(newChanLoop(), cooperate.WithLanes(0))
	defer c.Stop()
	assert.Equal(t, runtime.GOMAXPROCS(0), c.Lanes(), "0 means GOMAXPROCS")
	assert.Zero(t, cooperate.New(newChanLoop()).Lanes(), "no lanes by default")
	assert.PanicsWithValue(t, "cooperate: New: WithScheduler and WithLanes cannot be combined", func() {
		cooperate.New(newChanLoop(), cooperate.WithLanes(2), cooperate.WithScheduler(func(func()) scheduler.Call { return nil }))
	})
}

func TestLanesOnReactor(t *testing.T) {
	r := reactor.New()
	var reactorG uint64 // set before any lane runs
	sums := make([]int, 8)
	doneOffReactor := 0
	var stepsOnReactor atomic.Int32
	r.CallWhenRunning(func() {
		reactorG = goid()
		c := cooperate.New(r, cooperate.WithLanes(2))
		ds := make([]*deferred.Deferred[struct{}], len(sums))
		for i := range sums {
			ds[i] = cooperate.Each(c, upTo(20000), func(v int) error {
				if v%1000 == 0 && goid() == reactorG {
					stepsOnReactor.Add(1)
				}
				sums[i] += v
				return nil
			}).Done().AddCallback(func(v struct{}) (struct{}, error) {
				if goid() != reactorG {
					doneOffReactor++
				}
				return v, nil
			})
		}
		deferred.All(ds...).AddBoth(func(_ []struct{}, err error) ([]struct{}, error) {
			assert.NoError(t, err)
			c.Stop()
			assert.NoError(t, r.Stop())
			return nil, nil
		})
	})
	require.NoError(t, r.Run())
	for i, s := range sums {
		assert.Equal(t, 19999*20000/2, s, "task %d", i)
	}
	assert.Zero(t, stepsOnReactor.Load(), "steps ran on the lanes")
	assert.Zero(t, doneOffReactor, "Done fired on the reactor")
}
