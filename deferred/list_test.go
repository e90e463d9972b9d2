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

// Helpers shared by the combinator tests (list_test.go, all_test.go,
// race_test.go).

var errComb = errors.New("combinator test failure")

// callbackCanceller fires the cancelled Deferred with a result, as some
// cancellers do.
func callbackCanceller(d *deferred.Deferred[string]) { d.Callback("Callback Result") }

// countingInputs returns n Deferreds whose cancellers count their calls
// without firing them, and the counts.
func countingInputs[T any](n int) ([]*deferred.Deferred[T], []int) {
	counts := make([]int, n)
	ds := make([]*deferred.Deferred[T], n)
	for i := range ds {
		ds[i] = deferred.NewWithCanceller(func(*deferred.Deferred[T]) { counts[i]++ })
	}
	return ds, counts
}

// mustResult returns d's settled result, failing the test if it has none.
func mustResult[T any](t *testing.T, d *deferred.Deferred[T]) (T, error) {
	t.Helper()
	v, err := d.Result()
	require.NotErrorIs(t, err, deferred.ErrNotFired, "the Deferred has not fired")
	return v, err
}

// Twisted: testDeferredList.
func TestListOutcomesInInputOrder(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.New[string](), deferred.New[string](), deferred.New[string]()}
	l := deferred.List(ds)
	var caught []error
	ds[1].AddErrback(func(err error) (string, error) { caught = append(caught, err); return "", nil })

	ds[0].Callback("1")
	ds[1].Errback(errComb)
	requireNoResult(t, l)
	ds[2].Callback("3")

	outs, err := mustResult(t, l)
	require.NoError(t, err)
	require.Len(t, outs, 3)
	assert.Equal(t, deferred.Outcome[string]{Value: "1"}, outs[0])
	assert.True(t, outs[0].OK())
	assert.False(t, outs[1].OK())
	assert.ErrorIs(t, outs[1].Err, errComb)
	assert.Equal(t, "", outs[1].Value)
	assert.Equal(t, deferred.Outcome[string]{Value: "3"}, outs[2])
	assert.Equal(t, []error{errComb}, caught, "without ConsumeErrors the error goes on down the input's chain")
}

// Twisted: testEmptyDeferredList.
func TestListEmptyFiresAtOnce(t *testing.T) {
	for _, opts := range [][]deferred.ListOption{nil, {deferred.FireOnOneErrback(), deferred.ConsumeErrors()}} {
		outs, err := mustResult(t, deferred.List[int](nil, opts...))
		require.NoError(t, err)
		assert.NotNil(t, outs)
		assert.Empty(t, outs)
	}
}

// Twisted: testDeferredListFireOnOneError.
func TestListFireOnOneErrback(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.New[string](), deferred.New[string](), deferred.New[string]()}
	l := deferred.List(ds, deferred.FireOnOneErrback())
	ds[1].AddErrback(func(error) (string, error) { return "", nil })

	ds[0].Callback("1")
	requireNoResult(t, l)
	ds[1].Errback(errComb)

	_, err := mustResult(t, l)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 1, fe.Index)
	assert.Same(t, errComb, fe.Err)
	assert.ErrorIs(t, err, errComb)

	requireNoResult(t, ds[2])
	ds[2].Callback("3") // after the list has failed: changes nothing
	_, err = mustResult(t, l)
	assert.ErrorAs(t, err, &fe)
}

// Twisted: testDeferredListDontConsumeErrors.
func TestListKeepsErrorsInInputs(t *testing.T) {
	d := deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d})
	var trapped []error
	d.AddErrback(func(err error) (int, error) { trapped = append(trapped, err); return 0, nil })

	d.Errback(errComb)
	assert.Equal(t, []error{errComb}, trapped)
	outs, err := mustResult(t, l)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	assert.Same(t, errComb, outs[0].Err)
}

// Twisted: testDeferredListConsumeErrors.
func TestListConsumeErrors(t *testing.T) {
	d := deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d}, deferred.ConsumeErrors())
	var trapped []error
	d.AddErrback(func(err error) (int, error) { trapped = append(trapped, err); return 0, nil })

	d.Errback(errComb)
	assert.Empty(t, trapped)
	v, err := mustResult(t, d)
	assert.NoError(t, err)
	assert.Zero(t, v)
	outs, err := mustResult(t, l)
	require.NoError(t, err)
	require.Len(t, outs, 1)
	assert.Same(t, errComb, outs[0].Err)
}

