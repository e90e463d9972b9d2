package deferred_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// syncCollect returns a callback that appends each value it sees to *into.
func syncCollect[T any](into *[]T) func(T) (T, error) {
	return func(v T) (T, error) {
		*into = append(*into, v)
		return v, nil
	}
}

// TestQueueLimits follows Twisted's testQueue: a queue of size 2 and
// backlog 2, filled from both ends.
func TestQueueLimits(t *testing.T) {
	const size, backlog = 2, 2
	q := deferred.NewQueue[int](deferred.WithQueueSize(size), deferred.WithQueueBacklog(backlog))

	var gotten []int
	for range backlog {
		q.Get().AddCallback(syncCollect(&gotten))
	}
	assert.Equal(t, backlog, q.Waiting())
	_, err := q.Get().Result()
	require.ErrorIs(t, err, deferred.ErrQueueUnderflow, "a Get past the backlog fails at once")
	assert.Equal(t, backlog, q.Waiting(), "and does not join the line")

	for i := range backlog {
		require.NoError(t, q.Put(i))
		assert.Equal(t, []int{0, 1}[:i+1], gotten, "a Put fires the oldest waiting Get at once")
	}
	for i := range size {
		require.NoError(t, q.Put(size+i))
		assert.Equal(t, []int{0, 1}, gotten, "with nobody waiting, values are buffered")
	}
	assert.Equal(t, size, q.Len())
	require.ErrorIs(t, q.Put(99), deferred.ErrQueueOverflow, "a Put past the size fails")
	assert.Equal(t, size, q.Len(), "and its value is not queued")

	gotten = nil
	for i := range size {
		q.Get().AddCallback(syncCollect(&gotten))
		assert.Equal(t, []int{2, 3}[:i+1], gotten, "a buffered value is given before Get returns")
	}
	assert.Zero(t, q.Len())
}

func TestQueueUnboundedGetsBeforePuts(t *testing.T) {
	q := deferred.NewQueue[int]()
	var gotten []int
	for range 5 {
		q.Get().AddCallback(syncCollect(&gotten))
	}
	for i := range 5 {
		require.NoError(t, q.Put(i))
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4}, gotten)
	assert.Zero(t, q.Waiting())
	assert.Zero(t, q.Len())
}

func TestQueueZeroLimits(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		q := deferred.NewQueue[string](deferred.WithQueueSize(0))
		require.ErrorIs(t, q.Put("x"), deferred.ErrQueueOverflow)
		d := q.Get()
		require.NoError(t, q.Put("y"), "a waiting Get still takes a value")
		v, err := d.Result()
		require.NoError(t, err)
		assert.Equal(t, "y", v)
	})
	t.Run("backlog", func(t *testing.T) {
		q := deferred.NewQueue[string](deferred.WithQueueBacklog(0))
		_, err := q.Get().Result()
		require.ErrorIs(t, err, deferred.ErrQueueUnderflow)
		require.NoError(t, q.Put("x"))
		v, err := q.Get().Result()
		require.NoError(t, err, "a buffered value is still given")
		assert.Equal(t, "x", v)
	})
}

func TestQueueZeroValueIsUnbounded(t *testing.T) {
	var q deferred.Queue[int]
	for i := range 100 {
		require.NoError(t, q.Put(i))
	}
	var gotten []int
	for range 100 {
		q.Get().AddCallback(syncCollect(&gotten))
	}
	assert.Len(t, gotten, 100)
	assert.True(t, slices.IsSorted(gotten), "values come out in the order they went in")

	d := q.Get()
	require.NoError(t, q.Put(7))
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

func TestQueueOptionMisusePanics(t *testing.T) {
	assert.Equal(t, "deferred: WithQueueSize: negative limit", misusePanic(t, "WithQueueSize", func() { deferred.WithQueueSize(-1) }).Error())
	assert.Equal(t, "deferred: WithQueueBacklog: negative limit", misusePanic(t, "WithQueueBacklog", func() { deferred.WithQueueBacklog(-1) }).Error())
	assert.Contains(t, misusePanic(t, "NewQueue", func() { deferred.NewQueue[int](nil) }).Error(), "deferred: NewQueue: nil function")
}

func TestQueuePutDeferredIntoAnyQueuePanics(t *testing.T) {
	q := deferred.NewQueue[any]()
	assert.Contains(t, misusePanic(t, "Queue.Put", func() { _ = q.Put(deferred.New[any]()) }).Error(), "deferred: Queue.Put:")
	assert.Zero(t, q.Len())
}

func TestQueueCancelAfterSynchronousGetDoesNothing(t *testing.T) {
	q := deferred.NewQueue[string]()
	d := q.Get()
	d.AddErrback(func(err error) (string, error) {
		t.Errorf("unexpected errback: %v", err)
		return "", err
	})
	require.NoError(t, q.Put("v"))
	d.Cancel()
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v)
}

