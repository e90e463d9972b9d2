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
// time is fake, so that the times it prints are exact.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out))
		assert.Equal(t, want, out.String())
	})
}

// The third answer comes at 450 ms: the calls due at 300 and 400 ms are
// skipped, and the fourth poll, at 500 ms, is told 3 intervals elapsed.
const want = `   0ms poll 1 (intervals elapsed: 1)
  30ms   answer 1: starting
 100ms poll 2 (intervals elapsed: 1)
 130ms   answer 2: loading data
 200ms poll 3 (intervals elapsed: 1)
 450ms   answer 3: loading data
 500ms poll 4 (intervals elapsed: 3)
 530ms   answer 4: ready
 530ms loop stopped after 4 polls
 530ms poll with a 50ms timeout
 580ms   poll failed: deferred: timed out (is ErrTimeout: true)
 780ms   the cancelled call ran: false
`
