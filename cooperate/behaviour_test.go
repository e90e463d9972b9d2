package cooperate_test

import (
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
)

// counter returns an endless task that counts its steps in *n.
func counter(n *int) iter.Seq[any] {
	return func(yield func(any) bool) {
		for {
			*n++
			if !yield(nil) {
				return
			}
		}
	}
}

func TestEachRunsEveryValue(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(3)))
	var got []int
	done := watch(cooperate.Each(c, slices.Values([]int{1, 2, 3, 4, 5}), func(v int) error {
		got = append(got, v)
		return nil
	}).Done())
	tick(clock)
	assert.Equal(t, []int{1, 2, 3}, got, "three steps per slice")
	tick(clock)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, got)
	require.True(t, done.fired, "exhausting the iterator is the sixth step")
	assert.NoError(t, done.err)
	assert.Empty(t, clock.Pending())
}

func TestEachErrorFailsOnlyItsTask(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(10)))
	var seen []int
	cleaned := false
	failing := watch(cooperate.Each(c, func(yield func(int) bool) {
		defer func() { cleaned = true }()
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}, func(v int) error {
		seen = append(seen, v)
		if v == 2 {
			return errBoom
		}
		return nil
	}).Done())
	other := 0
	otherTask := c.Cooperate(counter(&other))
	for range 5 {
		tick(clock)
	}
	requireFailedWith(t, failing, errBoom)
	assert.Equal(t, []int{0, 1, 2}, seen, "no value after the failing one")
	assert.True(t, cleaned, "the iterator was told to stop")
	assert.Greater(t, other, 30, "the other task goes on")
	require.NoError(t, otherTask.Stop())
}

func TestPanicFailsOnlyItsTask(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(10)))
	failing := watch(cooperate.Each(c, slices.Values([]int{1, 2, 3}), func(v int) error {
		if v == 2 {
			panic("step two")
		}
		return nil
	}).Done())
	other := 0
	otherTask := c.Cooperate(counter(&other))
	tick(clock)
	tick(clock)
	require.True(t, failing.fired)
	var pe *deferred.PanicError
	require.ErrorAs(t, failing.err, &pe)
	assert.Equal(t, "step two", pe.Value)
	assert.Greater(t, other, 10)
	require.NoError(t, otherTask.Stop())
}

func TestFailureWithoutWaiterIsLogged(t *testing.T) {
	logger, logs := testLogger()
	c, clock := newCooperator(t, cooperate.WithLogger(logger))
	task := cooperate.Each(c, slices.Values([]int{1}), func(int) error { return errBoom })
	tick(clock)
	assert.Contains(t, logs.String(), "boom")
	assert.ErrorIs(t, task.Stop(), errBoom)
}

func TestFailureWithWaiterIsNotLogged(t *testing.T) {
	logger, logs := testLogger()
	c, clock := newCooperator(t, cooperate.WithLogger(logger))
	done := watch(cooperate.Each(c, slices.Values([]int{1}), func(int) error { return errBoom }).Done())
	tick(clock)
	requireFailedWith(t, done, errBoom)
	assert.Empty(t, logs.String())
}

func TestTaskStopsItself(t *testing.T) {
	c, clock := newCooperator(t)
	var task *cooperate.Task
	cleaned := false
	steps := 0
	task = cooperate.Each(c, func(yield func(int) bool) {
		defer func() { cleaned = true }()
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}, func(v int) error {
		steps++
		if v == 3 {
			require.NoError(t, task.Stop())
		}
		return nil
	})
	done := watch(task.Done())
	tick(clock)
	requireFailedWith(t, done, cooperate.ErrTaskStopped)
	assert.Equal(t, 4, steps)
	assert.True(t, cleaned)
	assert.Empty(t, clock.Pending())
}

func TestTaskPausesItself(t *testing.T) {
	c, clock := newCooperator(t)
	var task *cooperate.Task
	steps := 0
	task = cooperate.Each(c, slices.Values(make([]int, 10)), func(int) error {
		steps++
		if steps == 3 {
			require.NoError(t, task.Pause())
		}
		return nil
	})
	done := watch(task.Done())
	tick(clock)
	assert.Equal(t, 3, steps, "the step that paused finished, no more ran")
	assert.Empty(t, clock.Pending(), "a paused task asks for no slice")
	require.NoError(t, task.Resume())
	tick(clock)
	assert.Equal(t, 10, steps)
	assert.True(t, done.fired)
}

