package cooperate_test

import (
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

var errBoom = errors.New("boom")

// empty is an iterator with no values.
func empty(func(any) bool) {}

// values yields vs, one per step.
func values(vs ...any) iter.Seq[any] { return slices.Values(vs) }

func TestStoppedRejectsNewTasks(t *testing.T) {
	c, clock := newCooperator(t)
	c.Stop()
	assert.False(t, c.Running())

	done := watch(cooperate.Coiterate(c, empty))
	requireFailedWith(t, done, cooperate.ErrSchedulerStopped)

	task := c.Cooperate(values(1, 2))
	assert.ErrorIs(t, task.Stop(), cooperate.ErrSchedulerStopped)
	assert.ErrorIs(t, task.Pause(), cooperate.ErrSchedulerStopped)
	requireFailedWith(t, watch(task.Done()), cooperate.ErrSchedulerStopped)
	assert.Empty(t, clock.Pending(), "a stopped Cooperator schedules nothing")
}

func TestStopRunning(t *testing.T) {
	c, clock := newCooperator(t)
	last := -1
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		for i := range 3 {
			last = i
			if !yield(nil) {
				return
			}
		}
	}))
	c.Stop()
	requireFailedWith(t, done, cooperate.ErrSchedulerStopped)
	tick(clock)
	assert.Equal(t, -1, last, "no step ran")
	assert.Empty(t, clock.Pending())
}

func TestStopReleasesStartedIterators(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(oneStep))
	released := 0
	steps := 0
	for range 2 {
		c.Cooperate(func(yield func(any) bool) {
			defer func() { released++ }()
			for {
				steps++
				if !yield(nil) {
					return
				}
			}
		})
	}
	tick(clock)
	tick(clock)
	require.Equal(t, 2, steps)
	c.Stop()
	assert.Equal(t, 2, released, "Stop ran the iterators' defers")
	tick(clock)
	assert.Equal(t, 2, steps)
}

func TestStopOutstanding(t *testing.T) {
	c, clock := newCooperator(t)
	outstanding := deferred.New[any]()
	resumed := false
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		if !yield(outstanding) {
			return
		}
		resumed = true
	}))
	tick(clock)
	require.False(t, done.fired)

	c.Stop()
	requireFailedWith(t, done, cooperate.ErrSchedulerStopped)
	outstanding.Callback("arglebargle")
	tick(clock)
	assert.False(t, resumed)
}

func TestUnexpectedError(t *testing.T) {
	c, clock := newCooperator(t)
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		panic(errBoom)
	}))
	tick(clock)
	requireFailedWith(t, done, errBoom)
	var pe *deferred.PanicError
	require.ErrorAs(t, done.err, &pe)
	assert.Equal(t, errBoom, pe.Value)
	assert.Contains(t, string(pe.Stack), "cooperator_test.go", "the stack shows where the panic happened")
}

func TestUnexpectedErrorActuallyLater(t *testing.T) {
	c, clock := newCooperator(t)
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		d := deferred.New[any]()
		clock.CallLater(0, func() { d.Errback(errBoom) })
		yield(d)
	}))
	for range 3 {
		tick(clock)
	}
	requireFailedWith(t, done, errBoom)
}

func TestUnexpectedErrorNotActuallyLater(t *testing.T) {
	c, clock := newCooperator(t)
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		yield(deferred.Fail[any](errBoom))
	}))
	tick(clock)
	requireFailedWith(t, done, errBoom)
}

// cooperation runs four tasks that each record three values, and returns
// the order the values were recorded in.
func cooperation(t *testing.T, opts ...cooperate.Option) []any {
	c, clock := newCooperator(t, opts...)
	var got []any
	groups := [][]any{{"a", "b", "c"}, {1, 2, 3}, {"d", "e", "f"}, {4, 5, 6}}
	var dones []*outcome[struct{}]
	for _, g := range groups {
		dones = append(dones, watch(cooperate.Coiterate(c, func(yield func(any) bool) {
			for _, v := range g {
				got = append(got, v)
				if !yield(nil) {
					return
				}
			}
		})))
	}
	for range 100 {
		tick(clock)
	}
	for _, d := range dones {
		require.True(t, d.fired)
		require.NoError(t, d.err)
	}
	assert.Empty(t, clock.Pending())
	return got
}

