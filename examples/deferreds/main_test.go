package main

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the program on a reactor inside a synctest bubble, where
// time is fake, so that the output, times included, is exact.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out))
		assert.Equal(t, want, out.String())
	})
}

const want = `The examples of Twisted's Deferred documentation, ported to twine.

== a callback receives the result when it comes
data: 9

== an error goes down the errbacks, a result down the callbacks
error: you used an odd number
data: <p>Result: 12</p>

== AddCallbacks(cb, eb) is not AddCallback(cb) then AddErrback(eb)
case 1: AddCallback(callback1), AddErrback(errback1), ...
  errback1 handles: callback1 failed
case 2: AddCallbacks(callback1, errback1), AddCallbacks(callback2, errback2)
  errback2 handles: callback1 failed

== a callback that returns a Deferred pauses the chain
data: 27 after 60ms

== Maybe (maybeDeferred): answers now or later, one interface
synchronous: alice is authenticated
synchronous: bob is not authenticated
asynchronous: agnes is authenticated

== List (DeferredList) reports every outcome
success: one
failure: bang
success: three

== List sees what an input's chain holds where List joined it
callback added before List: one ten, two
callback added after List:  one, two

== All (gatherResults) joins results, or fails on the first error
d1 fired; All still waits for d2
results: [one two]
failed: input 1 with connection refused

== Cancel, with and without a canceller
canceller: aborting the operation
errback: deferred: cancelled | is ErrCancelled: true
errback: deferred: cancelled
the late result was ignored
`