func TestStopFromInsideAStep(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(100)))
	releasedA, releasedB := false, false
	stepsA := 0
	a := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		defer func() { releasedA = true }()
		for {
			stepsA++
			if stepsA == 5 {
				c.Stop()
			}
			if !yield(nil) {
				return
			}
		}
	}))
	b := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		defer func() { releasedB = true }()
		for yield(nil) {
		}
	}))
	tick(clock)
	requireFailedWith(t, a, cooperate.ErrSchedulerStopped)
	requireFailedWith(t, b, cooperate.ErrSchedulerStopped)
	assert.Equal(t, 5, stepsA)
	assert.True(t, releasedA)
	assert.True(t, releasedB)
	assert.Empty(t, clock.Pending())
}

func TestStopAnotherTaskFromAStep(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTurnSteps(1), cooperate.WithTerminator(stepsPerSlice(100)))
	releasedB := false
	stepsB := 0
	b := c.Cooperate(func(yield func(any) bool) {
		defer func() { releasedB = true }()
		for {
			stepsB++
			if !yield(nil) {
				return
			}
		}
	})
	// a was given later, so b has taken a step before a's second step.
	steps := 0
	a := cooperate.Each(c, slices.Values(make([]int, 10)), func(int) error {
		steps++
		if steps == 2 {
			require.NoError(t, b.Stop())
		}
		return nil
	})
	tick(clock)
	assert.Equal(t, 2, stepsB)
	assert.True(t, releasedB, "b's iterator was released once a's step ended")
	assert.ErrorIs(t, a.Stop(), cooperate.ErrTaskDone)
}

func TestDeferredWaitsOnly(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(100)))
	d := deferred.New[struct{}]()
	var order []string
	cooperate.Coiterate(c, func(yield func(any) bool) {
		order = append(order, "a1")
		if !yield(d) {
			return
		}
		order = append(order, "a2")
	})
	cooperate.Coiterate(c, func(yield func(any) bool) {
		for _, s := range []string{"b1", "b2", "b3"} {
			order = append(order, s)
			if !yield(nil) {
				return
			}
		}
	})
	tick(clock)
	assert.Equal(t, []string{"a1", "b1", "b2", "b3"}, order, "a waits while b runs")
	d.Callback(struct{}{})
	tick(clock)
	tick(clock)
	assert.Equal(t, []string{"a1", "b1", "b2", "b3", "a2"}, order)
}

// doneFunc is a Waitable that keeps the function it is to call.
type doneFunc struct{ done func(error) }

func (w *doneFunc) OnComplete(done func(error)) { w.done = done }

func TestWaitable(t *testing.T) {
	c, clock := newCooperator(t)
	w := &doneFunc{}
	wi := deferred.New[int]()
	var order []string
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		order = append(order, "start")
		if !yield(w) {
			return
		}
		order = append(order, "after waitable")
		if !yield(cooperate.Wait(wi)) {
			return
		}
		order = append(order, "after Deferred[int]")
		if !yield(cooperate.Wait(deferred.Fail[int](errBoom))) {
			return
		}
		order = append(order, "never")
	}))
	tick(clock)
	require.NotNil(t, w.done)
	assert.Equal(t, []string{"start"}, order)
	w.done(nil)
	tick(clock)
	tick(clock)
	assert.Equal(t, []string{"start", "after waitable"}, order)
	result := watch(wi)
	wi.Callback(42)
	assert.Zero(t, result.value, "waiting consumed the result")
	for range 3 {
		tick(clock)
	}
	assert.Equal(t, []string{"start", "after waitable", "after Deferred[int]"}, order)
	requireFailedWith(t, done, errBoom)
}

func TestStaleWaitableCompletionIsIgnored(t *testing.T) {
	c, clock := newCooperator(t)
	w1, w2 := &doneFunc{}, &doneFunc{}
	steps := 0
	cooperate.Coiterate(c, func(yield func(any) bool) {
		steps++
		if !yield(w1) {
			return
		}
		steps++
		if !yield(w2) {
			return
		}
		steps++
	})
	tick(clock)
	w1.done(nil)
	tick(clock)
	tick(clock)
	require.Equal(t, 2, steps)
	w1.done(nil) // a second completion of the first value must not resume the task
	tick(clock)
	tick(clock)
	assert.Equal(t, 2, steps)
	w2.done(nil)
	tick(clock)
	tick(clock)
	assert.Equal(t, 3, steps)
}

