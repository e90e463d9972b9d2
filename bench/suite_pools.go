package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// The pools suite: running functions in worker processes. Twisted itself
// has no process pool (ampoule is a package of its own, not in Debian), so
// this suite has no Twisted column.
func poolsSuite() suite {
	return suite{
		name: "pools",
		doc:  "Worker processes: scheduler/process pools",
		scenarios: []scenario{
			{
				name:         "round_trip",
				doc:          "from the reactor, Call a tiny function on a pool of one worker, the next when its result is back",
				metrics:      []metric{timeMetric("op", "")},
				twine:        withPool(1, poolRoundTrip),
				baseline:     pipeEcho,
				baselineName: "bare pipe echo to a child process",
			},
			{
				name:    "throughput",
				doc:     "tiny calls, up to 256 in flight, through a pool of two workers; per call",
				metrics: []metric{timeMetric("call", "")},
				twine:   withPool(2, poolThroughput),
			},
			{
				name:         "cpu_parallel",
				doc:          "16 tasks computing for about 2 ms each on a pool of two workers, all awaited; per task",
				metrics:      []metric{timeMetric("task", "")},
				twine:        withPool(2, poolParallel),
				baseline:     micro(serialSpins),
				baselineName: "one after the other in this process",
			},
		},
	}
}

// The functions the pools run. They are registered when the package is
// initialised, so that the workers, this executable started again, have
// them too.
var (
	poolSquare = process.Register("bench.square", func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})
	poolSpin = process.Register("bench.spin", func(_ context.Context, rounds int) (uint64, error) {
		return spinFor(rounds), nil
	})
)

// spinFor computes for rounds rounds of xorshift and returns the result.
func spinFor(rounds int) uint64 {
	x := uint64(rounds) | 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// poolWindow is how many calls the throughput scenario keeps in flight.
const poolWindow = 256

// poolWait bounds every wait on a pool: longer means a lost task.
const poolWait = time.Minute

// withPool makes a side that starts a reactor and a pool of workers on it
// for the scenario's rounds, warms the workers up, lets body make each
// round, timing with one meter, and closes both after the last.
//
// The pool lives as long as the scenario, not a round: a round that starts
// its own workers measures them starting too, and a worker that starts
// late, or the first call that wakes it, can stall a round.
func withPool(workers int, body func(cfg *config, r *runningReactor, p *process.Pool, m *meter) (sample, error)) starter {
	return func(cfg *config) (*side, error) {
		r := startReactor()
		p, err := process.NewPool(r,
			process.WithMinWorkers(workers),
			process.WithMaxWorkers(workers),
			process.WithMaxInFlight(poolWindow),
			process.WithLogger(quietLogger),
		)
		if err != nil {
			return nil, errors.Join(err, r.stop())
		}
		closeAll := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), poolWait)
			defer cancel()
			return errors.Join(p.Close(ctx), r.stop())
		}
		// As BenchmarkRoundTrip and BenchmarkThroughput of scheduler/process
		// do: enough calls at once that each worker has grown the goroutines
		// and stacks that its tasks run on, so that none is grown while timed.
		ds := make([]*deferred.Deferred[int], poolWindow*workers)
		for i := range ds {
			ds[i] = poolSquare.Call(p, i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), poolWait)
		defer cancel()
		if _, err := deferred.All(ds...).Wait(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("warming the workers up: %w", err), closeAll())
		}
		m := newMeter(cfg.target)
		return &side{round: func() (sample, error) { return body(cfg, r, p, m) }, close: closeAll}, nil
	}
}

// poolRoundTrip measures what BenchmarkRoundTrip of scheduler/process
// measures: one call at a time, each made on the reactor from the callback
// of the one before, the first from a CallSoon; the time per call.
func poolRoundTrip(_ *config, r *runningReactor, p *process.Pool, m *meter) (sample, error) {
	return chainedCalls(r, m, "square(7)", 49, func() *deferred.Deferred[int] {
		return poolSquare.Call(p, 7)
	})
}