// Twisted: testDeferredListFireOnOneErrorWithAlreadyFiredDeferreds.
func TestListFireOnOneErrbackWithFailedInput(t *testing.T) {
	d1, d2 := deferred.Fail[int](errComb), deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d1, d2}, deferred.FireOnOneErrback())
	_, err := mustResult(t, l)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 0, fe.Index)
	_, err = mustResult(t, d1)
	assert.ErrorIs(t, err, errComb, "the error stays in the input without ConsumeErrors")
}

// Twisted: testDeferredListWithAlreadyFiredDeferreds.
func TestListWithFiredInputs(t *testing.T) {
	d1, d2 := deferred.Fail[int](errComb), deferred.Succeed(2)
	outs, err := mustResult(t, deferred.List([]*deferred.Deferred[int]{d1, d2}))
	require.NoError(t, err)
	assert.Equal(t, []deferred.Outcome[int]{{Err: errComb}, {Value: 2}}, outs)
	_, err = mustResult(t, d1)
	assert.ErrorIs(t, err, errComb)
	v, err := mustResult(t, d2)
	require.NoError(t, err)
	assert.Equal(t, 2, v, "a result passes on down the input's chain")
}

// Twisted: test_cancelDeferredList.
func TestListCancelCancelsEveryInput(t *testing.T) {
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int]()}
	l := deferred.List(ds)
	l.Cancel()
	for _, d := range ds {
		_, err := mustResult(t, d)
		assert.ErrorIs(t, err, deferred.ErrCancelled)
	}
	outs, err := mustResult(t, l)
	require.NoError(t, err, "a List without FireOnOneErrback fires with the outcomes")
	require.Len(t, outs, 2)
	assert.ErrorIs(t, outs[0].Err, deferred.ErrCancelled)
	assert.ErrorIs(t, outs[1].Err, deferred.ErrCancelled)
}

// Twisted: test_cancelDeferredListCallback.
func TestListCancelCancellerGivesResult(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.NewWithCanceller(callbackCanceller), deferred.New[string]()}
	l := deferred.List(ds)
	l.Cancel()
	_, err := mustResult(t, ds[1])
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	outs, err := mustResult(t, l)
	require.NoError(t, err)
	require.Len(t, outs, 2)
	assert.True(t, outs[0].OK())
	assert.Equal(t, "Callback Result", outs[0].Value)
	assert.False(t, outs[1].OK())
	assert.ErrorIs(t, outs[1].Err, deferred.ErrCancelled)
}

// Twisted: test_cancelDeferredListWithFireOnOneErrback.
func TestListCancelFireOnOneErrback(t *testing.T) {
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int]()}
	l := deferred.List(ds, deferred.FireOnOneErrback())
	l.Cancel()
	for _, d := range ds {
		_, err := mustResult(t, d)
		assert.ErrorIs(t, err, deferred.ErrCancelled, "every input is cancelled, even after the list failed")
	}
	_, err := mustResult(t, l)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 0, fe.Index)
	assert.ErrorIs(t, fe.Err, deferred.ErrCancelled)
}

// Twisted: test_cancelDeferredListWithFireOnOneErrbackAllDeferredsCallback.
func TestListCancelFireOnOneErrbackCancellersGiveResults(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.NewWithCanceller(callbackCanceller), deferred.NewWithCanceller(callbackCanceller)}
	l := deferred.List(ds, deferred.FireOnOneErrback())
	l.Cancel()
	outs, err := mustResult(t, l)
	require.NoError(t, err)
	assert.Equal(t, []deferred.Outcome[string]{{Value: "Callback Result"}, {Value: "Callback Result"}}, outs)
}

// Twisted: test_cancelDeferredListWithOriginalDeferreds.
func TestListKeepsItsOwnInputs(t *testing.T) {
	d1, d2, d3 := deferred.New[int](), deferred.New[int](), deferred.New[int]()
	ds := []*deferred.Deferred[int]{d1, d2}
	l := deferred.List(ds)
	ds[1] = d3
	l.Cancel()
	_, err := mustResult(t, d2)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	requireNoResult(t, d3)
	_, err = mustResult(t, l)
	assert.NoError(t, err)
}

// Twisted: test_cancelDeferredListWithException.
func TestListCancelGoesOnPastPanickingCanceller(t *testing.T) {
	d1 := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { panic("canceller broke") })
	d2 := deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d1, d2})
	l.Cancel()
	_, err := mustResult(t, d2)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	outs, err := mustResult(t, l)
	require.NoError(t, err)
	var pe *deferred.PanicError
	require.ErrorAs(t, outs[0].Err, &pe)
	assert.Equal(t, "canceller broke", pe.Value)
}