func TestCooperation(t *testing.T) {
	want := []any{"a", 1, "d", 4, "b", 2, "e", 5, "c", 3, "f", 6}
	t.Run("terminator", func(t *testing.T) {
		assert.Equal(t, want, cooperation(t, cooperate.WithTerminator(stepsPerSlice(5))))
	})
	t.Run("time slices, one step per turn", func(t *testing.T) {
		assert.Equal(t, want, cooperation(t, cooperate.WithTurnSteps(1)))
	})
	t.Run("time slices, two steps per turn", func(t *testing.T) {
		assert.Equal(t, []any{"a", "b", 1, 2, "d", "e", 4, 5, "c", 3, "f", 6},
			cooperation(t, cooperate.WithTurnSteps(2)))
	})
}

func TestResourceExhaustion(t *testing.T) {
	stopped := false
	c, clock := newCooperator(t, cooperate.WithTerminator(func() func() bool {
		return func() bool { return stopped }
	}))
	var output []int
	c.Cooperate(func(yield func(any) bool) {
		for i := range 100 {
			output = append(output, i)
			if i == 9 {
				stopped = true
			}
			if !yield(i) {
				return
			}
		}
	})
	tick(clock)
	c.Stop()
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, output)
}

func TestCallbackReCoiterate(t *testing.T) {
	// A Done callback that gives the Cooperator a new task must not make it
	// ask for two slices at once.
	var pending []func()
	sched := func(f func()) scheduler.Call {
		require.Empty(t, pending, "a slice was asked for while one was pending")
		pending = append(pending, f)
		return nil
	}
	c := cooperate.New(scheduler.NewManualClock(), cooperate.WithScheduler(sched), cooperate.WithTerminator(oneStep))
	defer c.Stop()
	var done *outcome[struct{}]
	cooperate.Coiterate(c, empty).AddCallback(func(v struct{}) (struct{}, error) {
		done = watch(cooperate.Coiterate(c, empty))
		return v, nil
	})
	for work := 0; done == nil || !done.fired; work++ {
		require.Less(t, work, 50, "the Cooperator took too long")
		if len(pending) > 0 {
			f := pending[0]
			pending = pending[1:]
			f()
		}
	}
	require.NoError(t, done.err)
}

func TestRemovingLastTaskStopsScheduledCall(t *testing.T) {
	var last *fakeCall
	sched := func(f func()) scheduler.Call {
		last = &fakeCall{f: f}
		return last
	}
	c := cooperate.New(scheduler.NewManualClock(), cooperate.WithScheduler(sched))
	defer c.Stop()

	task1 := c.Cooperate(values(1, 2))
	task2 := c.Cooperate(values(1, 2))
	require.NotNil(t, last)
	first := last

	require.NoError(t, task1.Stop())
	assert.False(t, first.cancelled, "a task is left: the slice is still wanted")
	assert.Same(t, first, last)

	require.NoError(t, task2.Stop())
	assert.True(t, first.cancelled, "no task is left: the slice is cancelled")

	c.Cooperate(values(1, 2))
	assert.NotSame(t, first, last, "a new task asks for a new slice")
	assert.False(t, last.cancelled)
}

func TestNoTaskSchedulesNothing(t *testing.T) {
	clock := scheduler.NewManualClock()
	cooperate.New(clock)
	assert.Empty(t, clock.Pending())
}

func TestRunning(t *testing.T) {
	c, _ := newCooperator(t)
	assert.True(t, c.Running())
	c.Stop()
	assert.False(t, c.Running())
	c.Stop() // a second Stop does nothing more
	assert.False(t, c.Running())
}

func TestCooperateRunsLater(t *testing.T) {
	c, clock := newCooperator(t)
	ran := 0
	task := c.Cooperate(func(yield func(any) bool) {
		for {
			ran++
			if !yield(nil) {
				return
			}
		}
	})
	assert.Zero(t, ran, "nothing runs inside Cooperate")
	require.Len(t, clock.Pending(), 1)
	tick(clock)
	assert.Positive(t, ran)
	require.NoError(t, task.Stop())
	assert.Empty(t, clock.Pending())
}
