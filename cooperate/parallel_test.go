package cooperate_test

import (
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
)

// work stands for the elements' work elsewhere: body hands each element a
// Deferred that the test fires, and records what it was given and what was
// cancelled.
type work struct {
	mu        sync.Mutex
	given     []int
	ds        map[int]*deferred.Deferred[int]
	cancelled []int
	maxBusy   int
}

func newWork() *work { return &work{ds: map[int]*deferred.Deferred[int]{}} }

// body is the loop body: a Deferred per element, cancellable.
func (w *work) body(v int) *deferred.Deferred[int] {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.given = append(w.given, v)
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) {
		w.mu.Lock()
		w.cancelled = append(w.cancelled, v)
		delete(w.ds, v)
		w.mu.Unlock()
	})
	w.ds[v] = d
	w.maxBusy = max(w.maxBusy, len(w.ds))
	return d
}

// take removes element v's Deferred, to fire it.
func (w *work) take(v int) *deferred.Deferred[int] {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.ds[v]
	delete(w.ds, v)
	return d
}

func (w *work) succeed(v, result int) { w.take(v).Callback(result) }
func (w *work) fail(v int, err error) { w.take(v).Errback(err) }

func (w *work) busy() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(func(yield func(int) bool) {
		for v := range w.ds {
			if !yield(v) {
				return
			}
		}
	})
}

// counted yields 0..n-1, counting the values taken and noting when it is
// released.
type counted struct {
	n        int
	taken    int
	released bool
}

func (c *counted) seq(yield func(int) bool) {
	defer func() { c.released = true }()
	for i := range c.n {
		c.taken++
		if !yield(i) {
			return
		}
	}
}

// pump runs slices and loop callbacks until nothing is left to run.
func pump(clock *scheduler.ManualClock) {
	for range 1000 {
		if len(clock.Pending()) == 0 {
			return
		}
		tick(clock)
	}
	panic("pump: the loop never went idle")
}

func TestMapGathersInInputOrderWithAtMostNInFlight(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	w := newWork()
	src := &counted{n: 10}
	got := watch(cooperate.Map(c, src.seq, 3, w.body))
	assert.Zero(t, src.taken, "Map took an element before the loop ran")

	pump(clock)
	assert.Equal(t, []int{0, 1, 2}, w.busy(), "three in flight, no more")
	assert.Equal(t, 3, src.taken, "no element is taken while n are in flight")

	// Finish the last one started, each time: 0 and 1 finish last. Each
	// one settled lets one more start.
	for busy := w.busy(); len(busy) > 0; busy = w.busy() {
		require.LessOrEqual(t, len(busy), 3)
		v := busy[len(busy)-1]
		w.succeed(v, 100+v)
		pump(clock)
	}
	require.True(t, got.fired)
	require.NoError(t, got.err)
	assert.Equal(t, []int{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}, got.value)
	assert.Equal(t, 3, w.maxBusy)
	assert.True(t, src.released)
}

func TestParallelHandsResultsOverOnTheLoopAsTheyArrive(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	w := newWork()
	type handed struct{ i, v int }
	var got []handed
	done := watch(cooperate.Parallel(c, slices.Values([]int{10, 11, 12, 13}), 4, w.body, func(i, v int) error {
		got = append(got, handed{i, v})
		return nil
	}))
	pump(clock)
	require.Equal(t, []int{10, 11, 12, 13}, w.busy())

	// Fired on other goroutines: nothing is handed over there, only when
	// the loop runs.
	var wg sync.WaitGroup
	for _, v := range []int{12, 10} {
		d := w.take(v)
		wg.Go(func() { d.Callback(v * 2) })
		wg.Wait()
	}
	assert.Empty(t, got, "a result was handed over off the loop")
	pump(clock)
	assert.Equal(t, []handed{{2, 24}, {0, 20}}, got, "results come in the order they arrived, with their index")
	assert.False(t, done.fired)

	w.succeed(13, 26)
	w.succeed(11, 22)
	pump(clock)
	assert.Equal(t, []handed{{2, 24}, {0, 20}, {3, 26}, {1, 22}}, got)
	require.True(t, done.fired)
	require.NoError(t, done.err)
}

