package deferred_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

func TestThenChangesTheType(t *testing.T) {
	d := deferred.New[int]()
	s := deferred.Then(d, func(n int) (string, error) { return strconv.Itoa(n * 2), nil })
	requireNoResult(t, s)
	d.Callback(21)
	assert.Equal(t, "42", successOf(t, s))
	assert.Equal(t, 0, successOf(t, d), "Then consumed d's result, as chainDeferred does")
}

func TestThenPassesAnErrorByWithoutCallingF(t *testing.T) {
	d := deferred.New[int]()
	s := deferred.Then(d, func(int) (string, error) {
		t.Error("f must not be called on an error")
		return "", nil
	})
	d.Errback(errA)
	assert.Same(t, errA, failureOf(t, s))
	assert.Equal(t, 0, successOf(t, d), "the error went to s: handled in d")
}

func TestThenErrorOrPanicInFFailsTheResult(t *testing.T) {
	failing := deferred.Then(deferred.Succeed(1), func(int) (string, error) { return "", errB })
	assert.Same(t, errB, failureOf(t, failing))

	panicking := deferred.Then(deferred.Succeed(1), func(int) (string, error) { panic(errC) })
	err := failureOf(t, panicking)
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Same(t, errC, pe.Value)
	assert.ErrorIs(t, err, errC)
}

func TestThenToAnyWaitsOnAReturnedDeferred(t *testing.T) {
	inner := deferred.New[any]()
	out := deferred.Then(deferred.Succeed(1), func(int) (any, error) { return inner, nil })
	requireNoResult(t, out)
	inner.Callback("later")
	assert.Equal(t, "later", successOf(t, out))
}

func TestThenCancelBeforeDFiresCancelsD(t *testing.T) {
	var cancelled int
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
	s := deferred.Then(d, func(int) (string, error) {
		t.Error("f must not be called")
		return "", nil
	})
	s.Cancel()
	assert.Equal(t, 1, cancelled)
	assert.ErrorIs(t, failureOf(t, s), deferred.ErrCancelled)
	assert.Equal(t, 0, successOf(t, d), "d's ErrCancelled went on to s")
}

func TestThenCancelAfterDFiredDoesNothing(t *testing.T) {
	var cancelled int
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
	s := deferred.Then(d, func(n int) (string, error) { return strconv.Itoa(n), nil })
	d.Callback(3)
	s.Cancel()
	assert.Equal(t, 0, cancelled)
	assert.Equal(t, "3", successOf(t, s))
}

func TestThenCancelWhileDIsPausedLeavesDsResultUnused(t *testing.T) {
	// d has fired but is paused: s is cancelled; when d goes on, f's
	// result has nowhere to go and is dropped without a panic.
	d := deferred.Succeed(1)
	d.Pause()
	var called bool
	s := deferred.Then(d, func(n int) (string, error) { called = true; return "late", nil })
	s.Cancel()
	assert.ErrorIs(t, failureOf(t, s), deferred.ErrCancelled)
	assert.NotPanics(t, d.Unpause)
	assert.True(t, called)
	assert.ErrorIs(t, failureOf(t, s), deferred.ErrCancelled)
}

func TestThenDeferredWithAFiredInner(t *testing.T) {
	out := deferred.ThenDeferred(deferred.Succeed(2), func(n int) *deferred.Deferred[string] {
		return deferred.Succeed(strconv.Itoa(n))
	})
	assert.Equal(t, "2", successOf(t, out))
}

func TestThenDeferredWithAnUnfiredInner(t *testing.T) {
	d := deferred.New[int]()
	inner := deferred.New[string]()
	var got int
	out := deferred.ThenDeferred(d, func(n int) *deferred.Deferred[string] { got = n; return inner })
	d.Callback(8)
	assert.Equal(t, 8, got)
	requireNoResult(t, out)
	inner.Callback("eight")
	assert.Equal(t, "eight", successOf(t, out))
	assert.Empty(t, successOf(t, inner), "the inner result went to out")
}

func TestThenDeferredWithAFailingInner(t *testing.T) {
	inner := deferred.New[string]()
	out := deferred.ThenDeferred(deferred.Succeed(1), func(int) *deferred.Deferred[string] { return inner })
	inner.Errback(errA)
	assert.Same(t, errA, failureOf(t, out))
}

