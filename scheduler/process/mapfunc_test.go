package process_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// The functions the map tests run, each with its chunked form.
var (
	mapSquare = process.RegisterMap("test.mapSquare", func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})

	// mapCheck fails on 37 and panics on 50.
	mapCheck = process.RegisterMap("test.mapCheck", func(_ context.Context, n int) (string, error) {
		switch n {
		case 37:
			return "", fmt.Errorf("37 is not welcome")
		case 50:
			panic("fifty")
		}
		return fmt.Sprint(n), nil
	})

	// mapGate says when it runs 5 or 13, with its pid, and then waits for
	// its context; it squares any other number.
	mapGate = process.RegisterMap("test.mapGate", func(ctx context.Context, n int) (int, error) {
		if n == 5 || n == 13 {
			fmt.Fprintf(os.Stderr, "gate %d pid=%d\n", n, os.Getpid())
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return n * n, nil
	})
)

// count yields 0..n-1 and notes when it is released.
type countSeq struct {
	n        int
	released bool
}

func (c *countSeq) seq(yield func(int) bool) {
	defer func() { c.released = true }()
	for i := range c.n {
		if !yield(i) {
			return
		}
	}
}

func upTo(n int) iter.Seq[int] { return (&countSeq{n: n}).seq }

func TestMapGathersInOrder(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(2), process.WithMinWorkers(2))
	for _, opts := range [][]process.MapOption{nil, {process.WithChunkSize(7)}, {process.WithChunkSize(100_000)}} {
		got := must(t, mapSquare.Map(p, upTo(20_000), opts...))
		require.Len(t, got, 20_000)
		for i, v := range got {
			require.Equal(t, i*i, v, "element %d", i)
		}
	}
	empty := must(t, mapSquare.Map(p, upTo(0)))
	assert.NotNil(t, empty)
	assert.Empty(t, empty)
}

func TestMapFailsWithTheElementsError(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(2))
	for _, size := range []int{1, 10, 1000} {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			src := &countSeq{n: 50} // 37 fails
			_, err := wait(t, mapCheck.Map(p, src.seq, process.WithChunkSize(size)))
			var ee *cooperate.ElementError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 37, ee.Index)
			var re *process.RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "test.mapCheck", re.Func)
			assert.Equal(t, "37 is not welcome", re.Text)
			assert.True(t, src.released)

			_, err = wait(t, mapCheck.Map(p, slices.Values([]int{1, 2, 50, 3}), process.WithChunkSize(size)))
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 2, ee.Index)
			var perr *deferred.PanicError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, "fifty", perr.Value)
			assert.Contains(t, string(perr.Stack), "mapfunc_test.go", "the worker's stack")
		})
	}
}

func TestMapIteratorPanics(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	seq := func(yield func(int) bool) {
		for i := range 10 {
			if !yield(i) {
				return
			}
		}
		panic("no more")
	}
	_, err := wait(t, mapSquare.Map(p, seq, process.WithChunkSize(3)))
	var perr *deferred.PanicError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "no more", perr.Value)
}

func TestMapCancel(t *testing.T) {
	p, sink := newPool(t, process.WithMaxWorkers(1))
	src := &countSeq{n: 1000}
	d := mapGate.Map(p, src.seq, process.WithChunkSize(1))
	sink.waitFor(t, "gate 5")
	d.Cancel()
	_, err := wait(t, d)
	require.ErrorIs(t, err, deferred.ErrCancelled)
	// The gate sees its task cancelled: the pool is free again.
	assert.Equal(t, []int{4, 9}, must(t, mapSquare.Map(p, slices.Values([]int{2, 3}))))
	assert.True(t, src.released)
}

func TestMapPoolClosedMidway(t *testing.T) {
	r := startReactor(t)
	sink := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithLogger(slog.New(sink)))
	require.NoError(t, err)
	d := mapGate.Map(p, upTo(1000), process.WithChunkSize(1))
	sink.waitFor(t, "gate 5")
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		closed <- p.Close(ctx)
	}()
	_, err = wait(t, d)
	var ee *cooperate.ElementError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, process.ErrClosed)
	assert.Greater(t, ee.Index, 5)
	// The map cancelled the gate's task when it failed: Close has drained.
	require.NoError(t, waitErr(t, closed))
}