func TestParallelAdvancesTheIteratorInSlices(t *testing.T) {
	// One step per slice: one element per slice, and the loop runs its
	// other calls in between.
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock, cooperate.WithTerminator(oneStep))
	src := &counted{n: 5}
	out := watch(cooperate.Parallel(c, src.seq, 5, func(v int) *deferred.Deferred[int] {
		return deferred.Succeed(v)
	}, nil))
	other := 0
	for want := 1; want <= 5; want++ {
		clock.CallSoon(func() { other++ })
		tick(clock)
		assert.Equal(t, want, src.taken, "one element per slice")
		assert.Equal(t, want, other, "the loop ran its other work between slices")
	}
	pump(clock)
	require.True(t, out.fired)
	require.NoError(t, out.err)
}

func TestParallelStopsAtTheFirstError(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	w := newWork()
	src := &counted{n: 100}
	var handed []int
	out := watch(cooperate.Parallel(c, src.seq, 4, w.body, func(i, v int) error {
		handed = append(handed, i)
		return nil
	}))
	pump(clock)
	require.Equal(t, []int{0, 1, 2, 3}, w.busy())
	w.succeed(1, 1)
	pump(clock)
	require.Equal(t, []int{0, 2, 3, 4}, w.busy())

	boom := errors.New("boom")
	w.fail(2, boom)
	w.succeed(3, 3) // arrives after the failure, before the loop has seen it
	pump(clock)

	require.True(t, out.fired)
	var ee *cooperate.ElementError
	require.ErrorAs(t, out.err, &ee)
	assert.Equal(t, 2, ee.Index)
	assert.ErrorIs(t, out.err, boom)
	assert.Equal(t, []int{1}, handed, "nothing is handed over after the failure")
	assert.ElementsMatch(t, []int{0, 4}, w.cancelled, "what was in flight is cancelled")
	assert.Empty(t, w.busy())
	assert.True(t, src.released, "the iterator is released")
	assert.Equal(t, 5, src.taken)
	assert.Empty(t, clock.Pending(), "the loop left nothing behind")
}

func TestParallelCollectsEveryError(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	var handed []int
	var progress cooperate.Progress
	out := watch(cooperate.Parallel(c, slices.Values([]int{0, 1, 2, 3, 4, 5, 6}), 2,
		func(v int) *deferred.Deferred[int] {
			switch v {
			case 1:
				return deferred.Fail[int](fmt.Errorf("odd one %d", v))
			case 4:
				panic("four")
			case 5:
				return nil
			}
			return deferred.Succeed(v)
		},
		func(i, v int) error {
			if v == 6 {
				return errors.New("each refused 6")
			}
			handed = append(handed, v)
			return nil
		},
		cooperate.CollectErrors(), cooperate.WithProgress(&progress)))
	pump(clock)
	require.True(t, out.fired)
	assert.Equal(t, []int{0, 2, 3}, handed, "every other element is handed over")

	var errs *cooperate.ElementErrors
	require.ErrorAs(t, out.err, &errs)
	var indexes []int
	for _, e := range errs.Errs {
		indexes = append(indexes, e.Index)
	}
	assert.Equal(t, []int{1, 4, 5, 6}, indexes)
	var perr *deferred.PanicError
	assert.ErrorAs(t, errs.Errs[1], &perr, "a panic of body")
	assert.ErrorIs(t, errs.Errs[2], cooperate.ErrNilDeferred)
	assert.ErrorContains(t, errs.Errs[3], "each refused 6")
	assert.ErrorContains(t, out.err, "4 element(s) failed")

	assert.Equal(t, 7, progress.Started())
	assert.Equal(t, 3, progress.Done())
	assert.Equal(t, 4, progress.Failed())
	assert.Zero(t, progress.InFlight())
}

