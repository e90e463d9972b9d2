package remote_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// Registered in a package variable, so that every process of the same
// build, callers and workers, has it.
var exampleSquare = process.Register("example.square", func(_ context.Context, n int) (int, error) {
	return n * n, nil
})

// A registered function called on a remote pool: the task goes through the
// broker to a worker anywhere, and its result fires the Deferred on the
// reactor. (Examples of this package need a broker, so go test does not
// run them.)
func ExampleNewPool() {
	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		pool, err := remote.NewPool(context.Background(), r, remote.WithQueue("squares"))
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		d := deferred.Then(exampleSquare.Call(pool, 7), func(n int) (struct{}, error) {
			fmt.Println("7 squared by a worker:", n)
			return struct{}{}, nil
		})
		return d.AddBoth(func(v struct{}, err error) (struct{}, error) {
			if cerr := pool.Close(context.Background()); err == nil {
				err = cerr
			}
			return v, err
		})
	})
	if err != nil {
		fmt.Println(err)
	}
}

// A worker process: it serves the registered functions from the queue
// until SIGTERM, then finishes the tasks it runs and exits.
func ExampleWorker_Run() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	w := remote.NewWorker(remote.WithQueue("squares"), remote.WithConcurrency(8))
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// The dead-letter queue: list what is in it, and send back to the task
// queue the tasks of a function whose fault has been fixed.
func ExampleReplayDead() {
	ctx := context.Background()
	dead, err := remote.ListDead(ctx, remote.WithQueue("squares"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range dead {
		fmt.Println(t.ID, t.Func, t.Reason, t.Time)
	}
	n, err := remote.ReplayDead(ctx, func(t remote.DeadTask) bool { return t.Func == "example.square" }, remote.WithQueue("squares"))
	fmt.Println("replayed", n, err)
}
