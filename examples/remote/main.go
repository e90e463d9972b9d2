// Command remote maps a function over items on worker processes reached
// through RabbitMQ, kills one of the workers midway, and still prints every
// result: scheduler/remote's delivery guarantees at work.
//
// It starts two worker processes (this program started again), each
// serving the registered function slowSquare four tasks at a time, then maps
// slowSquare over the items from its reactor with cooperate.Parallel, at
// most 16 calls in flight: the same loop runs over a local process pool,
// goroutines or, here, workers reached through the broker. When a third of
// the results are in, it kills the first worker with SIGKILL. The broker
// hands the tasks that worker was running to the other one, and the loop
// goes on.
//
// The broker is at TWINE_AMQP_URL, or amqp://guest:guest@127.0.0.1:5672/.
// The program uses queues of its own, and deletes them at the end.
//
//	go run ./examples/remote
//	go run ./examples/remote -items 1000
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// slowSquare is the function the workers run: it takes a while, so that a
// worker killed midway has tasks in hand.
var slowSquare = process.Register("examples.remote.slowSquare", func(ctx context.Context, n int) (int, error) {
	select {
	case <-time.After(20 * time.Millisecond):
		return n * n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
})

// The environment of a worker process: envQueue names its queue.
const (
	envWorker = "TWINE_EXAMPLE_REMOTE_WORKER"
	envQueue  = "TWINE_EXAMPLE_REMOTE_QUEUE"
)

const (
	workers     = 2
	concurrency = 4  // tasks each worker runs at once
	inFlight    = 16 // tasks the loop has out at once
)

func main() {
	if os.Getenv(envWorker) != "" {
		os.Exit(serve())
	}
	items := flag.Int("items", 200, "items to map over")
	flag.Parse()
	if err := run(os.Stdout, *items); err != nil {
		fmt.Fprintln(os.Stderr, "remote:", err)
		os.Exit(1)
	}
}

// serve is a worker process: it serves the queue until SIGTERM, then
// drains.
func serve() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := remote.NewWorker(remote.WithQueue(os.Getenv(envQueue)), remote.WithConcurrency(concurrency), remote.WithLogger(log)).Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

// run starts the workers, maps slowSquare over items through them, and
// prints the results.
func run(out io.Writer, items int) (err error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	queue := "twine-example-remote-" + hex.EncodeToString(b[:])
	quiet := remote.WithLogger(slog.New(slog.DiscardHandler))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = errors.Join(err, remote.DeleteQueue(ctx, remote.WithQueue(queue), quiet))
	}()

	var procs []*worker
	defer func() {
		for _, w := range procs {
			err = errors.Join(err, w.stop())
		}
	}()
	for range workers {
		w, err := startWorker(queue)
		if err != nil {
			return err
		}
		procs = append(procs, w)
	}
	fmt.Fprintf(out, "mapping slowSquare over %d items on %d worker processes, %d tasks at a time\n", items, workers, inFlight)

	return reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, err := remote.NewPool(ctx, r, remote.WithQueue(queue), remote.WithTaskTimeout(30*time.Second), quiet)
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		results := make([]int, items)
		done := 0
		each := func(i, v int) error {
			results[i] = v
			if done++; done == items/3 {
				fmt.Fprintf(out, "%d of %d results in: killing worker 1 (SIGKILL)\n", done, items)
				return procs[0].kill()
			}
			return nil
		}
		loop := cooperate.Parallel(cooperate.New(r), count(items), inFlight, func(n int) *deferred.Deferred[int] {
			return slowSquare.Call(pool, n)
		}, each)
		d := deferred.Then(loop, func(struct{}) (struct{}, error) {
			report(out, results, pool.Stats())
			return struct{}{}, nil
		})
		return d.AddBoth(func(v struct{}, err error) (struct{}, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return v, errors.Join(err, pool.Close(ctx))
		})
	})
}

// report prints the results, ten to a line, and checks them.
func report(out io.Writer, results []int, st remote.Stats) {
	wrong := 0
	for i := 0; i < len(results); i += 10 {
		var line []string
		for j := i; j < min(i+10, len(results)); j++ {
			line = append(line, fmt.Sprintf("%d²=%d", j, results[j]))
			if results[j] != j*j {
				wrong++
			}
		}
		fmt.Fprintln(out, strings.Join(line, " "))
	}
	if wrong == 0 {
		fmt.Fprintf(out, "all %d results in, each right\n", len(results))
	} else {
		fmt.Fprintf(out, "%d of %d results wrong\n", wrong, len(results))
	}
	fmt.Fprintf(out, "results of tasks delivered again: %d; second results dropped: %d\n", st.Redelivered, st.Duplicates)
}

// count yields 0, 1, ..., n-1.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// worker is a worker process.
type worker struct {
	cmd    *exec.Cmd
	exited chan error
}

// startWorker starts this program again as a worker on queue, and waits
// until it has connected.
func startWorker(queue string) (*worker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envWorker+"=1", envQueue+"="+queue)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, exited: make(chan error, 1)}
	connected := make(chan struct{})
	var tail []string
	go func() {
		up := connected
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "worker connected") && up != nil {
				close(up)
				up = nil
			}
			if strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "worker:") {
				tail = append(tail, line)
			}
		}
		err := cmd.Wait()
		if err == nil && len(tail) > 0 {
			err = errors.New(strings.Join(tail, "; "))
		}
		w.exited <- err
	}()
	select {
	case <-connected:
		return w, nil
	case err := <-w.exited:
		w.exited <- err
		return nil, fmt.Errorf("a worker exited at start: %v", err)
	case <-time.After(30 * time.Second):
		_ = w.kill()
		return nil, errors.New("a worker did not connect within 30s")
	}
}

// kill ends the worker at once, as a crash would.
func (w *worker) kill() error { return w.cmd.Process.Kill() }

// stop asks the worker to drain and waits for it; a worker that was killed
// has nothing more to say.
func (w *worker) stop() error {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() {
			return nil // killed on purpose
		}
		return err
	case <-time.After(30 * time.Second):
		_ = w.kill()
		return errors.New("a worker did not stop within 30s")
	}
}
