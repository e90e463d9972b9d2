package deferred_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// errA, errB and errC are plain errors that tests fire and check for.
var (
	errA = errors.New("error A")
	errB = errors.New("error B")
	errC = errors.New("error C")
)

// successOf returns d's result, failing the test unless d has fired with a
// result (Twisted's successResultOf).
func successOf[T any](t testing.TB, d *deferred.Deferred[T]) T {
	t.Helper()
	v, err := d.Result()
	require.NoError(t, err, "the Deferred should hold a result")
	return v
}

// failureOf returns d's error, failing the test unless d has fired and its
// chain ends with an error (Twisted's failureResultOf).
func failureOf[T any](t testing.TB, d *deferred.Deferred[T]) error {
	t.Helper()
	_, err := d.Result()
	require.Error(t, err, "the Deferred should hold an error")
	require.NotErrorIs(t, err, deferred.ErrNotFired, "the Deferred should hold an error")
	return err
}

// requireNoResult fails the test if d has a settled result (Twisted's
// assertNoResult).
func requireNoResult[T any](t testing.TB, d *deferred.Deferred[T]) {
	t.Helper()
	_, err := d.Result()
	require.ErrorIs(t, err, deferred.ErrNotFired, "the Deferred should have no result yet")
}

// misusePanic runs f, requires it to panic with an error whose message
// starts with "deferred: " followed by op and a colon, and returns that
// error.
func misusePanic(t testing.TB, op string, f func()) (perr error) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "%s should panic", op)
		err, ok := r.(error)
		require.True(t, ok, "%s should panic with an error, got %T: %v", op, r, r)
		prefix := "deferred: " + op + ": "
		require.True(t, strings.HasPrefix(err.Error(), prefix),
			"panic message %q should start with %q", err.Error(), prefix)
		perr = err
	}()
	f()
	return nil
}

// recorder collects the names of the steps that ran, in order.
type recorder struct{ calls []string }

func (r *recorder) add(s string) { r.calls = append(r.calls, s) }

// cb returns a callback that records name and its argument, and passes the
// value on.
func (r *recorder) cb(name string) func(any) (any, error) {
	return func(v any) (any, error) {
		r.add(name)
		return v, nil
	}
}