// A cancelled Get leaves the line: a later value is buffered for the next
// Get instead of being fired into the cancelled Deferred.
func TestQueueCancelledGetIsUnlinked(t *testing.T) {
	q := deferred.NewQueue[int]()
	d := q.Get()
	d.Cancel()
	var seen error
	d.AddErrback(func(err error) (int, error) {
		seen = err
		return 0, nil
	})
	require.ErrorIs(t, seen, deferred.ErrCancelled)
	assert.Zero(t, q.Waiting())

	next := deferred.ThenDeferred(d, func(int) *deferred.Deferred[int] {
		require.NoError(t, q.Put(5))
		return q.Get()
	})
	v, err := next.Result()
	require.NoError(t, err)
	assert.Equal(t, 5, v)
}

func TestQueueCancelMiddleGet(t *testing.T) {
	q := deferred.NewQueue[string]()
	first, middle, last := q.Get(), q.Get(), q.Get()
	middle.Cancel()
	require.NoError(t, q.Put("a"))
	require.NoError(t, q.Put("b"))
	for d, want := range map[*deferred.Deferred[string]]string{first: "a", last: "b"} {
		v, err := d.Result()
		require.NoError(t, err)
		assert.Equal(t, want, v)
	}
	_, err := middle.Result()
	assert.ErrorIs(t, err, deferred.ErrCancelled)
}

func TestQueueSkipsGetFiredElsewhere(t *testing.T) {
	q := deferred.NewQueue[string]()
	stray, next := q.Get(), q.Get()
	boom := errors.New("boom")
	stray.Errback(boom)

	require.NoError(t, q.Put("v"))
	_, err := stray.Result()
	assert.ErrorIs(t, err, boom)
	v, err := next.Result()
	require.NoError(t, err)
	assert.Equal(t, "v", v, "the value goes to the next Get")
	assert.Zero(t, q.Len())
}

func TestQueueSkippedGetLeavesValueBuffered(t *testing.T) {
	q := deferred.NewQueue[string](deferred.WithQueueSize(1))
	stray := q.Get()
	stray.Errback(errors.New("boom"))
	stray.AddErrback(func(error) (string, error) { return "", nil })
	require.NoError(t, q.Put("v"), "with nobody else waiting the value is buffered")
	assert.Equal(t, 1, q.Len())
	require.ErrorIs(t, q.Put("w"), deferred.ErrQueueOverflow)
}

func TestQueueCallbacksMayUseTheQueue(t *testing.T) {
	q := deferred.NewQueue[int]()
	var order []int
	q.Get().AddCallback(func(v int) (int, error) {
		order = append(order, v)
		require.NoError(t, q.Put(v+10), "Put inside a Get's callback")
		return v, nil
	})
	q.Get().AddCallback(syncCollect(&order))
	require.NoError(t, q.Put(1))
	assert.Equal(t, []int{1, 11}, order, "the nested Put served the next Get before the outer Put returned")
	assert.Zero(t, q.Waiting())
	assert.Zero(t, q.Len())
}

func TestQueueProducersAndConsumersAcrossGoroutines(t *testing.T) {
	const producers, consumers, each = 4, 4, 250
	q := deferred.NewQueue[int]()
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			for range producers * each / consumers {
				v, err := q.Get().Wait(context.Background())
				if !assert.NoError(t, err, "consumer %d", c) {
					return
				}
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		})
	}
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, q.Put(p*each+i))
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	want := make([]int, producers*each)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, got, "every value is received exactly once")
	assert.Zero(t, q.Len())
	assert.Zero(t, q.Waiting())
}

