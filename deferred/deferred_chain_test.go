package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// The tests in this file follow the plain chain semantics of Twisted's
// Deferred: the order and the values that callbacks and errbacks see.

func TestCallbacksSeeEachOthersResults(t *testing.T) {
	var seen []int
	d := deferred.New[int]()
	d.AddCallback(func(n int) (int, error) { seen = append(seen, n); return n + 1, nil })
	d.AddCallback(func(n int) (int, error) { seen = append(seen, n); return n * 10, nil })
	d.AddCallback(func(n int) (int, error) { seen = append(seen, n); return n - 3, nil })
	assert.Empty(t, seen, "nothing runs before the Deferred fires")
	d.Callback(4)
	assert.Equal(t, []int{4, 5, 50}, seen)
	assert.Equal(t, 47, successOf(t, d))
}

func TestErrbackSeesTheErrorAndCallbacksArePassedBy(t *testing.T) {
	var r recorder
	d := deferred.New[string]()
	d.AddCallback(func(s string) (string, error) { r.add("cb1"); return s, nil })
	d.AddErrback(func(err error) (string, error) {
		r.add("eb1:" + err.Error())
		return "", err
	})
	d.AddCallback(func(s string) (string, error) { r.add("cb2"); return s, nil })
	d.AddErrback(func(err error) (string, error) {
		r.add("eb2:" + err.Error())
		return "", errB
	})
	d.Errback(errA)
	assert.Equal(t, []string{"eb1:error A", "eb2:error A"}, r.calls)
	assert.ErrorIs(t, failureOf(t, d), errB, "the last errback's error is the result")
}

func TestErrbackReturningNilSwitchesBackToCallbacks(t *testing.T) {
	var r recorder
	d := deferred.New[int]()
	d.AddCallback(func(int) (int, error) { r.add("cb1"); return 0, errA })
	d.AddCallback(func(int) (int, error) { r.add("cb2-skipped"); return 0, nil })
	d.AddErrback(func(err error) (int, error) {
		r.add("eb")
		assert.ErrorIs(t, err, errA)
		return 11, nil
	})
	d.AddErrback(func(error) (int, error) { r.add("eb2-skipped"); return 0, nil })
	d.AddCallback(func(n int) (int, error) { r.add("cb3"); return n + 1, nil })
	d.Callback(1)
	assert.Equal(t, []string{"cb1", "eb", "cb3"}, r.calls)
	assert.Equal(t, 12, successOf(t, d))
}

func TestAddBothSeesResultsAndErrors(t *testing.T) {
	type call struct {
		v   int
		err error
	}
	var calls []call
	both := func(v int, err error) (int, error) {
		calls = append(calls, call{v, err})
		return v + 1, err
	}

	ok := deferred.New[int]()
	ok.AddBoth(both)
	ok.Callback(1)
	assert.Equal(t, []call{{1, nil}}, calls)
	assert.Equal(t, 2, successOf(t, ok))

	calls = nil
	bad := deferred.New[int]()
	bad.AddBoth(both)
	bad.Errback(errA)
	assert.Equal(t, []call{{0, errA}}, calls)
	assert.ErrorIs(t, failureOf(t, bad), errA)

	// An AddBoth that drops the error moves the chain back to callbacks.
	recovered := deferred.Fail[int](errA)
	recovered.AddBoth(func(int, error) (int, error) { return 5, nil })
	assert.Equal(t, 5, successOf(t, recovered))
}

func TestAddCallbacksRunsOneOfThePairNeverBoth(t *testing.T) {
	var r recorder
	d := deferred.New[int]()
	d.AddCallbacks(
		func(int) (int, error) { r.add("cb1"); return 0, errA },
		func(error) (int, error) { r.add("eb1-must-not-run"); return 0, nil },
	)
	d.AddCallbacks(
		func(int) (int, error) { r.add("cb2-skipped"); return 0, nil },
		func(err error) (int, error) { r.add("eb2:" + err.Error()); return 3, nil },
	)
	d.AddCallbacks(
		func(n int) (int, error) { r.add("cb3"); return n * 2, nil },
		func(error) (int, error) { r.add("eb3-skipped"); return 0, nil },
	)
	d.Callback(0)
	assert.Equal(t, []string{"cb1", "eb2:error A", "cb3"}, r.calls)
	assert.Equal(t, 6, successOf(t, d))
}