func TestParallelBadElements(t *testing.T) {
	boom := errors.New("boom")
	var clock *scheduler.ManualClock
	// later is a result that arrives on the loop after the step that asked
	// for it, as work elsewhere does.
	later := func(v int) *deferred.Deferred[int] {
		d := deferred.New[int]()
		clock.CallSoon(func() { d.Callback(v) })
		return d
	}
	cases := []struct {
		name  string
		body  func(int) *deferred.Deferred[int]
		each  func(int, int) error
		check func(t *testing.T, err error)
	}{
		{
			name: "body panics",
			body: func(v int) *deferred.Deferred[int] {
				if v == 3 {
					panic("three")
				}
				return later(v)
			},
			check: func(t *testing.T, err error) {
				var perr *deferred.PanicError
				require.ErrorAs(t, err, &perr)
				assert.Equal(t, "three", perr.Value)
			},
		},
		{
			name: "body returns a nil Deferred",
			body: func(v int) *deferred.Deferred[int] {
				if v == 3 {
					return nil
				}
				return later(v)
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, cooperate.ErrNilDeferred) },
		},
		{
			name: "the Deferred fails",
			body: func(v int) *deferred.Deferred[int] {
				if v == 3 {
					return deferred.Fail[int](boom)
				}
				return later(v)
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) },
		},
		{
			name: "each fails",
			body: func(v int) *deferred.Deferred[int] { return later(v) },
			each: func(i, v int) error {
				if v == 3 {
					return boom
				}
				return nil
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, boom) },
		},
		{
			name: "each panics",
			body: func(v int) *deferred.Deferred[int] { return later(v) },
			each: func(i, v int) error {
				if v == 3 {
					panic(boom)
				}
				return nil
			},
			check: func(t *testing.T, err error) {
				var perr *deferred.PanicError
				require.ErrorAs(t, err, &perr)
				assert.ErrorIs(t, err, boom)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock = scheduler.NewManualClock()
			c := cooperate.New(clock)
			src := &counted{n: 1000}
			out := watch(cooperate.Parallel(c, src.seq, 2, tc.body, tc.each))
			pump(clock)
			require.True(t, out.fired, "the loop never ended")
			var ee *cooperate.ElementError
			require.ErrorAs(t, out.err, &ee)
			assert.Equal(t, 3, ee.Index)
			tc.check(t, out.err)
			assert.True(t, src.released)
			assert.LessOrEqual(t, src.taken, 3+2+1, "the loop went on after the failure")
		})
	}
}

func TestParallelIteratorPanics(t *testing.T) {
	for _, collect := range []bool{false, true} {
		t.Run(fmt.Sprintf("collect=%v", collect), func(t *testing.T) {
			clock := scheduler.NewManualClock()
			c := cooperate.New(clock)
			w := newWork()
			seq := func(yield func(int) bool) {
				for i := range 3 {
					if !yield(i) {
						return
					}
				}
				panic("the iterator broke")
			}
			var opts []cooperate.ParallelOption
			if collect {
				opts = append(opts, cooperate.CollectErrors())
			}
			out := watch(cooperate.Map(c, seq, 5, w.body, opts...))
			pump(clock)
			require.True(t, out.fired)
			var perr *deferred.PanicError
			require.ErrorAs(t, out.err, &perr)
			assert.Equal(t, "the iterator broke", perr.Value)
			assert.ElementsMatch(t, []int{0, 1, 2}, w.cancelled, "what was in flight is cancelled")
		})
	}
}

