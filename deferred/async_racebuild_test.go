//go:build race

package deferred_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// With the race detector on, Await also catches a call from another
// goroutine while the body runs: here a goroutine the body starts.
func TestAwaiterUsedFromAGoroutineTheBodyStarts(t *testing.T) {
	var got any
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		done := make(chan any)
		go func() { done <- recovered(func() { _, _ = deferred.Await(a, deferred.Succeed(1)) }) }()
		got = <-done
		return 2, nil
	})
	assert.Equal(t, 2, successOf(t, d))
	require.NotNil(t, got, "Await from another goroutine should panic")
	assert.Contains(t, fmt.Sprint(got), "deferred: Await: Awaiter used outside its Async body's goroutine")
}
