package deferred_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// panicsHere is a named function so that the stack of its panic can be
// recognised.
func panicsHere(int) (int, error) { panic("panicsHere went wrong") }

func TestPanicInACallbackBecomesAPanicErrorWithValueAndStack(t *testing.T) {
	d := deferred.New[int]()
	d.AddCallback(panicsHere)
	var seen error
	d.AddErrback(func(err error) (int, error) { seen = err; return 0, err })
	assert.NotPanics(t, func() { d.Callback(1) })

	var pe *deferred.PanicError
	require.ErrorAs(t, seen, &pe)
	assert.Equal(t, "panicsHere went wrong", pe.Value)
	assert.Contains(t, string(pe.Stack), "panicsHere", "the stack shows where the panic happened")
	assert.Contains(t, pe.Error(), "panicsHere went wrong")
	assert.NotContains(t, pe.Error(), "goroutine", "the stack stays out of the message")
	assert.NoError(t, pe.Unwrap(), "a non-error value unwraps to nothing")
	assert.Same(t, pe, failureOf(t, d))
}

func TestPanicWithAnErrorValueUnwrapsToIt(t *testing.T) {
	d := deferred.Succeed(1).AddCallback(func(int) (int, error) { panic(fs.ErrNotExist) })
	err := failureOf(t, d)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Same(t, fs.ErrNotExist, pe.Unwrap())

	var pathErr *fs.PathError
	wrapped := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}
	e := deferred.Succeed(1).AddCallback(func(int) (int, error) { panic(wrapped) })
	require.ErrorAs(t, failureOf(t, e), &pathErr, "errors.As reaches a typed error through the panic")
	assert.Same(t, wrapped, pathErr)
}

func TestPanicInErrbackAndAddBothBecomesPanicError(t *testing.T) {
	eb := deferred.Fail[int](errA).AddErrback(func(error) (int, error) { panic("in errback") })
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, eb), &pe)
	assert.Equal(t, "in errback", pe.Value)

	both := deferred.Succeed(1).AddBoth(func(int, error) (int, error) { panic(7) })
	require.ErrorAs(t, failureOf(t, both), &pe)
	assert.Equal(t, 7, pe.Value)
}

func TestAChainGoesOnAfterAPanic(t *testing.T) {
	d := deferred.New[int]()
	d.AddCallback(panicsHere)
	d.AddErrback(func(err error) (int, error) {
		var pe *deferred.PanicError
		if errors.As(err, &pe) {
			return -1, nil
		}
		return 0, err
	})
	d.AddCallback(func(n int) (int, error) { return n * 2, nil })
	d.Callback(1)
	assert.Equal(t, -2, successOf(t, d))
}

func TestNewPanicErrorCapturesTheStack(t *testing.T) {
	var pe *deferred.PanicError
	func() {
		defer func() { pe = deferred.NewPanicError(recover()) }()
		panicsHere(0)
	}()
	require.NotNil(t, pe)
	assert.Equal(t, "panicsHere went wrong", pe.Value)
	assert.Contains(t, string(pe.Stack), "panicsHere")
}
