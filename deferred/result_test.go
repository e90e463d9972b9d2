package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

func TestResultBeforeFiringIsErrNotFired(t *testing.T) {
	d := deferred.New[int]()
	v, err := d.Result()
	assert.ErrorIs(t, err, deferred.ErrNotFired)
	assert.Zero(t, v)
}

func TestResultWhilePausedIsErrNotFired(t *testing.T) {
	d := deferred.Succeed(1)
	d.Pause()
	requireNoResult(t, d)
	d.Unpause()
	assert.Equal(t, 1, successOf(t, d))
}

func TestResultWhileWaitingIsErrNotFired(t *testing.T) {
	inner := deferred.New[any]()
	d := deferred.Succeed[any](nil).AddCallback(returns(inner))
	requireNoResult(t, d)
	inner.Callback(2)
	assert.Equal(t, 2, successOf(t, d))
}

func TestResultFromInsideTheChainIsErrNotFired(t *testing.T) {
	d := deferred.New[int]()
	var inside error
	d.AddCallback(func(n int) (int, error) {
		_, inside = d.Result()
		return n, nil
	})
	d.Callback(1)
	assert.ErrorIs(t, inside, deferred.ErrNotFired)
}

func TestResultLeavesTheResultInTheChain(t *testing.T) {
	d := deferred.Fail[int](errA)
	assert.Same(t, errA, failureOf(t, d))
	assert.Same(t, errA, failureOf(t, d), "reading twice gives the same error")
	var seen error
	d.AddErrback(func(err error) (int, error) { seen = err; return 9, nil })
	assert.Same(t, errA, seen, "a later errback still receives the error")
	v, err := d.Result()
	require.NoError(t, err)
	assert.Equal(t, 9, v)
}
