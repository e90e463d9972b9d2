package deferred_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// Twisted: test_gatherResults, the successful half.
func TestAllResultsInInputOrder(t *testing.T) {
	v, err := mustResult(t, deferred.All(deferred.Succeed(1), deferred.Succeed(2)))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, v)

	ds := []*deferred.Deferred[string]{deferred.New[string](), deferred.Succeed("b"), deferred.New[string]()}
	a := deferred.All(ds...)
	ds[2].Callback("c")
	requireNoResult(t, a)
	ds[0].Callback("a")
	got, err := mustResult(t, a)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, got)
	for i, want := range []string{"a", "b", "c"} {
		v, err := mustResult(t, ds[i])
		require.NoError(t, err)
		assert.Equal(t, want, v, "a result passes on down the input's chain")
	}
}

// Twisted: test_gatherResults, the failing half.
func TestAllFailsWithFirstError(t *testing.T) {
	_, err := mustResult(t, deferred.All(deferred.Succeed(1), deferred.Fail[int](errComb)))
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 1, fe.Index)
	assert.ErrorIs(t, err, errComb)
}

func TestAllFailsFastAndLeavesOthersAlone(t *testing.T) {
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int](), deferred.New[int]()}
	a := deferred.All(ds...)
	ds[0].Callback(0)
	ds[2].Errback(errComb)

	_, err := mustResult(t, a)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, fe.Index)
	requireNoResult(t, ds[1]) // not cancelled

	errLater := errors.New("later")
	ds[1].Errback(errLater) // after All has failed: its error is taken all the same
	_, err = mustResult(t, ds[1])
	assert.NoError(t, err)
	_, err = mustResult(t, a)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, fe.Index, "the first failure stays the result")
}

// Twisted: test_gatherResultsWithConsumeErrors.
func TestAllConsumesErrors(t *testing.T) {
	good, bad := deferred.Succeed(1), deferred.Fail[int](errors.New("oh noes"))
	a := deferred.All(good, bad)
	var unconsumed []error
	bad.AddErrback(func(err error) (int, error) { unconsumed = append(unconsumed, err); return 0, nil })
	var gathered []error
	a.AddErrback(func(err error) ([]int, error) { gathered = append(gathered, err); return nil, nil })

	assert.Empty(t, unconsumed)
	require.Len(t, gathered, 1)
	var fe *deferred.FirstError
	require.ErrorAs(t, gathered[0], &fe)
	assert.EqualError(t, fe.Err, "oh noes")
	v, err := mustResult(t, bad)
	assert.NoError(t, err)
	assert.Zero(t, v)
}

func TestAllConsumedErrorNotReported(t *testing.T) {
	reports := watchUnhandled(t)
	errPending := errors.New("pending input failed")
	errFired := errors.New("fired input failed")
	func() {
		pending := deferred.New[int]()
		a := deferred.All(deferred.Fail[int](errFired), pending)
		pending.Errback(errPending)
		_, err := mustResult(t, a) // handles All's own error
		require.Error(t, err)
	}()
	reports.quiesce(t)
	assert.False(t, reports.has(errPending))
	assert.False(t, reports.has(errFired))
}

func TestAllUnhandledFailureOfResultReported(t *testing.T) {
	reports := watchUnhandled(t)
	errInput := errors.New("nobody looks at All's result")
	func() {
		deferred.All(deferred.Succeed(1), deferred.Fail[int](errInput))
	}()
	reports.collect(t, errInput)
	reports.mu.Lock()
	defer reports.mu.Unlock()
	for _, err := range reports.errs {
		if errors.Is(err, errInput) {
			var fe *deferred.FirstError
			assert.ErrorAs(t, err, &fe, "reported from All's Deferred, not the input's")
		}
	}
}

// Twisted: gatherResults over an empty list.
func TestAllEmptyFiresAtOnce(t *testing.T) {
	v, err := mustResult(t, deferred.All[int]())
	require.NoError(t, err)
	assert.NotNil(t, v)
	assert.Empty(t, v)
}

