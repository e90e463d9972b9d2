package process_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestCloseUnderLoad: Close while hundreds of tasks are queued and running
// drains them all, then leaves no worker process and no goroutine (goleak,
// in TestMain) behind.
func TestCloseUnderLoad(t *testing.T) {
	r := startReactor(t)
	p, err := process.NewPool(r, process.WithMaxWorkers(3), process.WithMaxInFlight(4), process.WithRecycleAfter(50))
	require.NoError(t, err)
	const n = 500
	ds := make([]*deferred.Deferred[squared], n)
	for i := range ds {
		ds[i] = squareWithPID.Call(p, i)
	}
	require.False(t, ds[n-1].Called(), "the load is gone before Close")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, p.Close(ctx))
	assert.Empty(t, p.Workers())
	_, err = wait(t, square.Call(p, 1))
	assert.ErrorIs(t, err, process.ErrClosed)

	pids := map[int]bool{}
	for i, s := range must(t, deferred.All(ds...)) {
		require.Equal(t, i*i, s.Square)
		pids[s.PID] = true
	}
	assert.GreaterOrEqual(t, len(pids), 10, "recycled workers")
	for pid := range pids {
		requireGone(t, pid)
	}
}

// TestCloseDeadlineKills: when Close's context ends before the tasks do,
// the workers are killed and their tasks fail with ErrClosed.
func TestCloseDeadlineKills(t *testing.T) {
	r := startReactor(t)
	sink := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithMaxInFlight(1), process.WithLogger(slog.New(sink)))
	require.NoError(t, err)
	running := hang.Call(p, "until closed")
	queued := square.Call(p, 2)
	sink.waitFor(t, "hanging until closed")
	pids := p.Workers()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Close(ctx), context.Canceled)
	assert.Empty(t, p.Workers())
	requireGone(t, pids...)

	_, err = wait(t, running)
	assert.ErrorIs(t, err, process.ErrClosed)
	assert.Equal(t, pids[0], workerError(t, err).PID)
	_, err = wait(t, queued)
	assert.ErrorIs(t, err, process.ErrClosed)
	assert.NotErrorAs(t, err, new(*process.WorkerError))
}

// TestCloseTwice: a second Close waits as the first does, and returns nil.
func TestCloseTwice(t *testing.T) {
	r := startReactor(t)
	p, err := process.NewPool(r, process.WithMaxWorkers(1))
	require.NoError(t, err)
	assert.Equal(t, 1, must(t, square.Call(p, 1)))
	closePool(t, p)
	closePool(t, p)
}

// TestIdleWorkersStop: a worker beyond the minimum that has had no task for
// the idle timeout is stopped; the next task starts a new one.
func TestIdleWorkersStop(t *testing.T) {
	p, logs := newPool(t, process.WithMinWorkers(0), process.WithMaxWorkers(1), process.WithIdleTimeout(50*time.Millisecond))
	first := must(t, pid.Call(p, struct{}{}))
	logs.waitFor(t, "process: stopping idle worker")
	second := must(t, pid.Call(p, struct{}{}))
	assert.NotEqual(t, first, second)
}

// TestMinimumIsKept: NewPool starts the minimum of workers, and they are
// not stopped for being idle.
func TestMinimumIsKept(t *testing.T) {
	r := startReactor(t)
	logs := newLogSink()
	p := poolOn(t, r, process.WithMinWorkers(2), process.WithMaxWorkers(2), process.WithMaxInFlight(1),
		process.WithIdleTimeout(time.Millisecond), process.WithLogger(slog.New(logs)))
	// Two tasks that block run on the two workers at once.
	a := block.Call(p, "a")
	b := block.Call(p, "b")
	pa := pidOf(logs.waitFor(t, "running a"))
	pb := pidOf(logs.waitFor(t, "running b"))
	assert.NotEqual(t, pa, pb)
	assert.ElementsMatch(t, []int{pa, pb}, p.Workers())
	a.Cancel()
	b.Cancel()
	_, errA := wait(t, a)
	_, errB := wait(t, b)
	assert.True(t, errors.Is(errA, deferred.ErrCancelled) && errors.Is(errB, deferred.ErrCancelled))
	// Twenty idle timeouts later, on the same loop (whose timers run in
	// order of due time), both are still there.
	later := deferred.New[struct{}]()
	r.CallLater(20*time.Millisecond, func() { later.Callback(struct{}{}) })
	must(t, later)
	assert.ElementsMatch(t, []int{pa, pb}, p.Workers())
	assert.False(t, logs.has("process: stopping idle worker"))
}

