package remote_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/remote"
)

// outcome returns what a Deferred fired with, failing the test if it has
// not fired.
func outcome[T any](t *testing.T, d *deferred.Deferred[T]) (T, error) {
	t.Helper()
	v, err := d.Result()
	require.NotErrorIs(t, err, deferred.ErrNotFired)
	return v, err
}

// TestTaskTimeout: a task with no answer in time fails with ErrTimeout on
// the pool's loop, at the time the loop's clock says; the workers are told,
// and one that gets the task later drops it without running it.
func TestTaskTimeout(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	busyPool, _ := newPool(t, r, url, queue)
	w, wlogs, _ := runWorker(t, url, queue, remote.WithConcurrency(1))
	_, g, busy := holdRunning(t, busyPool)

	clock := scheduler.NewManualClock()
	p, _ := newPool(t, clock, url, queue, remote.WithTaskTimeout(time.Minute))
	d := square.Call(p, 3)
	eventually(t, func() bool { return depth(t, url, queue) == 1 }, "the task waits in the queue")
	clock.Advance(time.Minute - time.Millisecond)
	_, err := d.Result()
	assert.ErrorIs(t, err, deferred.ErrNotFired, "timed out early")
	clock.Advance(time.Millisecond)
	_, err = outcome(t, d)
	assert.ErrorIs(t, err, remote.ErrTimeout)
	assert.Zero(t, p.Stats().InFlight)

	wlogs.waitFor(t, "a caller cancelled a task", "running=false")
	close(g.release)
	must(t, busy)
	wlogs.waitFor(t, "dropping a task that its caller cancelled", "rt.square")
	st := w.Stats()
	assert.Equal(t, int64(1), st.Dropped)
	assert.Equal(t, int64(1), st.Ran, "the timed-out task ran")
}

// TestCancelRunningTask: cancelling the Deferred of a running task cancels
// the context its function runs with, in the worker.
func TestCancelRunningTask(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)
	_, g, d := holdRunning(t, p)
	d.Cancel()
	_, err := wait(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	select {
	case err := <-g.stopped:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(waitLimit):
		require.FailNow(t, "the function's context was not cancelled")
	}
}

// TestCancelWaitingCall: a call cancelled while it waits in the pool for
// room is never published.
func TestCancelWaitingCall(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue, remote.WithMaxInFlight(1))
	runWorker(t, url, queue)
	_, g, busy := holdRunning(t, p)
	d := square.Call(p, 2)
	assert.Equal(t, 1, p.Stats().Waiting)
	d.Cancel()
	_, err := wait(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Zero(t, p.Stats().Waiting)
	close(g.release)
	must(t, busy)
	assert.Equal(t, 9, must(t, square.Call(p, 3)))
	assert.Equal(t, int64(2), p.Stats().Published)
}

// TestMaxInFlight: no more tasks than the limit are out at once; the others
// wait in the pool, and go out as answers come.
func TestMaxInFlight(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue, remote.WithMaxInFlight(2))
	var ds []*deferredInt
	for i := range 5 {
		ds = append(ds, &deferredInt{i, square.Call(p, i)})
	}
	eventually(t, func() bool { return depth(t, url, queue) == 2 }, "two tasks in the queue")
	st := p.Stats()
	assert.Equal(t, 2, st.InFlight)
	assert.Equal(t, 3, st.Waiting)
	assert.Equal(t, int64(2), st.Published)

	runWorker(t, url, queue)
	for _, d := range ds {
		assert.Equal(t, d.n*d.n, must(t, d.d))
	}
	assert.Equal(t, int64(5), p.Stats().Published)
}

// TestDuplicateResultFiresOnce: a second result for a task (it ran twice)
// is counted and dropped; the Deferred fired once, with the first.
func TestDuplicateResultFiresOnce(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)
	assert.Equal(t, 36, must(t, square.Call(p, 6)))

	reply := queue + ".reply." + p.ID()
	dup := resultMsg(p.ID()+".1", gobInt(37))
	require.NoError(t, rawChannel(t, url).PublishWithContext(context.Background(), "", reply, true, false, dup))
	eventually(t, func() bool { return p.Stats().Duplicates == 1 }, "the duplicate is dropped")
	assert.Equal(t, int64(1), p.Stats().Results)
}

// TestResultOfAnotherVersionFailsTheCall: a worker of another release of
// twine, which cannot read the task, answers in its own protocol version;
// the call fails with ErrMalformed instead of waiting for ever.
func TestResultOfAnotherVersionFailsTheCall(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue) // no worker: the task stays queued
	d := square.Call(p, 6)
	eventually(t, func() bool { return depth(t, url, queue) == 1 }, "the task is in the queue")

	v1 := amqp.Publishing{
		ContentType:   "application/x-twine-result",
		CorrelationId: p.ID() + ".1",
		Headers:       amqp.Table{"twine-version": int32(1), "twine-status": "malformed"},
		Body:          []byte("not a twine task"),
	}
	reply := queue + ".reply." + p.ID()
	require.NoError(t, rawChannel(t, url).PublishWithContext(context.Background(), "", reply, true, false, v1))
	_, err := wait(t, d)
	require.ErrorIs(t, err, remote.ErrMalformed)
	assert.Contains(t, err.Error(), "another protocol version")
}

// TestResultAfterTheLoopStopped: a result that comes after the pool's
// reactor stopped fails its Deferred with ErrLoopStopped, rather than being
// dropped unseen.
func TestResultAfterTheLoopStopped(t *testing.T) {
	url, queue := broker(t)
	r := reactor.New(reactor.WithWatchdog(0))
	running := make(chan struct{})
	r.CallWhenRunning(func() { close(running) })
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run() }()
	<-running
	p, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)
	_, g, d := holdRunning(t, p)
	require.NoError(t, r.Stop())
	require.NoError(t, <-stopped)
	close(g.release)
	_, err := wait(t, d)
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
}
