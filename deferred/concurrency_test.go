package deferred_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

func TestManyGoroutinesAddingWhileOneFires(t *testing.T) {
	// Callbacks are added from several goroutines while another fires the
	// Deferred. Every callback runs exactly once, never two at a time (the
	// plain slice below would be a data race otherwise), and those added by
	// one goroutine run in the order it added them.
	const (
		adders = 8
		each   = 200
	)
	for range 20 {
		d := deferred.New[int]()
		type entry struct{ adder, seq int }
		var log []entry // written only by callbacks
		start := make(chan struct{})
		var wg sync.WaitGroup
		for a := range adders {
			wg.Go(func() {
				<-start
				for i := range each {
					d.AddCallback(func(n int) (int, error) {
						log = append(log, entry{a, i})
						return n + 1, nil
					})
				}
			})
		}
		wg.Go(func() {
			<-start
			d.Callback(0)
		})
		close(start)
		wg.Wait()

		require.Len(t, log, adders*each)
		next := make([]int, adders)
		for _, e := range log {
			require.Equal(t, next[e.adder], e.seq, "adder %d's callbacks out of order", e.adder)
			next[e.adder]++
		}
		assert.Equal(t, adders*each, successOf(t, d), "each callback ran once, in one chain")
	}
}

func TestConcurrentFiresExactlyOneWins(t *testing.T) {
	for range 50 {
		d := deferred.New[int]()
		var wins, losses int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				defer func() {
					r := recover()
					mu.Lock()
					defer mu.Unlock()
					if r == nil {
						wins++
						return
					}
					err, ok := r.(error)
					if assert.True(t, ok) {
						assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
					}
					losses++
				}()
				d.Callback(i)
			})
		}
		wg.Wait()
		assert.Equal(t, 1, wins)
		assert.Equal(t, 3, losses)
	}
}

func TestConcurrentCancelAndCallback(t *testing.T) {
	// Whichever comes first wins; the other never panics, since a Deferred
	// without a canceller swallows one late fire after a Cancel.
	for range 100 {
		d := deferred.New[int]()
		var wg sync.WaitGroup
		wg.Go(d.Cancel)
		wg.Go(func() { d.Callback(1) })
		wg.Wait()
		v, err := d.Result()
		if err != nil {
			assert.ErrorIs(t, err, deferred.ErrCancelled)
		} else {
			assert.Equal(t, 1, v)
		}
	}
}

func TestConcurrentInnerFireAndOuterAdd(t *testing.T) {
	// The inner Deferred fires on one goroutine while callbacks are added
	// to the outer one on another: all of them see the inner result, in
	// order.
	for range 50 {
		inner := deferred.New[any]()
		outer := deferred.New[any]()
		outer.AddCallback(returns(inner))
		outer.Callback(nil)
		var seen []any
		var wg sync.WaitGroup
		wg.Go(func() { inner.Callback(0) })
		wg.Go(func() {
			for i := range 100 {
				outer.AddCallback(func(v any) (any, error) {
					seen = append(seen, v)
					return i + 1, nil
				})
			}
		})
		wg.Wait()
		require.Len(t, seen, 100)
		for i, v := range seen {
			require.Equal(t, i, v)
		}
	}
}

func TestWaitEndingWhileTheOwnerLetsGo(t *testing.T) {
	// A callback returns a Deferred that another goroutine fires at once:
	// the wait may end while the goroutine running the chain is about to let
	// it go. The callback after the wait runs all the same, and the owner
	// never reads the result the other goroutine hands over while it does
	// (the race detector would say so).
	for i := range 5000 {
		outer := deferred.New[any]()
		inner := deferred.New[any]()
		start := make(chan struct{})
		var wg sync.WaitGroup
		var got any
		outer.AddCallback(func(any) (any, error) {
			close(start)
			return inner, nil
		})
		outer.AddCallback(func(v any) (any, error) { got = v; return v, nil })
		wg.Go(func() { <-start; inner.Callback(i) })
		outer.Callback(nil)
		wg.Wait()
		require.Equal(t, i, got, "round %d: the callback after the wait", i)
	}
}

func TestUnpauseWhileTheOwnerLetsGo(t *testing.T) {
	// A callback pauses its own chain and another goroutine unpauses it at
	// once: the callback after the pause runs all the same.
	for i := range 5000 {
		d := deferred.New[int]()
		start := make(chan struct{})
		var wg sync.WaitGroup
		ran := false
		d.AddCallback(func(v int) (int, error) {
			d.Pause()
			close(start)
			return v + 1, nil
		})
		d.AddCallback(func(v int) (int, error) { ran = true; return v, nil })
		wg.Go(func() { <-start; d.Unpause() })
		d.Callback(i)
		wg.Wait()
		require.True(t, ran, "round %d: the callback after the pause never ran", i)
		require.Equal(t, i+1, successOf(t, d))
	}
}
