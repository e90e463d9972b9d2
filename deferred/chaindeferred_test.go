package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/deferred"
)

func TestChainPassesTheResultOn(t *testing.T) {
	a := deferred.New[int]()
	b := deferred.New[int]()
	var got []int
	b.AddCallback(func(n int) (int, error) { got = append(got, n); return n, nil })
	assert.Same(t, a, a.Chain(b))
	requireNoResult(t, b)
	a.Callback(7)
	assert.Equal(t, []int{7}, got)
	assert.Equal(t, 7, successOf(t, b))
	assert.Equal(t, 0, successOf(t, a), "after Chain, a's own result is the zero value")
}

func TestChainPassesTheErrorOnAndHandlesItInTheSource(t *testing.T) {
	a := deferred.New[int]()
	b := deferred.New[int]()
	a.Chain(b)
	var afterChain []string
	a.AddCallbacks(
		func(n int) (int, error) { afterChain = append(afterChain, "cb"); return n, nil },
		func(error) (int, error) { afterChain = append(afterChain, "eb"); return 0, nil },
	)
	a.Errback(errA)
	assert.Same(t, errA, failureOf(t, b))
	assert.Equal(t, []string{"cb"}, afterChain, "the source goes on with a success")
}

func TestChainSeesTheResultAtItsPlaceInTheChain(t *testing.T) {
	a := deferred.New[int]()
	b := deferred.New[int]()
	a.AddCallback(func(n int) (int, error) { return n * 2, nil })
	a.Chain(b)
	a.AddCallback(func(n int) (int, error) { return n + 100, nil })
	a.Callback(4)
	assert.Equal(t, 8, successOf(t, b))
	assert.Equal(t, 100, successOf(t, a))
}

func TestChainToAFiredDeferredFailsTheSource(t *testing.T) {
	// As in Twisted, the second fire raises (here: panics) inside a's
	// callback, which turns it into an error in a's chain.
	a := deferred.New[int]()
	b := deferred.Succeed(1)
	a.Chain(b)
	a.Callback(2)
	err := failureOf(t, a)
	assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
	var pe *deferred.PanicError
	assert.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, successOf(t, b), "b keeps its own result")
}

func TestChainFromAFiredDeferredFiresAtOnce(t *testing.T) {
	a := deferred.Succeed("now")
	b := deferred.New[string]()
	a.Chain(b)
	assert.Equal(t, "now", successOf(t, b))
}

func TestCancellingAChainTargetIgnoresTheSourcesLateResult(t *testing.T) {
	// Cancelling the target of a Chain does not reach the source: the
	// target has no canceller of its own, so it fails with ErrCancelled
	// and the one late Callback the source makes into it is ignored.
	a := deferred.New[int]()
	b := deferred.New[int]()
	a.Chain(b)
	b.Cancel()
	assert.ErrorIs(t, failureOf(t, b), deferred.ErrCancelled)
	a.Callback(1)
	assert.Equal(t, 0, successOf(t, a), "the late Callback into the target did not fail the source")
	assert.ErrorIs(t, failureOf(t, b), deferred.ErrCancelled)
}