func TestParallelMisusePanics(t *testing.T) {
	c := cooperate.New(scheduler.NewManualClock())
	seq := slices.Values([]int{1})
	body := deferred.Succeed[int]
	assert.PanicsWithValue(t, "cooperate: Parallel: at most n in flight: n must be at least 1", func() {
		cooperate.Parallel(c, seq, 0, body, nil)
	})
	assert.PanicsWithValue(t, "cooperate: Map: at most n in flight: n must be at least 1", func() {
		cooperate.Map(c, seq, -1, body)
	})
	assert.PanicsWithValue(t, "cooperate: Parallel: nil body", func() {
		cooperate.Parallel[int, int](c, seq, 1, nil, nil)
	})
	assert.PanicsWithValue(t, "cooperate: Map: nil body", func() {
		cooperate.Map[int, int](c, seq, 1, nil)
	})
	assert.PanicsWithValue(t, "cooperate: Map: nil iterator", func() {
		cooperate.Map(c, nil, 1, body)
	})
	assert.PanicsWithValue(t, "cooperate: Map: nil Cooperator", func() {
		cooperate.Map(nil, seq, 1, body)
	})
	assert.PanicsWithValue(t, "cooperate: Map: nil option", func() {
		cooperate.Map(c, seq, 1, body, nil)
	})
	assert.PanicsWithValue(t, "cooperate: WithProgress: nil Progress", func() {
		cooperate.WithProgress(nil)
	})
}

func TestParallelCancel(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	w := newWork()
	src := &counted{n: 100}
	handed := 0
	d := cooperate.Parallel(c, src.seq, 3, w.body, func(int, int) error {
		handed++
		return nil
	})
	out := watch(d)
	pump(clock)
	require.Equal(t, []int{0, 1, 2}, w.busy())
	w.succeed(0, 0) // arrived, not yet handed over
	d.Cancel()
	require.True(t, out.fired, "Cancel fails the Deferred at once")
	assert.ErrorIs(t, out.err, deferred.ErrCancelled)
	pump(clock)
	assert.Zero(t, handed, "nothing is handed over after Cancel")
	assert.ElementsMatch(t, []int{1, 2}, w.cancelled)
	assert.True(t, src.released)
	assert.Empty(t, clock.Pending())
}

func TestParallelCancelFromAnotherGoroutineWhileItFinishes(t *testing.T) {
	// Cancel races with the loop firing the Deferred: either wins, the
	// Deferred fires once, and nothing panics (the reactor would log it).
	for range 300 {
		logger, logs := testLogger()
		r := reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(logger))
		var d *deferred.Deferred[[]int]
		var fired atomic.Int32
		ready := make(chan struct{})
		r.CallWhenRunning(func() {
			c := cooperate.New(r)
			d = cooperate.Map(c, slices.Values([]int{1, 2, 3}), 2, deferred.Succeed[int])
			d.AddBoth(func(v []int, err error) ([]int, error) {
				fired.Add(1)
				r.CallLater(time.Millisecond, func() { _ = r.Stop() })
				return nil, nil
			})
			close(ready)
		})
		go func() {
			<-ready
			d.Cancel()
		}()
		require.NoError(t, r.Run())
		require.Equal(t, int32(1), fired.Load())
		require.NotContains(t, logs.String(), "panic")
	}
}

func TestParallelCooperatorStopped(t *testing.T) {
	t.Run("midway", func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock)
		w := newWork()
		src := &counted{n: 10}
		out := watch(cooperate.Map(c, src.seq, 2, w.body))
		pump(clock)
		c.Stop()
		pump(clock)
		require.True(t, out.fired)
		assert.ErrorIs(t, out.err, cooperate.ErrSchedulerStopped)
		assert.ElementsMatch(t, []int{0, 1}, w.cancelled)
		assert.True(t, src.released)
	})
	t.Run("before", func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock)
		c.Stop()
		out := watch(cooperate.Map(c, slices.Values([]int{1}), 2, deferred.Succeed[int]))
		assert.False(t, out.fired, "fired inside Map")
		pump(clock)
		require.True(t, out.fired)
		assert.ErrorIs(t, out.err, cooperate.ErrSchedulerStopped)
	})
}

func TestMapEmpty(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	out := watch(cooperate.Map(c, slices.Values([]string(nil)), 4, deferred.Succeed[string]))
	assert.False(t, out.fired, "fired inside Map")
	pump(clock)
	require.True(t, out.fired)
	require.NoError(t, out.err)
	assert.NotNil(t, out.value)
	assert.Empty(t, out.value)
}

