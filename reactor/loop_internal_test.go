package reactor

import (
	"io"
	"log/slog"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

func TestRunReturnsWhenTheLastGoroutineEndsJustBeforeTheSleep(t *testing.T) {
	// After shutdown, Run waits for the DeferToGoroutine functions still
	// running. When the last one's goroutine ends after the loop has found
	// it running but before the loop announces its sleep, that goroutine
	// finds no sleeper to wake: the loop must see for itself that the pool
	// is idle, or it sleeps for ever (and the bubble reports a deadlock).
	synctest.Test(t, func(t *testing.T) {
		r := New(WithWatchdog(0), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		release := make(chan struct{})
		hooked := false
		testHookBeforeSleep = func(r *Reactor) {
			if r.shutdownDone && !hooked {
				hooked = true
				close(release)
				synctest.Wait() // the function returns and its goroutine ends
			}
		}
		defer func() { testHookBeforeSleep = nil }()

		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		r.CallWhenRunning(func() {
			// A job that hands nothing back to the loop, so that nothing
			// but the pool's wake-up can end the loop's sleep.
			require.True(t, r.pool.submit(blockingJob(release)))
			_ = r.Stop()
		})
		require.NoError(t, <-done)
		require.True(t, hooked, "the loop reached its sleep after shutdown with the function running")
	})
}

// blockingJob is a pool job that runs until its channel is closed.
type blockingJob chan struct{}

func (j blockingJob) run()  { <-j }
func (j blockingJob) stop() {}