// Twisted's test_addCallbacksNoneErrback: a missing errback passes the
// error through to the next step; and, for Go, a missing callback passes
// the result through in the same way.
func TestAddCallbacksWithOneNilPassesThatPathThrough(t *testing.T) {
	var r recorder
	failed := deferred.New[int]()
	failed.AddCallbacks(func(int) (int, error) { r.add("cb-must-not-run"); return 0, nil }, nil)
	failed.Errback(errA)
	failed.AddErrback(func(err error) (int, error) { r.add("eb:" + err.Error()); return 1, nil })
	assert.Equal(t, []string{"eb:error A"}, r.calls)
	assert.Equal(t, 1, successOf(t, failed))

	r.calls = nil
	succeeded := deferred.New[int]()
	succeeded.AddCallbacks(nil, func(error) (int, error) { r.add("eb-must-not-run"); return 0, nil })
	succeeded.Callback(7)
	succeeded.AddCallback(func(n int) (int, error) { r.add("cb"); return n + 1, nil })
	assert.Equal(t, []string{"cb"}, r.calls)
	assert.Equal(t, 8, successOf(t, succeeded))

	// The other path of each still runs.
	r.calls = nil
	ok := deferred.Succeed(2).AddCallbacks(func(n int) (int, error) { r.add("cb"); return n * 3, nil }, nil)
	assert.Equal(t, 6, successOf(t, ok))
	handled := deferred.Fail[int](errB).AddCallbacks(nil, func(error) (int, error) { r.add("eb"); return 9, nil })
	assert.Equal(t, 9, successOf(t, handled))
	assert.Equal(t, []string{"cb", "eb"}, r.calls)
}

func TestCallbackAddedAfterFiringRunsAtOnce(t *testing.T) {
	d := deferred.Succeed("ready")
	var got string
	d.AddCallback(func(s string) (string, error) { got = s; return s + "!", nil })
	assert.Equal(t, "ready", got, "the callback ran inside AddCallback")
	assert.Equal(t, "ready!", successOf(t, d))

	f := deferred.Fail[string](errA)
	var gotErr error
	f.AddErrback(func(err error) (string, error) { gotErr = err; return "fixed", nil })
	assert.ErrorIs(t, gotErr, errA)
	assert.Equal(t, "fixed", successOf(t, f))
}

func TestCallbackAddedFromACallbackGoesToTheEndOfTheChain(t *testing.T) {
	// Twisted's test_reentrantRunCallbacks and test_nonReentrantCallbacks:
	// the added callback is not run before the running one returns.
	var calls []int
	d := deferred.New[int]()
	d.AddCallback(func(n int) (int, error) {
		calls = append(calls, 1)
		d.AddCallback(func(n int) (int, error) { calls = append(calls, 3); return n, nil })
		assert.Equal(t, []int{1}, calls, "the added callback must wait for this one to return")
		return n, nil
	})
	d.AddCallback(func(n int) (int, error) { calls = append(calls, 2); return n, nil })
	d.Callback(0)
	assert.Equal(t, []int{1, 2, 3}, calls)
}

func TestCallbackAddedFromACallbackThatFailsReachesLaterErrbacks(t *testing.T) {
	// Twisted's test_reentrantRunCallbacksWithFailure.
	d := deferred.New[int]()
	d.AddCallback(func(n int) (int, error) {
		d.AddCallback(func(int) (int, error) { return 0, errA })
		return n, nil
	})
	d.Callback(0)
	assert.ErrorIs(t, failureOf(t, d), errA)
}

func TestCallbackReturningErrorSwitchesToErrbacks(t *testing.T) {
	// Twisted's testCallbackErrors and test_callbackMaybeReturnsFailure.
	maybeFail := func(fail bool) func(int) (int, error) {
		return func(n int) (int, error) {
			if fail {
				return 0, errA
			}
			return n + 1, nil
		}
	}
	ok := deferred.Succeed(6).AddCallback(maybeFail(false))
	assert.Equal(t, 7, successOf(t, ok))

	bad := deferred.Succeed(6).AddCallback(maybeFail(true)).AddCallback(maybeFail(true))
	assert.Same(t, errA, failureOf(t, bad), "the error is passed as is, not wrapped")
}

func TestSucceedAndFailHaveFired(t *testing.T) {
	s := deferred.Succeed(3)
	assert.True(t, s.Called())
	assert.Equal(t, 3, successOf(t, s))

	f := deferred.Fail[int](errA)
	assert.True(t, f.Called())
	assert.Same(t, errA, failureOf(t, f))

	n := deferred.New[int]()
	assert.False(t, n.Called())
	n.Callback(0)
	assert.True(t, n.Called())
}

func TestZeroValuesAreResultsLikeAnyOther(t *testing.T) {
	d := deferred.New[*int]()
	var called bool
	d.AddCallback(func(p *int) (*int, error) { called = true; return p, nil })
	d.Callback(nil)
	assert.True(t, called, "a nil result still goes down the callback path")

	a := deferred.New[any]()
	a.Callback(nil)
	v, err := a.Result()
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestReturnsTheSameDeferredForChaining(t *testing.T) {
	d := deferred.New[int]()
	id := func(n int) (int, error) { return n, nil }
	eb := func(err error) (int, error) { return 0, err }
	both := func(n int, err error) (int, error) { return n, err }
	assert.Same(t, d, d.AddCallback(id))
	assert.Same(t, d, d.AddErrback(eb))
	assert.Same(t, d, d.AddBoth(both))
	assert.Same(t, d, d.AddCallbacks(id, eb))
}