// Twisted: test_cancelFiredOnOneErrbackDeferredList.
func TestListCancelAfterFiringDoesNothing(t *testing.T) {
	d1, d2 := deferred.New[int](), deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d1, d2}, deferred.FireOnOneErrback())
	d1.Errback(errComb)
	l.Cancel()
	requireNoResult(t, d2)
	_, err := mustResult(t, d1)
	assert.ErrorIs(t, err, errComb)
	_, err = mustResult(t, l)
	var fe *deferred.FirstError
	assert.ErrorAs(t, err, &fe)
}

func TestListCancelWithPausedInputFailsWithErrCancelled(t *testing.T) {
	d1, d2 := deferred.Succeed(1), deferred.New[int]()
	d1.Pause() // fired but held: Cancel cannot settle it
	l := deferred.List([]*deferred.Deferred[int]{d1, d2})
	l.Cancel()
	_, err := mustResult(t, l)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.NotPanics(t, d1.Unpause, "a result that comes after the cancellation is dropped")
	_, err = mustResult(t, l)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
}

func TestListFiresBeforeInputsLaterCallbacks(t *testing.T) {
	d1, d2 := deferred.New[int](), deferred.New[int]()
	l := deferred.List([]*deferred.Deferred[int]{d1, d2})
	var order []string
	d2.AddCallback(func(v int) (int, error) { order = append(order, fmt.Sprint("input ", v)); return v, nil })
	l.AddCallback(func(outs []deferred.Outcome[int]) ([]deferred.Outcome[int], error) {
		order = append(order, "list")
		return outs, nil
	})
	d1.Callback(1)
	assert.Empty(t, order)
	d2.Callback(2)
	assert.Equal(t, []string{"list", "input 2"}, order)
}

func TestListNilInputPanics(t *testing.T) {
	assert.PanicsWithError(t, "deferred: List: nil Deferred", func() {
		deferred.List([]*deferred.Deferred[int]{deferred.New[int](), nil})
	})
	assert.PanicsWithError(t, "deferred: First: nil Deferred", func() {
		deferred.First([]*deferred.Deferred[int]{nil})
	})
}

func TestListUnconsumedErrorReportedWhenCollected(t *testing.T) {
	reports := watchUnhandled(t)
	errPending := errors.New("pending input failed")
	errFired := errors.New("fired input failed")
	func() {
		pending := deferred.New[int]()
		l := deferred.List([]*deferred.Deferred[int]{pending, deferred.Fail[int](errFired)})
		pending.Errback(errPending)
		outs, err := mustResult(t, l)
		require.NoError(t, err)
		require.Len(t, outs, 2)
	}()
	reports.collect(t, errPending)
	reports.collect(t, errFired)
}

func TestListConsumedErrorNotReported(t *testing.T) {
	reports := watchUnhandled(t)
	errPending := errors.New("pending input failed")
	errFired := errors.New("fired input failed")
	func() {
		pending := deferred.New[int]()
		l := deferred.List([]*deferred.Deferred[int]{pending, deferred.Fail[int](errFired)}, deferred.ConsumeErrors())
		pending.Errback(errPending)
		_, err := mustResult(t, l)
		require.NoError(t, err)
	}()
	reports.quiesce(t)
	assert.False(t, reports.has(errPending))
	assert.False(t, reports.has(errFired))
}

func TestListConcurrentFiring(t *testing.T) {
	const n = 200
	for _, opts := range [][]deferred.ListOption{nil, {deferred.FireOnOneErrback()}, {deferred.ConsumeErrors()}} {
		ds := make([]*deferred.Deferred[int], n)
		for i := range ds {
			ds[i] = deferred.New[int]()
		}
		l := deferred.List(ds, opts...)
		var fired int
		var got []deferred.Outcome[int]
		var gotErr error
		l.AddBoth(func(outs []deferred.Outcome[int], err error) ([]deferred.Outcome[int], error) {
			fired++ // runs once, on whichever goroutine fires l
			got, gotErr = outs, err
			return nil, nil
		})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := g; i < n; i += 4 {
					if i%50 == 7 {
						ds[i].Errback(fmt.Errorf("input %d: %w", i, errComb))
					} else {
						ds[i].Callback(i * 10)
					}
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, fired)
		if len(opts) == 1 && opts[0] == deferred.FireOnOneErrback() {
			var fe *deferred.FirstError
			require.ErrorAs(t, gotErr, &fe)
			assert.Equal(t, 7, fe.Index%50)
			continue
		}
		require.NoError(t, gotErr)
		require.Len(t, got, n)
		for i, o := range got {
			if i%50 == 7 {
				assert.ErrorIs(t, o.Err, errComb, "outcome %d", i)
			} else {
				assert.Equal(t, deferred.Outcome[int]{Value: i * 10}, o, "outcome %d", i)
			}
		}
		for _, d := range ds {
			d.AddErrback(func(error) (int, error) { return 0, nil })
		}
	}
}