// poolThroughput keeps up to poolWindow calls in flight from a goroutine
// of its own; an operation is one call, and a round ends when every call
// is back.
func poolThroughput(_ *config, _ *runningReactor, p *process.Pool, m *meter) (sample, error) {
	slots := make(chan struct{}, poolWindow)
	var failed atomic.Pointer[error]
	release := func(v int, err error) (int, error) {
		if err == nil && v != 49 {
			err = errUnexpected("square(7)", v, 49)
		}
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
		<-slots
		return 0, nil
	}
	t, err := m.time(func(n int) (int, error) {
		for range n {
			slots <- struct{}{}
			poolSquare.Call(p, 7).AddBoth(release)
		}
		// The round ends when every call is back.
		for range poolWindow {
			slots <- struct{}{}
		}
		for range poolWindow {
			<-slots
		}
		if e := failed.Load(); e != nil {
			return 0, *e
		}
		return n, nil
	})
	if err != nil {
		return sample{}, err
	}
	return t.perUnit(), nil
}

// parallelTasks is how many tasks one operation of cpu_parallel runs.
const parallelTasks = 16

// spinRounds returns the rounds of spinFor that take about 2 ms.
func spinRounds() int { return 100 * stepRounds() }

func poolParallel(_ *config, _ *runningReactor, p *process.Pool, m *meter) (sample, error) {
	rounds := spinRounds()
	want := spinFor(rounds)
	ds := make([]*deferred.Deferred[uint64], parallelTasks)
	t, err := m.time(func(n int) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), poolWait)
		defer cancel()
		for range n {
			for i := range ds {
				ds[i] = poolSpin.Call(p, rounds)
			}
			got, err := deferred.All(ds...).Wait(ctx)
			if err != nil {
				return 0, err
			}
			for _, v := range got {
				if v != want {
					return 0, errUnexpected("spin", v, want)
				}
			}
		}
		return n * parallelTasks, nil
	})
	if err != nil {
		return sample{}, err
	}
	return t.perUnit(), nil
}

// serialSpins runs cpu_parallel's tasks one after the other in this
// process.
func serialSpins(n int) (int, error) {
	rounds := spinRounds()
	want := spinFor(rounds)
	for range n * parallelTasks {
		if v := spinFor(rounds); v != want {
			return 0, errUnexpected("spin", v, want)
		}
	}
	return n * parallelTasks, nil
}

// envEcho makes this executable, started again, the bare echo child of
// the round_trip baseline instead of the command.
const envEcho = "TWINE_BENCH_ECHO_CHILD"

// echoChild echoes length-prefixed frames from standard input to standard
// output, one write per frame, until its input ends. It returns the exit
// status.
func echoChild() int {
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	buf := make([]byte, 0, 64<<10)
	for {
		buf = buf[:4]
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0
		}
		n := int(binary.BigEndian.Uint32(buf))
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			return 1
		}
		if _, err := os.Stdout.Write(buf); err != nil {
			return 1
		}
	}
}

// pipeEcho is the floor under a pool's round trip: a frame about as long
// as a call of square(7) sent to a child process over a pipe and read
// back, nothing else. The child lives as long as the scenario.
func pipeEcho(cfg *config) (*side, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envEcho+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() error {
		_ = stdin.Close()
		return cmd.Wait()
	}
	r := bufio.NewReaderSize(stdout, 64<<10)
	frame := binary.BigEndian.AppendUint32(nil, 8)
	frame = append(frame, "12345678"...)
	reply := make([]byte, len(frame))
	echo := func() error {
		if _, err := stdin.Write(frame); err != nil {
			return err
		}
		if _, err := io.ReadFull(r, reply); err != nil {
			return err
		}
		if string(reply) != string(frame) {
			return errUnexpected("echo", reply, frame)
		}
		return nil
	}
	// The first echo waits for the child to start: not part of the figure.
	if err := echo(); err != nil {
		return nil, errors.Join(err, stop())
	}
	s, err := micro(perOp(1, echo))(cfg)
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	s.close = stop
	return s, nil
}
