package deferred_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// stackDepth returns the number of frames on the calling goroutine's stack.
func stackDepth() int {
	pcs := make([]uintptr, 1<<18)
	return runtime.Callers(0, pcs)
}

// lineDepth builds a line of n Deferred[any] as Twisted's
// test_boundedStackDepth does: top waits on inners[n-1], which waits on
// inners[n-2], ..., inners[0] waits on last. It fires last and returns the
// stack depth at which top's next callback ran, and the value it got.
func lineDepth(t *testing.T, n int) (int, any) {
	t.Helper()
	top := deferred.New[any]()
	inners := make([]*deferred.Deferred[any], n)
	for i := range inners {
		inners[i] = deferred.New[any]()
	}
	last := deferred.New[any]()

	depth := -1
	var got any
	top.AddCallback(returns(inners[n-1]))
	top.AddCallback(func(v any) (any, error) { depth, got = stackDepth(), v; return v, nil })
	for i := n - 1; i > 0; i-- {
		inners[i].AddCallback(returns(inners[i-1]))
	}
	inners[0].AddCallback(returns(last))

	top.Callback(nil)
	for _, d := range inners {
		d.Callback(nil)
	}
	require.Equal(t, -1, depth, "nothing reaches top before last fires")
	last.Callback("from the end of the line")
	require.NotEqual(t, -1, depth, "the result did not reach top")
	return depth, got
}

func TestDeepLineOfWaitsRunsInBoundedStack(t *testing.T) {
	base, _ := lineDepth(t, 1)
	for _, n := range []int{2, 10, 10_000, 100_000} {
		depth, got := lineDepth(t, n)
		assert.Equal(t, base, depth, "stack depth for a line of %d", n)
		assert.Equal(t, "from the end of the line", got, "line of %d", n)
	}
}

// thenDeferredLineDepth builds out_n = ThenDeferred(..., returns out_n-1),
// ..., out_1 = ThenDeferred(..., returns leaf), fires leaf and reports the
// stack depth at which a callback on out_n ran.
func thenDeferredLineDepth(t *testing.T, n int) (int, int) {
	t.Helper()
	leaf := deferred.New[int]()
	cur := leaf
	for i := range n {
		prev := cur
		cur = deferred.ThenDeferred(deferred.Succeed(i), func(int) *deferred.Deferred[int] { return prev })
	}
	depth, got := -1, 0
	cur.AddCallback(func(v int) (int, error) { depth, got = stackDepth(), v; return v, nil })
	require.Equal(t, -1, depth)
	leaf.Callback(42)
	require.NotEqual(t, -1, depth, "the result did not reach the top")
	return depth, got
}

func TestDeepThenDeferredLineRunsInBoundedStack(t *testing.T) {
	base, _ := thenDeferredLineDepth(t, 1)
	for _, n := range []int{10, 10_000, 100_000} {
		depth, got := thenDeferredLineDepth(t, n)
		assert.Equal(t, base, depth, "stack depth for a ThenDeferred line of %d", n)
		assert.Equal(t, 42, got)
	}
}

func TestDeepLineCancelReachesTheEnd(t *testing.T) {
	const n = 100_000
	var cancelled bool
	last := deferred.NewWithCanceller(func(*deferred.Deferred[any]) { cancelled = true })
	prev := last
	var top *deferred.Deferred[any]
	for range n {
		d := deferred.New[any]()
		d.AddCallback(returns(prev))
		d.Callback(nil)
		prev, top = d, d
	}
	top.Cancel()
	assert.True(t, cancelled)
	assert.ErrorIs(t, failureOf(t, top), deferred.ErrCancelled)
}