func TestNilValuesAreNotWaitedOn(t *testing.T) {
	c, clock := newCooperator(t)
	var nilAny *deferred.Deferred[any]
	var nilUnit *deferred.Deferred[struct{}]
	done := watch(cooperate.Coiterate(c, values(nilAny, nilUnit, 3, "x")))
	tick(clock)
	require.True(t, done.fired)
	assert.NoError(t, done.err)
}

func TestPanickingWaitableFailsTheTask(t *testing.T) {
	c, clock := newCooperator(t)
	var w *doneFunc // nil: OnComplete panics
	done := watch(cooperate.Coiterate(c, values(w)))
	tick(clock)
	var pe *deferred.PanicError
	require.True(t, done.fired)
	assert.ErrorAs(t, done.err, &pe)
}

func TestDeferredFiredOnAnotherGoroutine(t *testing.T) {
	c, clock := newCooperator(t)
	d := deferred.New[any]()
	steps := 0
	done := watch(cooperate.Coiterate(c, func(yield func(any) bool) {
		steps++
		if !yield(d) {
			return
		}
		steps++
	}))
	tick(clock)
	var wg sync.WaitGroup
	wg.Go(func() { d.Callback("from elsewhere") })
	wg.Wait()
	assert.Equal(t, 1, steps, "the task resumes on the loop, not on the firing goroutine")
	tick(clock)
	tick(clock)
	assert.Equal(t, 2, steps)
	assert.True(t, done.fired)
}

func TestTimeSliceEnds(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithSlice(time.Millisecond))
	n := 0
	task := c.Cooperate(counter(&n))
	tick(clock) // returns only because the slice's timer fired
	first := n
	assert.Positive(t, first)
	tick(clock)
	assert.Greater(t, n, first)
	require.NoError(t, task.Stop())
}

func TestAdaptiveRunsToCompletion(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithAdaptive(time.Millisecond))
	sum := 0
	done := watch(cooperate.Each(c, slices.Values(make([]int, 100000)), func(int) error {
		sum++
		return nil
	}).Done())
	for i := 0; !done.fired; i++ {
		require.Less(t, i, 100000)
		tick(clock)
	}
	assert.NoError(t, done.err)
	assert.Equal(t, 100000, sum)
}

func TestPanickingTerminator(t *testing.T) {
	logger, logs := testLogger()
	c, clock := newCooperator(t, cooperate.WithLogger(logger), cooperate.WithTerminator(func() func() bool {
		return func() bool { panic("bad predicate") }
	}))
	n := 0
	task := c.Cooperate(counter(&n))
	tick(clock)
	assert.Equal(t, 1, n, "a panicking predicate ends the slice")
	tick(clock)
	assert.Equal(t, 2, n)
	assert.Contains(t, logs.String(), "bad predicate")
	require.NoError(t, task.Stop())
}

func TestPanickingTerminatorFactory(t *testing.T) {
	logger, logs := testLogger()
	c, clock := newCooperator(t, cooperate.WithLogger(logger), cooperate.WithTerminator(func() func() bool {
		panic("bad factory")
	}))
	n := 0
	task := c.Cooperate(counter(&n))
	tick(clock)
	assert.Equal(t, 1, n)
	assert.Contains(t, logs.String(), "bad factory")
	require.NoError(t, task.Stop())
}

func TestPanicWhileReleasingIsLogged(t *testing.T) {
	logger, logs := testLogger()
	c, clock := newCooperator(t, cooperate.WithLogger(logger), cooperate.WithTerminator(oneStep))
	task := c.Cooperate(func(yield func(any) bool) {
		defer func() { panic("cleanup failed") }()
		for yield(nil) {
		}
	})
	tick(clock)
	require.NoError(t, task.Stop())
	assert.Contains(t, logs.String(), "cleanup failed")
}

func TestTaskAddedDuringATurnGetsTurns(t *testing.T) {
	// A task alone has no turn limit; one given during its turn must still
	// get turns in the same slice.
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(20)))
	var order []string
	added := false
	c.Cooperate(func(yield func(any) bool) {
		for {
			order = append(order, "a")
			if !added {
				added = true
				c.Cooperate(func(yield func(any) bool) {
					for {
						order = append(order, "b")
						if !yield(nil) {
							return
						}
					}
				})
			}
			if !yield(nil) {
				return
			}
		}
	})
	tick(clock)
	assert.Equal(t, []string{"a", "a", "b", "a", "b", "a"}, order[:6])
	assert.Len(t, order, 20)
}