func TestParallelProgress(t *testing.T) {
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	w := newWork()
	var p cooperate.Progress
	out := watch(cooperate.Map(c, slices.Values([]int{0, 1, 2, 3}), 2, w.body, cooperate.WithProgress(&p), cooperate.CollectErrors()))
	pump(clock)
	assert.Equal(t, [4]int{2, 2, 0, 0}, [4]int{p.Started(), p.InFlight(), p.Done(), p.Failed()})
	w.succeed(0, 0)
	w.fail(1, errors.New("no"))
	pump(clock)
	assert.Equal(t, [4]int{4, 2, 1, 1}, [4]int{p.Started(), p.InFlight(), p.Done(), p.Failed()})
	w.succeed(2, 2)
	w.succeed(3, 3)
	pump(clock)
	assert.Equal(t, [4]int{4, 0, 3, 1}, [4]int{p.Started(), p.InFlight(), p.Done(), p.Failed()})
	require.True(t, out.fired)
	require.Error(t, out.err)
}

func TestParallelOnLanes(t *testing.T) {
	// With lanes the iterator and body run on a lane; each and the
	// returned Deferred stay on the loop.
	r := reactor.New(reactor.WithWatchdog(0))
	var got []int
	var sum int
	r.CallWhenRunning(func() {
		c := cooperate.New(r, cooperate.WithLanes(2))
		d := cooperate.Parallel(c, countTo(2000), 16, func(v int) *deferred.Deferred[int] {
			return reactor.DeferToGoroutine(r, func() (int, error) { return v * 2, nil })
		}, func(i, v int) error {
			got = append(got, i)
			sum += v
			return nil
		})
		d.AddBoth(func(_ struct{}, err error) (struct{}, error) {
			c.Stop()
			assert.NoError(t, err)
			r.Stop()
			return struct{}{}, nil
		})
	})
	require.NoError(t, r.Run())
	assert.Len(t, got, 2000)
	assert.Equal(t, 2000*1999, sum)
}

func TestMapWithDeferToGoroutineOnReactor(t *testing.T) {
	r := reactor.New(reactor.WithWatchdog(0))
	var got []int
	var gotErr error
	r.CallWhenRunning(func() {
		c := cooperate.New(r)
		d := cooperate.Map(c, countTo(500), 4, func(v int) *deferred.Deferred[int] {
			return reactor.DeferToGoroutine(r, func() (int, error) { return v * v, nil })
		})
		d.AddBoth(func(v []int, err error) ([]int, error) {
			got, gotErr = v, err
			r.Stop()
			return nil, nil
		})
	})
	require.NoError(t, r.Run())
	require.NoError(t, gotErr)
	require.Len(t, got, 500)
	for i, v := range got {
		require.Equal(t, i*i, v)
	}
}

// countTo yields 0..n-1.
func countTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func TestParallelLoopStoppedForGood(t *testing.T) {
	// The reactor stops while an element is in flight: the Cooperator's
	// tasks fail as the loop stops, the loop with them, rather than wait
	// for a result that nothing could deliver. The element's result, when
	// it comes later on another goroutine, fires nothing twice.
	r := reactor.New(reactor.WithWatchdog(0))
	pending := deferred.New[int]()
	var d *deferred.Deferred[[]int]
	var c *cooperate.Cooperator
	r.CallWhenRunning(func() {
		c = cooperate.New(r)
		d = cooperate.Map(c, slices.Values([]int{1}), 1, func(int) *deferred.Deferred[int] {
			require.NoError(t, r.Stop())
			return pending
		})
	})
	require.NoError(t, r.Run())
	_, err := d.Result()
	require.ErrorIs(t, err, scheduler.ErrLoopStopped)
	require.ErrorIs(t, err, cooperate.ErrSchedulerStopped)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pending.Callback(7)
	}()
	<-done
	_, err = d.Result()
	require.ErrorIs(t, err, scheduler.ErrLoopStopped, "a late result changes nothing")
	// Nothing runs on the loop any more: stopping the Cooperator here
	// fires nothing twice.
	c.Stop()
}

// exitOnThree is a body that succeeds at once on element 0, calls
// runtime.Goexit on element 3, and hands the other elements to w.
type exitOnThree struct{ w *work }

