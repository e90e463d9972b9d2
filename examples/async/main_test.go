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
// time is fake, so that the times it prints are exact. Under -race it also
// checks that the Async bodies and the reactor's callbacks share the shop
// without a data race.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out))
		assert.Equal(t, want, out.String())
	})
}

// ada: 50 + 80 ms. grace and bob side by side: 130 ms more (bob's lookup
// fails after 50 ms). The report times out after 100 ms; the lookup is
// cancelled after 20 ms. The cancelled lookup never ran: 5 lookups.
const want = ` 130ms Ada: 2 order(s), 15.50 in all
 260ms Grace: 1 order(s), 49.99 in all
 260ms bob: not a customer
 360ms yearly report: deferred: timed out | is ErrTimeout: true
 380ms   the cancelled body cleans up
 380ms cancelled lookup: deferred: cancelled | is ErrCancelled: true
 380ms lookups made: 5
`
