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

// TestRun runs the port on a reactor inside a synctest bubble, where time is
// fake, and checks that it prints what the Twisted original prints: beta
// arrives at 50 ms, the progress report at 100 ms sees one page, alpha
// arrives at 150 ms and gamma, started when beta's fetch released the
// semaphore, at 170 ms.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out))
		assert.Equal(t, "progress: 1 of 3 pages\n"+
			"fetched: beta, alpha, gamma\n"+
			"top letters: a=15, m=6, b=3\n", out.String())
	})
}