func TestTaskAddedBetweenSlicesGetsTurns(t *testing.T) {
	c, clock := newCooperator(t, cooperate.WithTerminator(stepsPerSlice(4)))
	var order []string
	c.Cooperate(func(yield func(any) bool) {
		for {
			order = append(order, "a")
			if !yield(nil) {
				return
			}
		}
	})
	tick(clock)
	c.Cooperate(func(yield func(any) bool) {
		for {
			order = append(order, "b")
			if !yield(nil) {
				return
			}
		}
	})
	tick(clock)
	assert.Equal(t, []string{"a", "a", "a", "a", "a", "b", "a", "b"}, order)
}

func TestMisusePanics(t *testing.T) {
	c, _ := newCooperator(t)
	seq := slices.Values([]int{1})
	f := func(int) error { return nil }
	cases := map[string]func(){
		"cooperate: New: nil loop":                           func() { cooperate.New(nil) },
		"cooperate: New: nil option":                         func() { cooperate.New(nilLoop(), nil) },
		"cooperate: Cooperator.Cooperate: nil iterator":      func() { c.Cooperate(nil) },
		"cooperate: Cooperator.Cooperate: nil Cooperator":    func() { (*cooperate.Cooperator)(nil).Cooperate(empty) },
		"cooperate: Each: nil Cooperator":                    func() { cooperate.Each(nil, seq, f) },
		"cooperate: Each: nil iterator":                      func() { cooperate.Each(c, nil, f) },
		"cooperate: Each: nil function":                      func() { cooperate.Each(c, seq, nil) },
		"cooperate: Coiterate: nil Cooperator":               func() { cooperate.Coiterate(nil, empty) },
		"cooperate: WithSlice: slice must be positive":       func() { cooperate.WithSlice(0) },
		"cooperate: WithAdaptive: target must be positive":   func() { cooperate.WithAdaptive(-1) },
		"cooperate: WithTerminator: nil factory":             func() { cooperate.WithTerminator(nil) },
		"cooperate: WithScheduler: nil function":             func() { cooperate.WithScheduler(nil) },
		"cooperate: WithTurnSteps: steps must be at least 1": func() { cooperate.WithTurnSteps(0) },
		"cooperate: WithLogger: nil logger":                  func() { cooperate.WithLogger(nil) },
		"cooperate: Wait: nil Deferred":                      func() { cooperate.Wait[int](nil) },
		"cooperate: Task.SetWeight: weight must be at least 1": func() {
			c.Cooperate(empty).SetWeight(0)
		},
	}
	for want, f := range cases {
		assert.PanicsWithValue(t, want, f, want)
	}
}

func TestBackstopEndsSlicesOfSuddenlySlowSteps(t *testing.T) {
	// Trivial steps teach the task to read the clock only every many
	// thousand steps; when steps then take 200 µs each, the backstop timer
	// must end the slice long before that many have run.
	c, clock := newCooperator(t, cooperate.WithSlice(time.Millisecond))
	slow := false
	slowSteps := 0
	task := c.Cooperate(func(yield func(any) bool) {
		for {
			if slow {
				slowSteps++
				for start := time.Now(); time.Since(start) < 200*time.Microsecond; {
				}
			}
			if !yield(nil) {
				return
			}
		}
	})
	for range 5 {
		tick(clock)
	}
	slow = true
	tick(clock)
	t.Logf("%d slow steps in the slice", slowSteps)
	assert.Positive(t, slowSteps)
	assert.Less(t, slowSteps, 1000, "the slice ran on without the backstop")
	require.NoError(t, task.Stop())
}

func TestBackstopRearmsWithinSlices(t *testing.T) {
	// Over 40 slices of 1 ms the backstop, armed 10 ms past a deadline,
	// fires during later slices and re-arms for their own deadlines.
	c, clock := newCooperator(t, cooperate.WithSlice(time.Millisecond))
	n := 0
	task := c.Cooperate(func(yield func(any) bool) {
		for {
			n++
			busy(200)
			if !yield(nil) {
				return
			}
		}
	})
	for range 40 {
		tick(clock)
	}
	assert.Positive(t, n)
	require.NoError(t, task.Stop())
}
