package deferred_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// Twisted: RaceTests.test_success, over every placement it draws from.
func TestRaceFirstSuccessWinsAndCancelsTheRest(t *testing.T) {
	for before := range 4 {
		for after := range 4 {
			t.Run(fmt.Sprintf("%d_before_%d_after", before, after), func(t *testing.T) {
				ds, counts := countingInputs[string](before + 1 + after)
				r := deferred.Race(ds...)
				ds[before].Callback("expected")

				w, err := mustResult(t, r)
				require.NoError(t, err)
				assert.Equal(t, deferred.Winner[string]{Index: before, Value: "expected"}, w)
				want := slices.Repeat([]int{1}, before+1+after)
				want[before] = 0
				assert.Equal(t, want, counts)
			})
		}
	}
}

// Twisted: RaceTests.test_failure.
func TestRaceAllFailGivesFailureGroup(t *testing.T) {
	for n := 1; n <= 7; n++ {
		ds, counts := countingInputs[int](n)
		r := deferred.Race(ds...)
		for _, d := range ds {
			d.Errback(errComb)
		}
		_, err := mustResult(t, r)
		var fg *deferred.FailureGroup
		require.ErrorAs(t, err, &fg)
		assert.Equal(t, slices.Repeat([]error{errComb}, n), fg.Errs)
		assert.ErrorIs(t, err, errComb)
		assert.Equal(t, make([]int, n), counts, "nothing is cancelled")
	}
}

func TestRaceFailureGroupInInputOrder(t *testing.T) {
	errA, errB, errC := errors.New("a"), errors.New("b"), errors.New("c")
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int](), deferred.New[int]()}
	r := deferred.Race(ds...)
	ds[2].Errback(errC)
	ds[0].Errback(errA)
	requireNoResult(t, r)
	ds[1].Errback(errB)
	_, err := mustResult(t, r)
	var fg *deferred.FailureGroup
	require.ErrorAs(t, err, &fg)
	assert.Equal(t, []error{errA, errB, errC}, fg.Errs)
	assert.Equal(t, "deferred: all 3 Deferreds failed: 0: a; 1: b; 2: c", err.Error())
}

// Twisted: RaceTests.test_resultAfterCancel.
func TestRaceResultAfterCancelGoesNowhere(t *testing.T) {
	reports := watchUnhandled(t)
	for before := range 4 {
		for after := range 4 {
			func() {
				ds := make([]*deferred.Deferred[int], before+2+after)
				for i := range ds {
					ds[i] = deferred.New[int]()
				}
				r := deferred.Race(ds...)
				ds[before].Callback(1)
				assert.NotPanics(t, func() { ds[before+1].Callback(2) })
				w, err := mustResult(t, r)
				require.NoError(t, err)
				assert.Equal(t, before, w.Index)
			}()
		}
	}
	reports.quiesce(t)
	assert.False(t, reports.has(deferred.ErrCancelled), "the losers' cancellations are taken by Race")
}

// Twisted: RaceTests.test_resultFromCancel.
func TestRaceLoserCancellerGivesResult(t *testing.T) {
	winner := deferred.New[string]()
	loser := deferred.NewWithCanceller(callbackCanceller)
	r := deferred.Race(winner, loser)
	winner.Callback("expected")
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[string]{Index: 0, Value: "expected"}, w)
	v, err := mustResult(t, loser)
	require.NoError(t, err)
	assert.Empty(t, v, "the loser's result is taken by Race")
}

// Twisted: RaceTests.test_cancel.
func TestRaceCancelCancelsEveryInput(t *testing.T) {
	for n := 1; n <= 3; n++ {
		ds, counts := countingInputs[int](n)
		r := deferred.Race(ds...)
		r.Cancel()
		assert.Equal(t, slices.Repeat([]int{1}, n), counts)
		_, err := mustResult(t, r)
		var fg *deferred.FailureGroup
		require.ErrorAs(t, err, &fg)
		require.Len(t, fg.Errs, n)
		for _, e := range fg.Errs {
			assert.ErrorIs(t, e, deferred.ErrCancelled)
		}
		assert.ErrorIs(t, err, deferred.ErrCancelled)
	}
}

