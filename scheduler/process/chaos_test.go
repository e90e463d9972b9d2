package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

// TestChaos: a pool whose workers are killed again and again with SIGKILL,
// before their handshake and while they run tasks, and recycled meanwhile,
// loses nothing. Every Deferred fires exactly once; every task succeeds,
// unless it was sent to a worker that was killed while it had the task,
// and then it fails with that worker's *WorkerError. (bench/storm runs the
// long storm.)
func TestChaos(t *testing.T) {
	const (
		tasks = 1500
		// Each worker takes its 50 tasks at once (the pool's default of 64
		// in flight is more), a millisecond of work each, and retires:
		// while it works, the next worker starts, and may be killed.
		recycle = 50
		// One of so many workers is killed as soon as it says it is
		// starting, long before its handshake; one of so many others at
		// its tenth answer, with tasks still in flight on it.
		killStartsOf, killRunnersOf = 2, 2
	)
	loopLogs := newLogSink()
	r, stop := runReactor(t, reactor.WithLogger(slog.New(loopLogs)))
	defer stop()
	logs := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(2), process.WithRecycleAfter(recycle),
		process.WithEnv(envSlowStart+"=20ms"), process.WithLogger(slog.New(logs)))
	require.NoError(t, err)

	var mu sync.Mutex
	killed := map[int]bool{}
	kill := func(pid int) { // with mu held
		if !killed[pid] {
			killed[pid] = true
			_ = syscall.Kill(pid, syscall.SIGKILL) // it may have gone
		}
	}
	stopKiller, killerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(killerDone)
		seen := 0
		for {
			lines, changed := logs.all("line=worker starting")
			mu.Lock()
			for ; seen < len(lines); seen++ {
				if seen%killStartsOf == 0 {
					kill(pidOf(lines[seen]))
				}
			}
			mu.Unlock()
			select {
			case <-changed:
			case <-stopKiller:
				return
			}
		}
	}()

	fired := make([]int, tasks)
	errs := make([]error, tasks)
	answers := map[int]int{} // by worker
	runners := 0
	ds := make([]*deferred.Deferred[squared], tasks)
	for i := range ds {
		ds[i] = busySquare.Call(p, i)
		ds[i].AddBoth(func(s squared, err error) (squared, error) {
			mu.Lock()
			defer mu.Unlock()
			fired[i]++
			if err == nil && s.Square != i*i {
				err = fmt.Errorf("square(%d) = %d", i, s.Square)
			}
			errs[i] = err
			if err == nil {
				if answers[s.PID]++; answers[s.PID] == 1 {
					runners++
				}
				if answers[s.PID] == 10 && runners%killRunnersOf == 0 {
					kill(s.PID)
				}
			}
			return s, nil
		})
	}
	for i, d := range ds {
		_, err := wait(t, d)
		require.NoError(t, err, "task %d: the Deferred failed after its callback handled the error", i)
	}
	close(stopKiller)
	<-killerDone
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, p.Close(ctx))

	mu.Lock()
	defer mu.Unlock()
	failed := 0
	for i := range tasks {
		require.Equal(t, 1, fired[i], "task %d fired %d times", i, fired[i])
		if errs[i] == nil {
			continue
		}
		failed++
		var we *process.WorkerError
		require.True(t, errors.As(errs[i], &we), "task %d failed without its worker dying: %v", i, errs[i])
		require.True(t, killed[we.PID], "task %d failed with a worker that was not killed: %v", i, errs[i])
		require.Equal(t, syscall.SIGKILL, we.Signal, "task %d: %v", i, errs[i])
		require.NoError(t, we.Err, "task %d: the pool did not kill its worker: %v", i, errs[i])
	}
	before, after := 0, 0
	for pid := range killed {
		switch {
		case logs.has("process: cannot start worker", fmt.Sprint("pid=", pid)):
			before++
		case logs.has("process: worker went away", fmt.Sprint("pid=", pid)):
			after++
		}
	}
	t.Logf("%d tasks, %d failed with their worker; %d kills: %d before the handshake, %d after", tasks, failed, len(killed), before, after)
	assert.Positive(t, before, "kills before the handshake")
	assert.Positive(t, after, "kills after the handshake")
	assert.Positive(t, failed, "tasks in flight on a killed worker")
	assert.False(t, loopLogs.has("ERROR"), "the loop caught a panic (a Deferred fired twice?)")
}