func TestThenDeferredPassesAnErrorBy(t *testing.T) {
	out := deferred.ThenDeferred(deferred.Fail[int](errA), func(int) *deferred.Deferred[string] {
		t.Error("f must not be called on an error")
		return nil
	})
	assert.Same(t, errA, failureOf(t, out))
}

func TestThenDeferredNilOrPanicFailsTheResult(t *testing.T) {
	nilOut := deferred.ThenDeferred(deferred.Succeed(1), func(int) *deferred.Deferred[string] { return nil })
	err := failureOf(t, nilOut)
	assert.Contains(t, err.Error(), "ThenDeferred")

	panicOut := deferred.ThenDeferred(deferred.Succeed(1), func(int) *deferred.Deferred[string] { panic("boom") })
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, panicOut), &pe)
	assert.Equal(t, "boom", pe.Value)
}

func TestThenDeferredCancelBeforeDFiresCancelsD(t *testing.T) {
	var cancelled int
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
	out := deferred.ThenDeferred(d, func(int) *deferred.Deferred[string] {
		t.Error("f must not be called")
		return nil
	})
	out.Cancel()
	assert.Equal(t, 1, cancelled)
	assert.ErrorIs(t, failureOf(t, out), deferred.ErrCancelled)
}

func TestThenDeferredCancelAfterDFiresCancelsTheInner(t *testing.T) {
	var innerCancelled int
	inner := deferred.NewWithCanceller(func(*deferred.Deferred[string]) { innerCancelled++ })
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) {
		t.Error("d has fired: its canceller must not run")
	})
	out := deferred.ThenDeferred(d, func(int) *deferred.Deferred[string] { return inner })
	d.Callback(1)
	out.Cancel()
	assert.Equal(t, 1, innerCancelled)
	assert.ErrorIs(t, failureOf(t, out), deferred.ErrCancelled)
}

func TestThenDeferredResultPausedByTheUserWaitsForUnpause(t *testing.T) {
	d := deferred.New[int]()
	inner := deferred.New[string]()
	out := deferred.ThenDeferred(d, func(int) *deferred.Deferred[string] { return inner })
	out.Pause()
	var got []string
	out.AddCallback(func(s string) (string, error) { got = append(got, s); return s, nil })
	d.Callback(1)
	inner.Callback("x")
	assert.Empty(t, got)
	requireNoResult(t, out)
	out.Unpause()
	assert.Equal(t, []string{"x"}, got)
}

func TestThenDeferredLineOfTypes(t *testing.T) {
	d := deferred.New[int]()
	s := deferred.ThenDeferred(d, func(n int) *deferred.Deferred[string] {
		return deferred.Succeed(strconv.Itoa(n))
	})
	l := deferred.ThenDeferred(s, func(s string) *deferred.Deferred[int] {
		return deferred.Succeed(len(s))
	})
	d.Callback(12345)
	assert.Equal(t, 5, successOf(t, l))
}

func TestMaybeValue(t *testing.T) {
	d := deferred.Maybe(func() (int, error) { return 15, nil })
	assert.Equal(t, 15, successOf(t, d))
}

func TestMaybeError(t *testing.T) {
	d := deferred.Maybe(func() (int, error) { return 0, errA })
	assert.Same(t, errA, failureOf(t, d))
}

func TestMaybePanic(t *testing.T) {
	d := deferred.Maybe(func() (int, error) { panic("that value is unacceptable") })
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, d), &pe)
	assert.Equal(t, "that value is unacceptable", pe.Value)
}

func TestMaybeReturnsADeferredAsItself(t *testing.T) {
	// Twisted's test_maybeDeferredAsync and test_maybeDeferredAsyncError.
	d1 := deferred.New[any]()
	d2 := deferred.Maybe(func() (any, error) { return d1, nil })
	assert.Same(t, d1, d2)
	d1.Callback("Success")
	assert.Equal(t, "Success", successOf(t, d2))

	e1 := deferred.New[any]()
	e2 := deferred.Maybe(func() (any, error) { return e1, nil })
	e1.Errback(errA)
	assert.Same(t, errA, failureOf(t, e2))
}
