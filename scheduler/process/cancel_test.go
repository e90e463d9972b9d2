package process_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestCancelARunningTask: cancelling the Deferred cancels the task's
// context in the worker; the Deferred fails with ErrCancelled at once, and
// the worker serves on.
func TestCancelARunningTask(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1))
	w := workerPID(t, p)
	d := block.Call(p, "to cancel")
	logs.waitFor(t, "running to cancel")
	d.Cancel()
	_, err := wait(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	logs.waitFor(t, "cancelled to cancel", fmt.Sprint("pid=", w))
	assert.Equal(t, w, workerPID(t, p))
}

// TestCancelAQueuedTask: a task cancelled while it waits for a worker is
// never sent.
func TestCancelAQueuedTask(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1), process.WithMaxInFlight(1))
	first := block.Call(p, "first")
	second := block.Call(p, "second")
	third := square.Call(p, 3)
	logs.waitFor(t, "running first")
	second.Cancel()
	_, err := wait(t, second)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	first.Cancel()
	_, err = wait(t, first)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, 9, must(t, third))
	closePool(t, p)
	assert.False(t, logs.has("running second"), "the cancelled task ran")
}

// TestCancelWithContext: deferred.WithContext cancels a task when its
// context ends.
func TestCancelWithContext(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1))
	ctx, cancel := context.WithCancel(context.Background())
	d := deferred.WithContext(ctx, block.Call(p, "with context"))
	logs.waitFor(t, "running with context")
	cancel()
	_, err := wait(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	logs.waitFor(t, "cancelled with context")
}

// TestCancelAfterTheResult: cancelling a task that has finished changes
// nothing; racing cancels and results never fire a Deferred twice.
func TestCancelAfterTheResult(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	d := square.Call(p, 6)
	assert.Equal(t, 36, must(t, d))
	d.Cancel()
	ds := make([]*deferred.Deferred[int], 200)
	for i := range ds {
		ds[i] = square.Call(p, i)
	}
	for i, d := range ds {
		if i%2 == 0 {
			go d.Cancel()
		}
	}
	for i, d := range ds {
		v, err := wait(t, d)
		if err != nil {
			assert.ErrorIs(t, err, deferred.ErrCancelled)
			assert.Zero(t, i%2, "task %d was not cancelled", i)
			continue
		}
		assert.Equal(t, i*i, v)
	}
}

// TestCancelledTaskThatIgnoresItsContext: a cancelled task whose function
// does not return holds its worker only for the cancel grace. The worker
// then takes no more tasks, finishes the others it runs (which do not
// fail), and stops without waiting for the function; a new worker serves
// meanwhile, and Close does not wait for the function either.
func TestCancelledTaskThatIgnoresItsContext(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(2), process.WithCancelGrace(200*time.Millisecond))
	first := workerPID(t, p)
	path, open := newGate(t)
	bystander := gate.Call(p, path)
	logs.waitFor(t, "waiting at gate", fmt.Sprint("pid=", first))
	hung := hang.Call(p, "ignoring its cancellation")
	logs.waitFor(t, "hanging ignoring its cancellation", fmt.Sprint("pid=", first))
	hung.Cancel()
	_, err := wait(t, hung)
	require.ErrorIs(t, err, deferred.ErrCancelled)

	logs.waitFor(t, "process: a cancelled task has not ended; its worker takes no more tasks", fmt.Sprint("pid=", first))
	assert.NotEqual(t, first, must(t, pid.Call(p, struct{}{})), "a new worker serves")
	open()
	assert.Equal(t, first, must(t, bystander), "the worker's other task ends well")

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, p.Close(ctx), "Close waited for the cancelled task")
	requireGone(t, first)
	assert.False(t, logs.has("process: worker went away"), "a worker died")
}

// TestCloseWithACancelledTaskThatIgnoresItsContext: a draining Close
// waits for a cancelled task that does not return only for the grace.
func TestCloseWithACancelledTaskThatIgnoresItsContext(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1), process.WithCancelGrace(200*time.Millisecond))
	hung := hang.Call(p, "ignoring its cancellation")
	logs.waitFor(t, "hanging ignoring its cancellation")
	pids := p.Workers()
	hung.Cancel()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, p.Close(ctx), "Close had to kill")
	requireGone(t, pids...)
}