// Twisted: DeferredList with fireOnOneCallback.
func TestFirstFiresWithFirstSuccess(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.New[string](), deferred.New[string](), deferred.New[string]()}
	f := deferred.First(ds)
	ds[0].Errback(errComb)
	requireNoResult(t, f)
	ds[2].Callback("third")

	w, err := mustResult(t, f)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[string]{Index: 2, Value: "third"}, w)
	requireNoResult(t, ds[1]) // not cancelled
	v, err := mustResult(t, ds[2])
	require.NoError(t, err)
	assert.Equal(t, "third", v, "the winner's result passes on down its chain")
	_, err = mustResult(t, ds[0])
	assert.ErrorIs(t, err, errComb, "without ConsumeErrors the error stays in its chain")
	ds[0].AddErrback(func(error) (string, error) { return "", nil })

	ds[1].Callback("second") // too late: changes nothing
	w, err = mustResult(t, f)
	require.NoError(t, err)
	assert.Equal(t, 2, w.Index)
}

func TestFirstAllFail(t *testing.T) {
	err0, err1 := errors.New("zero"), errors.New("one")
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int]()}
	f := deferred.First(ds, deferred.ConsumeErrors())
	ds[1].Errback(err1)
	requireNoResult(t, f)
	ds[0].Errback(err0)

	_, err := mustResult(t, f)
	var fg *deferred.FailureGroup
	require.ErrorAs(t, err, &fg)
	assert.Equal(t, []error{err0, err1}, fg.Errs)
	assert.ErrorIs(t, err, err1)
	assert.Equal(t, "deferred: all 2 Deferreds failed: 0: zero; 1: one", err.Error())
	for _, d := range ds {
		_, err := mustResult(t, d)
		assert.NoError(t, err, "ConsumeErrors took the error")
	}
}

func TestFirstFireOnOneErrback(t *testing.T) {
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int]()}
	f := deferred.First(ds, deferred.FireOnOneErrback(), deferred.ConsumeErrors())
	ds[1].Errback(errComb)
	_, err := mustResult(t, f)
	var fe *deferred.FirstError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 1, fe.Index)
	ds[0].Callback(1) // too late
	_, err = mustResult(t, f)
	assert.ErrorAs(t, err, &fe)
}

func TestFirstEmptyFailsAtOnce(t *testing.T) {
	_, err := mustResult(t, deferred.First[int](nil))
	var fg *deferred.FailureGroup
	require.ErrorAs(t, err, &fg)
	assert.Empty(t, fg.Errs)
	assert.Equal(t, "deferred: no Deferreds to wait on", err.Error())
}

// Twisted: test_cancelDeferredListWithFireOnOneCallback.
func TestFirstCancelCancelsEveryInput(t *testing.T) {
	ds, counts := countingInputs[int](2)
	f := deferred.First(ds)
	f.Cancel()
	assert.Equal(t, []int{1, 1}, counts)
	for _, d := range ds {
		_, err := mustResult(t, d)
		assert.ErrorIs(t, err, deferred.ErrCancelled)
		d.AddErrback(func(error) (int, error) { return 0, nil })
	}
	_, err := mustResult(t, f)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
}

// Twisted: test_cancelDeferredListWithFireOnOneCallbackAndDeferredCallback.
func TestFirstCancelCancellerGivesResult(t *testing.T) {
	ds := []*deferred.Deferred[string]{deferred.NewWithCanceller(callbackCanceller), deferred.New[string]()}
	f := deferred.First(ds, deferred.ConsumeErrors())
	f.Cancel()
	_, err := mustResult(t, ds[1])
	assert.NoError(t, err, "cancelled, and its ErrCancelled consumed")
	w, err := mustResult(t, f)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[string]{Index: 0, Value: "Callback Result"}, w)
}

// Twisted: test_cancelFiredOnOneCallbackDeferredList.
func TestFirstCancelAfterFiringDoesNothing(t *testing.T) {
	d1, d2 := deferred.New[int](), deferred.New[int]()
	f := deferred.First([]*deferred.Deferred[int]{d1, d2})
	d1.Callback(0)
	f.Cancel()
	requireNoResult(t, d2)
	w, err := mustResult(t, f)
	require.NoError(t, err)
	assert.Equal(t, deferred.Winner[int]{Index: 0, Value: 0}, w)
}

func TestFirstErrorMessages(t *testing.T) {
	fe := &deferred.FirstError{Index: 3, Err: errComb}
	assert.Equal(t, "deferred: Deferred 3 failed: combinator test failure", fe.Error())
	assert.Same(t, errComb, errors.Unwrap(fe))
}
