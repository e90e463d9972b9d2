package process_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// runReactor runs a new reactor on a goroutine of its own; stop stops it
// and returns once its Run has returned.
func runReactor(t *testing.T, opts ...reactor.Option) (r *reactor.Reactor, stop func()) {
	t.Helper()
	r = reactor.New(append([]reactor.Option{reactor.WithWatchdog(0)}, opts...)...)
	running := make(chan struct{})
	r.CallWhenRunning(func() { close(running) })
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	<-running
	return r, func() {
		t.Helper()
		require.NoError(t, r.Stop())
		require.NoError(t, <-done)
		require.True(t, r.Stopped())
	}
}

// TestNewPoolOnAStoppedLoop: a pool refuses a loop that has stopped for
// good, which could never fire its Deferreds.
func TestNewPoolOnAStoppedLoop(t *testing.T) {
	r, stop := runReactor(t)
	stop()
	p, err := process.NewPool(r)
	if p != nil {
		closePool(t, p)
	}
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	assert.Nil(t, p)
}

// TestResultsAfterTheLoopStopped: the results of tasks still running when
// the loop stops cannot be delivered on it. Close fails their Deferreds
// with ErrLoopStopped, and says how many there were; a call made after the
// stop fails at once.
func TestResultsAfterTheLoopStopped(t *testing.T) {
	r, stop := runReactor(t)
	logs := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithLogger(slog.New(logs)))
	require.NoError(t, err)
	path, open := newGate(t)
	const n = 20
	ds := make([]*deferred.Deferred[int], n)
	for i := range ds {
		ds[i] = gate.Call(p, path)
	}
	logs.waitForN(t, n, "waiting at gate")
	stop()

	late := square.Call(p, 3)
	require.True(t, late.Called(), "a call on a stopped loop fails at once")
	_, err = late.Result()
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)

	open() // the tasks end
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err = p.Close(ctx)
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "21 results")
	for i, d := range ds {
		require.True(t, d.Called(), "task %d: its Deferred never fired", i)
		_, err := d.Result()
		assert.ErrorIs(t, err, scheduler.ErrLoopStopped, "task %d", i)
	}
	assert.Empty(t, p.Workers())
}

// TestStreamAfterTheLoopStopped: a stream whose values can no longer be
// delivered is stopped in its worker, and Close fails it with
// ErrLoopStopped.
func TestStreamAfterTheLoopStopped(t *testing.T) {
	r, stop := runReactor(t)
	logs := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithLogger(slog.New(logs)))
	require.NoError(t, err)
	first := make(chan struct{})
	n := 0
	d := countForever.Stream(p, struct{}{}, func(int) {
		if n++; n == 1 {
			close(first)
		}
	})
	<-first
	stop()
	logs.waitFor(t, "countForever stopped")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err = p.Close(ctx)
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	assert.Contains(t, err.Error(), "1 result could not be delivered")
	require.True(t, d.Called(), "the stream's Deferred never fired")
	_, err = d.Result()
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
}