// Twisted: test_cancelGatherResults.
func TestAllCancelCancelsEveryInput(t *testing.T) {
	ds, counts := countingInputs[int](2)
	a := deferred.All(ds...)
	a.Cancel()
	assert.Equal(t, []int{1, 1}, counts)
	for _, d := range ds {
		_, err := mustResult(t, d)
		assert.NoError(t, err, "the input's ErrCancelled is taken by All")
	}
	_, err := mustResult(t, a)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 0, fe.Index)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
}

// Twisted: test_cancelGatherResultsWithAllDeferredsCallback.
func TestAllCancelCancellersGiveResults(t *testing.T) {
	a := deferred.All(deferred.NewWithCanceller(callbackCanceller), deferred.NewWithCanceller(callbackCanceller))
	a.Cancel()
	v, err := mustResult(t, a)
	require.NoError(t, err)
	assert.Equal(t, []string{"Callback Result", "Callback Result"}, v)
}

func TestAllCancelAfterFiringDoesNothing(t *testing.T) {
	d1, d2 := deferred.New[int](), deferred.New[int]()
	a := deferred.All(d1, d2)
	d1.Errback(errComb)
	a.Cancel()
	requireNoResult(t, d2)
	_, err := mustResult(t, a)
	assert.ErrorIs(t, err, errComb)
}

func TestAllCancelWithPausedInputFailsWithErrCancelled(t *testing.T) {
	d := deferred.Succeed(1)
	d.Pause() // fired but held: Cancel cannot settle it
	a := deferred.All(d)
	a.Cancel()
	_, err := mustResult(t, a)
	require.ErrorIs(t, err, deferred.ErrCancelled)
	var fe *deferred.FirstError
	assert.False(t, errors.As(err, &fe), "no input failed: the cancellation itself is the error")
	assert.NotPanics(t, d.Unpause, "a result that comes after the cancellation is dropped")
	_, err = mustResult(t, a)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	v, err := mustResult(t, d)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
}

func TestAllKeepsItsOwnInputs(t *testing.T) {
	d1, d2, d3 := deferred.New[int](), deferred.New[int](), deferred.New[int]()
	ds := []*deferred.Deferred[int]{d1, d2}
	a := deferred.All(ds...)
	ds[0] = d3
	d1.Callback(1)
	d2.Callback(2)
	v, err := mustResult(t, a)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, v)
	requireNoResult(t, d3)
}

func TestAllTypedAnyWaitsOnReturnedDeferred(t *testing.T) {
	inner := deferred.New[any]()
	d := deferred.New[any]()
	d.AddCallback(func(any) (any, error) { return inner, nil })
	a := deferred.All(d, deferred.Succeed[any]("x"))
	d.Callback(nil)
	requireNoResult(t, a)
	inner.Callback("from inner")
	v, err := mustResult(t, a)
	require.NoError(t, err)
	assert.Equal(t, []any{"from inner", "x"}, v)
}

func TestAllNilInputPanics(t *testing.T) {
	d := deferred.New[int]()
	assert.PanicsWithError(t, "deferred: All: nil Deferred", func() { deferred.All(d, nil) })
	d.Callback(1)
	v, err := mustResult(t, d)
	require.NoError(t, err)
	assert.Equal(t, 1, v, "a panicking All adds nothing to the inputs")
}

func TestAllConcurrentFiring(t *testing.T) {
	const n = 400
	for _, failAt := range []int{-1, 124} {
		ds := make([]*deferred.Deferred[int], n)
		for i := range ds {
			if i%3 == 0 {
				ds[i] = deferred.Succeed(i)
			} else {
				ds[i] = deferred.New[int]()
			}
		}
		a := deferred.All(ds...)
		var fired int
		var got []int
		var gotErr error
		a.AddBoth(func(v []int, err error) ([]int, error) {
			fired++
			got, gotErr = v, err
			return nil, nil
		})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := n - 1 - g; i >= 0; i -= 4 {
					switch {
					case i%3 == 0:
					case i == failAt:
						ds[i].Errback(fmt.Errorf("input %d: %w", i, errComb))
					default:
						ds[i].Callback(i)
					}
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, fired)
		if failAt >= 0 {
			var fe *deferred.FirstError
			require.ErrorAs(t, gotErr, &fe)
			assert.Equal(t, failAt, fe.Index)
			continue
		}
		require.NoError(t, gotErr)
		require.Len(t, got, n)
		for i, v := range got {
			require.Equal(t, i, v)
		}
	}
}