// A cancellation racing with the Put that takes the Get out of the line
// never loses the value: the Get has it, or the queue does.
func TestQueueCancelRacesPut(t *testing.T) {
	for range 300 {
		q := deferred.NewQueue[int]()
		d := q.Get()
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; assert.NoError(t, q.Put(42)) })
		wg.Go(func() { <-start; d.Cancel() })
		close(start)
		wg.Wait()

		if v, err := d.Result(); err != nil {
			require.ErrorIs(t, err, deferred.ErrCancelled)
			require.Equal(t, 1, q.Len(), "the value stayed in the queue")
			v, err = q.Get().Result()
			require.NoError(t, err)
			require.Equal(t, 42, v)
		} else {
			require.Equal(t, 42, v)
			require.Zero(t, q.Len())
		}
		require.Zero(t, q.Waiting())
	}
}

// Gets whose callbacks put the next value form a line like a lock's: it is
// served in order without recursing once per Get.
func TestQueueLongLineOfGetsStaysShallow(t *testing.T) {
	const n = 10000
	q := deferred.NewQueue[int]()
	open, deepest := 0, 0
	var got []int
	for range n {
		q.Get().AddCallback(func(v int) (int, error) {
			got = append(got, v)
			open++
			deepest = max(deepest, open)
			assert.NoError(t, q.Put(v+1))
			open--
			return v, nil
		})
	}
	require.NoError(t, q.Put(0))
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	assert.LessOrEqual(t, deepest, 100, "long lines do not recurse")
	assert.Equal(t, 1, q.Len(), "the last callback's value is buffered")
}

// A value handed to a Get that is cancelled before the relayed hand-off
// fires goes back to the queue, even past its size: Put accepted it.
func TestQueueRelayedGetCancelledKeepsValue(t *testing.T) {
	const deep = 150
	q := deferred.NewQueue[int](deferred.WithQueueSize(0))
	ds := make([]*deferred.Deferred[int], deep)
	for i := range ds {
		ds[i] = q.Get()
	}
	victim := q.Get()
	for i, d := range ds {
		d.AddCallback(func(v int) (int, error) {
			assert.NoError(t, q.Put(v+1))
			if i == deep-1 {
				victim.Cancel()
			}
			return v, nil
		})
	}
	require.NoError(t, q.Put(0))
	_, err := victim.Result()
	require.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, 1, q.Len(), "the value is kept although the size is 0")
	v, err := q.Get().Result()
	require.NoError(t, err)
	assert.Equal(t, deep, v)
}

// TestQueueMatchesModel drives a Queue with a fixed random sequence of Puts,
// Gets and cancellations of waiting Gets, and checks every outcome against a
// plain slice model: order, buffered values and the line of Gets.
func TestQueueMatchesModel(t *testing.T) {
	type get struct {
		d      *deferred.Deferred[int]
		want   int
		cancel bool
		done   bool
	}
	rng := rand.New(rand.NewPCG(1, 2))
	q := deferred.NewQueue[int]()
	var values []int   // model of the buffer
	var waiting []*get // model of the line
	var all []*get
	next := 0
	for step := range 5000 {
		switch op := rng.IntN(10); {
		case op < 4: // Put
			v := next
			next++
			require.NoError(t, q.Put(v))
			if len(waiting) > 0 {
				waiting[0].want, waiting[0].done = v, true
				waiting = waiting[1:]
			} else {
				values = append(values, v)
			}
		case op < 8: // Get
			g := &get{d: q.Get()}
			all = append(all, g)
			if len(values) > 0 {
				g.want, g.done = values[0], true
				values = values[1:]
			} else {
				waiting = append(waiting, g)
			}
		default: // cancel a waiting Get, anywhere in the line
			if len(waiting) == 0 {
				continue
			}
			i := rng.IntN(len(waiting))
			g := waiting[i]
			g.d.Cancel()
			g.cancel, g.done = true, true
			waiting = slices.Delete(waiting, i, i+1)
		}
		require.Equal(t, len(values), q.Len(), "step %d", step)
		require.Equal(t, len(waiting), q.Waiting(), "step %d", step)
	}
	for i, g := range all {
		v, err := g.d.Result()
		switch {
		case !g.done:
			require.ErrorIs(t, err, deferred.ErrNotFired, "get %d", i)
		case g.cancel:
			require.ErrorIs(t, err, deferred.ErrCancelled, "get %d", i)
		default:
			require.NoError(t, err, "get %d", i)
			require.Equal(t, g.want, v, "get %d", i)
		}
	}
}