func TestMapWorkerKilled(t *testing.T) {
	p, sink := newPool(t, process.WithMaxWorkers(2), process.WithMaxInFlight(1))
	d := mapGate.Map(p, upTo(40), process.WithChunkSize(4))
	line := sink.waitFor(t, "gate 13")
	require.NoError(t, syscall.Kill(pidOf(line), syscall.SIGKILL))
	_, err := wait(t, d)
	var ee *cooperate.ElementError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 12, ee.Index, "a chunk that fails whole fails as its first element")
	we := workerError(t, err)
	assert.Equal(t, syscall.SIGKILL, we.Signal)
}

func TestParallelCallWorkerKilledCollectsTheRest(t *testing.T) {
	// The cooperative loop over Func.Call: the killed worker's element fails
	// with its WorkerError, every other one completes.
	r := startReactor(t)
	sink := newLogSink()
	p := poolOn(t, r, process.WithMaxWorkers(2), process.WithMaxInFlight(1), process.WithLogger(slog.New(sink)))
	got := map[int]int{}
	done := make(chan error, 1)
	r.CallSoon(func() {
		c := cooperate.New(r)
		cooperate.Parallel(c, upTo(30), 2, func(n int) *deferred.Deferred[int] {
			return mapGate.Call(p, n)
		}, func(i, v int) error {
			got[i] = v
			return nil
		}, cooperate.CollectErrors()).AddBoth(func(_ struct{}, err error) (struct{}, error) {
			c.Stop()
			done <- err
			return struct{}{}, nil
		})
	})
	for _, gate := range []string{"gate 5", "gate 13"} {
		line := sink.waitFor(t, gate)
		require.NoError(t, syscall.Kill(pidOf(line), syscall.SIGKILL))
	}
	err := waitErr(t, done)
	var errs *cooperate.ElementErrors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs.Errs, 2)
	assert.Equal(t, 5, errs.Errs[0].Index)
	assert.Equal(t, 13, errs.Errs[1].Index)
	workerError(t, errs.Errs[0])
	workerError(t, errs.Errs[1])
	_, err = reactor.BlockingCall(context.Background(), r, func() (struct{}, error) {
		assert.Len(t, got, 28)
		for i, v := range got {
			assert.Equal(t, i*i, v)
		}
		return struct{}{}, nil
	})
	require.NoError(t, err)
}

func TestCallChunked(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(2), process.WithLogger(slog.New(newLogSink())))
	var sum, handed int
	var errs []error
	done := make(chan error, 1)
	r.CallSoon(func() {
		c := cooperate.New(r)
		cooperate.Parallel(c, upTo(5000), 3000, func(n int) *deferred.Deferred[string] {
			return mapCheck.CallChunked(p, n)
		}, func(i int, v string) error {
			if v != fmt.Sprint(i) {
				return fmt.Errorf("%d gave %q", i, v)
			}
			sum += i
			handed++
			return nil
		}, cooperate.CollectErrors()).AddBoth(func(_ struct{}, err error) (struct{}, error) {
			c.Stop()
			var ee *cooperate.ElementErrors
			if errors.As(err, &ee) {
				for _, e := range ee.Errs {
					errs = append(errs, e)
				}
				err = nil
			}
			done <- err
			return struct{}{}, nil
		})
	})
	require.NoError(t, waitErr(t, done))
	_, err := reactor.BlockingCall(context.Background(), r, func() (struct{}, error) {
		assert.Equal(t, 4998, handed)
		assert.Equal(t, 4999*5000/2-37-50, sum)
		require.Len(t, errs, 2)
		var re *process.RemoteError
		assert.ErrorAs(t, errs[0], &re)
		var perr *deferred.PanicError
		assert.ErrorAs(t, errs[1], &perr)
		return struct{}{}, nil
	})
	require.NoError(t, err)
}

