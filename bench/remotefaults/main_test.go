package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/internal/brokertest"
)

// TestMain lets the test binary serve as the command's worker processes,
// which are the running executable started again.
func TestMain(m *testing.M) {
	if q := os.Getenv(envWorker); q != "" {
		os.Exit(serve(q))
	}
	// Workers built with -race would sleep a second at exit, by default.
	_ = os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

// TestRunKilling runs a short storm: 600 tasks of 5 ms, a worker killed
// every 300 ms; every task completes, each result once.
func TestRunKilling(t *testing.T) {
	brokertest.Require(t)
	t.Setenv(envPause, "5ms")
	var out strings.Builder
	require.NoError(t, run(&out, 600, 100, 300*time.Millisecond, false))
	t.Log("\n" + out.String())
	assert.Contains(t, out.String(), "tasks completed:                 600 of 600")
	assert.Contains(t, out.String(), "results delivered exactly once:  600 (twice or more: 0)")
}