func TestRaceCancelCancellerGivesResultWins(t *testing.T) {
	first := deferred.New[string]()
	second := deferred.NewWithCanceller(callbackCanceller)
	third, counts := countingInputs[string](1)
	r := deferred.Race(first, second, third[0])
	r.Cancel()
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[string]{Index: 1, Value: "Callback Result"}, w)
	assert.Equal(t, []int{1}, counts)
	_, err = mustResult(t, first)
	assert.NoError(t, err, "cancelled, and its ErrCancelled taken by Race")
}

func TestRaceCancelAfterFiringDoesNothing(t *testing.T) {
	ds, counts := countingInputs[int](3)
	r := deferred.Race(ds...)
	ds[0].Callback(1)
	assert.Equal(t, []int{0, 1, 1}, counts)
	r.Cancel()
	assert.Equal(t, []int{0, 1, 1}, counts)
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[int]{Index: 0, Value: 1}, w)
}

func TestRaceTakesResults(t *testing.T) {
	winner, loser := deferred.New[int](), deferred.New[int]()
	r := deferred.Race(winner, loser)
	var order []string
	winner.AddCallback(func(v int) (int, error) { order = append(order, fmt.Sprint("winner chain ", v)); return v, nil })
	r.AddCallback(func(w deferred.Winner[int]) (deferred.Winner[int], error) {
		order = append(order, fmt.Sprint("race ", w.Value))
		return w, nil
	})
	winner.Callback(7)
	assert.Equal(t, []string{"race 7", "winner chain 0"}, order,
		"the race fires inside the winner's chain, which goes on with the zero value")
	v, err := mustResult(t, loser)
	assert.NoError(t, err)
	assert.Zero(t, v)
}

func TestRaceAlreadyFiredInput(t *testing.T) {
	pending, counts := countingInputs[int](1)
	r := deferred.Race(pending[0], deferred.Fail[int](errComb), deferred.Succeed(5))
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[int]{Index: 2, Value: 5}, w)
	assert.Equal(t, []int{1}, counts)
}

func TestRaceSameDeferredTwice(t *testing.T) {
	d := deferred.New[int]()
	r := deferred.Race(d, d)
	d.Callback(3)
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[int]{Index: 0, Value: 3}, w, "the winner is not cancelled through its second place")
}

func TestRaceEmptyFailsAtOnce(t *testing.T) {
	_, err := mustResult(t, deferred.Race[int]())
	var fg *deferred.FailureGroup
	require.ErrorAs(t, err, &fg)
	assert.Empty(t, fg.Errs)
}

func TestRaceNilInputPanics(t *testing.T) {
	assert.PanicsWithError(t, "deferred: Race: nil Deferred", func() {
		deferred.Race(deferred.New[int](), nil)
	})
}

func TestRaceConcurrentFiring(t *testing.T) {
	const n = 64
	for round := range 20 {
		ds := make([]*deferred.Deferred[int], n)
		var cancelled atomic.Int32
		for i := range ds {
			ds[i] = deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled.Add(1) })
		}
		r := deferred.Race(ds...)
		var fired int
		var won deferred.Winner[int]
		r.AddCallback(func(w deferred.Winner[int]) (deferred.Winner[int], error) {
			fired++
			won = w
			return w, nil
		})
		var wg sync.WaitGroup
		var late atomic.Int32
		for g := range 4 {
			wg.Go(func() {
				for i := g; i < n; i += 4 {
					func() {
						defer func() {
							// Cancelled first: with a canceller that did not
							// fire it, a late Callback panics, as in Twisted.
							if p := recover(); p != nil {
								err, _ := p.(error)
								assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
								late.Add(1)
							}
						}()
						if (i+round)%5 == 0 {
							ds[i].Errback(errComb)
						} else {
							ds[i].Callback(i)
						}
					}()
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, fired)
		assert.NotEqual(t, 0, (won.Index+round)%5, "a failed input cannot win")
		assert.Equal(t, won.Index, won.Value)
		assert.LessOrEqual(t, late.Load(), cancelled.Load())
		for i, d := range ds {
			v, err := mustResult(t, d)
			assert.NoError(t, err, "input %d: Race takes every result", i)
			assert.Zero(t, v)
		}
	}
}

func TestRaceCancelReachesTheDeferredALoserWaitsOn(t *testing.T) {
	innerCancelled := false
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { innerCancelled = true })
	loser := deferred.New[any]()
	loser.AddCallback(func(any) (any, error) { return inner, nil })
	loser.Callback(nil) // fired, its chain now waits on inner
	winner := deferred.New[any]()
	r := deferred.Race(loser, winner)
	winner.Callback("won")
	assert.True(t, innerCancelled)
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[any]{Index: 1, Value: "won"}, w)
	_, err = mustResult(t, loser)
	assert.NoError(t, err, "the loser's ErrCancelled reached Race and was taken")
}