func TestCallChunkedFromGoroutinesAndClosedPool(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(1), process.WithLogger(slog.New(newLogSink())))
	ds := make([]*deferred.Deferred[int], 3000)
	for i := range ds {
		ds[i] = mapSquare.CallChunked(p, i) // more than MaxCallChunk: two tasks at once
	}
	for i, v := range must(t, deferred.All(ds...)) {
		require.Equal(t, i*i, v)
	}
	// A cancelled call fails at once; the others of its task go on. Made
	// on the loop, both wait there for the loop's next turn.
	var a, b *deferred.Deferred[int]
	_, err := reactor.BlockingCall(context.Background(), r, func() (struct{}, error) {
		a, b = mapSquare.CallChunked(p, 3), mapSquare.CallChunked(p, 4)
		a.Cancel()
		return struct{}{}, nil
	})
	require.NoError(t, err)
	_, err = wait(t, a)
	require.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, 16, must(t, b))

	closePool(t, p)
	_, err = wait(t, mapSquare.CallChunked(p, 2))
	assert.ErrorIs(t, err, process.ErrClosed)
	_, err = wait(t, mapSquare.Map(p, upTo(10)))
	assert.ErrorIs(t, err, process.ErrClosed)
}

func TestMapMisuse(t *testing.T) {
	p, _ := newPool(t, process.WithMinWorkers(0))
	assert.PanicsWithValue(t, "process: WithChunkSize(0): need at least 1", func() { process.WithChunkSize(0) })
	assert.PanicsWithValue(t, "process: MapFunc.Map: nil Runner", func() { mapSquare.Map(nil, upTo(1)) })
	assert.PanicsWithValue(t, "process: MapFunc.Map: nil Pool", func() { mapSquare.Map((*process.Pool)(nil), upTo(1)) })
	assert.PanicsWithValue(t, "process: MapFunc.Map: nil iterator", func() { mapSquare.Map(p, nil) })
	assert.PanicsWithValue(t, "process: MapFunc.Map: nil option", func() { mapSquare.Map(p, upTo(1), nil) })
	assert.PanicsWithValue(t, "process: MapFunc.CallChunked: nil Pool", func() { mapSquare.CallChunked(nil, 1) })
	var zero *process.MapFunc[int, int]
	assert.PanicsWithValue(t, "process: MapFunc.Map: MapFunc not made by RegisterMap", func() { zero.Map(p, upTo(1)) })
	assert.Panics(t, func() {
		process.RegisterMap("test.late", func(context.Context, int) (int, error) { return 0, nil })
	}, "registering after Main")
}

func TestMapOnAStoppedLoop(t *testing.T) {
	r := reactor.New(reactor.WithWatchdog(0))
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithMinWorkers(0))
	require.NoError(t, err)
	r.CallWhenRunning(func() { require.NoError(t, r.Stop()) })
	require.NoError(t, r.Run())

	_, err = wait(t, mapSquare.Map(p, upTo(10)))
	assert.ErrorIs(t, err, scheduler.ErrLoopStopped)
	require.NoError(t, p.Close(context.Background()))
}

func TestParallelCallPoolClosedMidway(t *testing.T) {
	// The cooperative loop over Func.Call, collecting errors, on a pool
	// that is closed, without waiting, while element 5 runs: what was in
	// flight fails with the worker's error, every later element with
	// ErrClosed, and the loop ends.
	r := startReactor(t)
	sink := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithLogger(slog.New(sink)))
	require.NoError(t, err)
	handed := 0
	done := make(chan error, 1)
	r.CallSoon(func() {
		c := cooperate.New(r)
		cooperate.Parallel(c, upTo(200), 3, func(n int) *deferred.Deferred[int] {
			return mapGate.Call(p, n)
		}, func(i, v int) error {
			handed++
			return nil
		}, cooperate.CollectErrors()).AddBoth(func(_ struct{}, err error) (struct{}, error) {
			c.Stop()
			done <- err
			return struct{}{}, nil
		})
	})
	sink.waitFor(t, "gate 5")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Close kills the worker at once
	require.ErrorIs(t, p.Close(ctx), context.Canceled)

	err = waitErr(t, done)
	var errs *cooperate.ElementErrors
	require.ErrorAs(t, err, &errs)
	h, err := reactor.BlockingCall(context.Background(), r, func() (int, error) { return handed, nil })
	require.NoError(t, err)
	assert.GreaterOrEqual(t, h, 3, "0, 1 and 2 were over before 5 started")
	assert.Equal(t, 200, h+len(errs.Errs), "every element is handed over or failed")
	for _, e := range errs.Errs {
		require.ErrorIs(t, e, process.ErrClosed, "element %d", e.Index)
		if e.Index == 5 {
			workerError(t, e)
		}
	}
}