func (e exitOnThree) body(v int) *deferred.Deferred[int] {
	switch v {
	case 0:
		return deferred.Succeed(0)
	case 3:
		runtime.Goexit()
	}
	return e.w.body(v)
}

func TestParallelBodyThatCallsGoexit(t *testing.T) {
	// body runs in a step of the loop's task, on the loop or on a lane:
	// the task's iterator ends there, so the loop fails, whatever the
	// policy, with the element's error, as a panic of the iterator would;
	// what is in flight is cancelled.
	check := func(t *testing.T, out *outcome[[]int], p *cooperate.Progress, w *work) {
		t.Helper()
		require.True(t, out.fired)
		var ee *cooperate.ElementError
		require.ErrorAs(t, out.err, &ee)
		assert.Equal(t, 3, ee.Index)
		require.ErrorIs(t, out.err, cooperate.ErrGoexit)
		assert.Regexp(t, `^cooperate: element 3: cooperate: Map body cooperate_test\.exitOnThree\.body`, out.err.Error())
		assert.ElementsMatch(t, []int{1, 2}, w.cancelled)
		assert.Equal(t, 4, p.Started())
		assert.Zero(t, p.InFlight(), "every element started is counted")
	}
	t.Run("on the loop", func(t *testing.T) {
		clock := scheduler.NewManualClock()
		c := cooperate.New(clock)
		w := newWork()
		src := &counted{n: 10}
		var p cooperate.Progress
		out := watch(cooperate.Map(c, src.seq, 3, exitOnThree{w}.body, cooperate.CollectErrors(), cooperate.WithProgress(&p)))
		require.True(t, exits(func() { pump(clock) }))
		pump(clock)
		check(t, out, &p, w)
		assert.True(t, src.released)
	})
	t.Run("on lanes", func(t *testing.T) {
		c, loop := newLanes(t, 2)
		w := newWork()
		var p cooperate.Progress
		out := watch(cooperate.Map(c, upTo(10), 3, exitOnThree{w}.body, cooperate.WithProgress(&p)))
		loop.runUntil(t, func() bool { return out.fired && p.InFlight() == 0 })
		check(t, out, &p, w)
	})
}

func exitingEach(i, _ int) error {
	if i == 2 {
		runtime.Goexit()
	}
	return nil
}

func TestParallelEachThatCallsGoexit(t *testing.T) {
	// each runs on the loop's goroutine, which it ends: the loop fails
	// first, with the element's error, even when nothing else would come
	// to fire it (the last element, the iterator done).
	clock := scheduler.NewManualClock()
	c := cooperate.New(clock)
	var p cooperate.Progress
	out := watch(cooperate.Parallel(c, upTo(3), 3, deferred.Succeed[int], exitingEach, cooperate.WithProgress(&p)))
	require.True(t, exits(func() { pump(clock) }))
	require.True(t, out.fired)
	var ee *cooperate.ElementError
	require.ErrorAs(t, out.err, &ee)
	assert.Equal(t, 2, ee.Index)
	require.ErrorIs(t, out.err, cooperate.ErrGoexit)
	assert.Regexp(t, `^cooperate: element 2: cooperate: Parallel each function cooperate_test\.exitingEach \(parallel_test\.go:\d+\) called runtime\.Goexit$`, out.err.Error())
	assert.Equal(t, [4]int{3, 0, 2, 1}, [4]int{p.Started(), p.InFlight(), p.Done(), p.Failed()})
}

func TestParallelOnAStoppedReactor(t *testing.T) {
	// Nothing will run on the loop any more: the loop fails at once.
	c := cooperate.New(stoppedReactor(t))
	out := watch(cooperate.Map(c, upTo(3), 2, deferred.Succeed[int]))
	require.True(t, out.fired, "failed at once, not left waiting")
	assert.ErrorIs(t, out.err, scheduler.ErrLoopStopped)
	assert.ErrorIs(t, out.err, cooperate.ErrSchedulerStopped)
}