// The race is cancelled on one goroutine while a winner arrives on another:
// both cancel the loser, and its canceller must still run only once (the
// core's side of this is TestCancelCallsCancellerOnceWhenCancelsOverlap).
func TestRaceCancelOverlappingWinnerCallsLoserCancellerOnce(t *testing.T) {
	var calls atomic.Int32
	entered, resume := make(chan struct{}), make(chan struct{})
	loser := deferred.NewWithCanceller(func(*deferred.Deferred[int]) {
		if calls.Add(1) == 1 {
			close(entered)
			<-resume
		}
	})
	winner := deferred.New[int]()
	r := deferred.Race(loser, winner)
	var wg sync.WaitGroup
	wg.Go(r.Cancel) // cancels the loser first, and waits in its canceller
	<-entered
	winner.Callback(1) // wins, and cancels the loser while the first Cancel runs
	close(resume)
	wg.Wait()

	assert.Equal(t, int32(1), calls.Load(), "the loser's canceller ran more than once")
	w, err := mustResult(t, r)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[int]{Index: 1, Value: 1}, w)
	_, err = mustResult(t, loser)
	assert.NoError(t, err, "the loser's ErrCancelled is taken by Race")
}

// The same as above without a canceller that holds the first Cancel: the
// race's cancellation and the winner's cancellation of the loser overlap at
// random, on two goroutines. The loser's canceller must run once each round.
// This fails while Deferred.Cancel clears its cancelling mark before it
// fires ErrCancelled: a second Cancel that comes in between runs the
// canceller again.
func TestRaceCancelRacingWinnerCallsLoserCancellerOnce(t *testing.T) {
	for round := range 20000 {
		var calls atomic.Int32
		loser := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { calls.Add(1) })
		winner := deferred.New[int]()
		r := deferred.Race(loser, winner)
		var wg sync.WaitGroup
		wg.Go(r.Cancel)
		wg.Go(func() { winner.Callback(1) }) // ignored if the cancellation got there first
		wg.Wait()
		require.Equal(t, int32(1), calls.Load(), "round %d: the loser's canceller ran more than once", round)
		_, err := mustResult(t, r)
		if err != nil {
			require.ErrorIs(t, err, deferred.ErrCancelled)
		}
	}
}

// As above, for a loser without a canceller: whichever cancellation comes
// first, the loser's producer may still fire it once, and that late fire is
// ignored. This fails while two overlapping Cancel calls both fire
// ErrCancelled, the second one using up the flag that ignores the late fire.
func TestRaceCancelRacingWinnerLeavesLoserLateFireIgnored(t *testing.T) {
	for round := range 20000 {
		loser, winner := deferred.New[int](), deferred.New[int]()
		r := deferred.Race(loser, winner)
		var wg sync.WaitGroup
		wg.Go(r.Cancel)
		wg.Go(func() { winner.Callback(1) }) // ignored if the cancellation got there first
		wg.Wait()
		require.NotPanics(t, func() { loser.Callback(2) }, "round %d: the loser's late fire was not ignored", round)
	}
}