// TestStartFailure: when worker starts keep failing (here the executable
// cannot be run in its directory), the tasks that wait for a worker fail
// with ErrStart, and an error that says so, after a few tries; the pool
// tries again, once, for each later task.
func TestStartFailure(t *testing.T) {
	p, logs := newPool(t, process.WithMinWorkers(0), process.WithDir("/nonexistent/directory"))
	for range 2 {
		_, err := wait(t, square.Call(p, 1))
		assert.ErrorIs(t, err, process.ErrStart)
		assert.NotErrorAs(t, err, new(*process.WorkerError), "no worker ever had the task")
		assert.Contains(t, err.Error(), "/nonexistent/directory")
		assert.Contains(t, err.Error(), "starts in a row failed")
	}
	logs.waitForN(t, 4, "process: cannot start worker")
	assert.Empty(t, p.Workers())
	closePool(t, p)
	tries, _ := logs.all("process: cannot start worker")
	assert.Len(t, tries, 4, "three tries for the first task, one for the second")
}

// TestCloseOnTheLoopWithCallsInFlight: Close called from a callback on the
// loop, with calls in flight, drains them and returns nil: the loop, blocked
// in Close, cannot read their answers, so the workers' own goroutines must.
// The calls are made two ways: from a callback run as the loop reads the
// worker's answers itself, and two at once from a callback run by a plain
// pass of the loop.
func TestCloseOnTheLoopWithCallsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls int // made just before Close
		chain int // calls made one after the other before those
	}{
		{"after a chain of calls", 1, 20},
		{"two calls at once", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startReactor(t)
			p, err := process.NewPool(r, process.WithMaxWorkers(1))
			require.NoError(t, err)
			victim := workerPID(t, p)
			var last []*deferred.Deferred[int]
			var closeErr error
			require.NoError(t, waitErr(t, chain(r, p, tc.chain, func() {
				for k := range tc.calls {
					last = append(last, square.Call(p, 10+k))
				}
				ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
				defer cancel()
				closeErr = p.Close(ctx)
			})), "Close on the loop hangs")
			require.NoError(t, closeErr, "Close on the loop had to kill")
			for k, d := range last {
				assert.Equal(t, (10+k)*(10+k), must(t, d))
			}
			requireGone(t, victim)
		})
	}
}

// TestCloseOnTheLoopWithAHungTask: Close called from a callback on the
// loop, while a task hangs, returns once the task timeout has killed the
// task's worker: the timeout fires whatever the loop does, here wait in
// Close.
func TestCloseOnTheLoopWithAHungTask(t *testing.T) {
	r := startReactor(t)
	logs := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithTaskTimeout(300*time.Millisecond),
		process.WithLogger(slog.New(logs)))
	require.NoError(t, err)
	hung := hang.Call(p, "past its timeout")
	logs.waitFor(t, "hanging past its timeout")
	pids := p.Workers()

	closed := make(chan error, 1)
	r.CallSoon(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit/2)
		defer cancel()
		closed <- p.Close(ctx)
	})
	require.NoError(t, waitErr(t, closed), "Close had to kill: the task timeout did not fire")
	_, err = wait(t, hung)
	assert.ErrorIs(t, err, process.ErrTimeout)
	assert.Empty(t, p.Workers())
	requireGone(t, pids...)
}
