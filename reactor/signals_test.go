package reactor_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/reactor"
)

// Signals cannot be tested in a synctest bubble: os/signal delivers them
// from a goroutine outside it. These tests run in real time and wait only
// for Run to return.

func TestSignalStopsTheReactor(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r, rec := newReactor(reactor.WithSignals())
			var order []string
			r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
				order = append(order, "orderly shutdown")
				return nil
			})
			r.CallWhenRunning(func() {
				require.NoError(t, syscall.Kill(os.Getpid(), sig))
			})
			require.NoError(t, r.Run())
			assert.Equal(t, []string{"orderly shutdown"}, order)
			assert.Equal(t, sig.String(), rec.attrs(t, "reactor: stopping on signal")["signal"].String())
		})
	}
}

func TestWithSignalsChoosesTheSignals(t *testing.T) {
	r, rec := newReactor(reactor.WithSignals(syscall.SIGUSR1))
	r.CallWhenRunning(func() {
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGUSR1))
	})
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"reactor: stopping on signal"}, rec.messages())
}
