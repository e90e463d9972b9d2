package remote_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// The functions the tests run. They are registered in package variables,
// so that worker processes (this test binary started again) register them
// too.
var (
	square = process.Register("rt.square", func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})

	pid = process.Register("rt.pid", func(context.Context, struct{}) (int, error) {
		return os.Getpid(), nil
	})

	fail = process.Register("rt.fail", func(_ context.Context, s string) (int, error) {
		return 0, fmt.Errorf("no good: %s", s)
	})

	explode = process.Register("rt.explode", func(_ context.Context, s string) (int, error) {
		panic("boom " + s)
	})

	big = process.Register("rt.big", func(_ context.Context, n int) (string, error) {
		return strings.Repeat("x", n), nil
	})

	// hold runs until the test releases it, or its context ends; see gate.
	hold = process.Register("rt.hold", func(ctx context.Context, tag string) (string, error) {
		g := gateFor(tag)
		g.started <- struct{}{}
		select {
		case <-g.release:
			return tag, nil
		case <-ctx.Done():
			g.stopped <- ctx.Err()
			return "", ctx.Err()
		}
	})

	// holdFifo, in a worker process, says on stderr that it runs, then
	// waits until the test writes to the named pipe at path, and returns
	// its process id.
	holdFifo = process.Register("rt.holdFifo", func(_ context.Context, path string) (int, error) {
		fmt.Fprintf(os.Stderr, "running %s\n", path)
		if _, err := os.ReadFile(path); err != nil {
			return 0, err
		}
		return os.Getpid(), nil
	})

	// crash kills its worker process when REMOTE_TEST_CRASH is set in it,
	// as a task that segfaults or exhausts memory would.
	crash = process.Register("rt.crash", func(_ context.Context, tag string) (string, error) {
		if os.Getenv(envCrash) != "" {
			fmt.Fprintf(os.Stderr, "crashing on %s\n", tag)
			os.Exit(99)
		}
		return "survived " + tag, nil
	})

	// stream is a stream function: a worker refuses it.
	_ = process.RegisterStream("rt.stream", func(context.Context, int) iter.Seq2[int, error] {
		return func(func(int, error) bool) {}
	})
)

// callerOnly is registered in the test process, not in its worker
// processes: a function that the workers lack.
var callerOnly *process.Func[int, int]

func init() {
	if os.Getenv(envWorker) == "" {
		callerOnly = process.Register("rt.callerOnly", func(_ context.Context, n int) (int, error) { return n, nil })
	}
}

// A gate lets a test hold an rt.hold task of an in-process worker, and see
// it start and stop.
type gate struct {
	started chan struct{}
	release chan struct{}
	stopped chan error
}

var gates sync.Map // tag → *gate

func gateFor(tag string) *gate {
	g, _ := gates.LoadOrStore(tag, &gate{
		started: make(chan struct{}, 16),
		release: make(chan struct{}),
		stopped: make(chan error, 16),
	})
	return g.(*gate)
}

// waitStarted waits for the gate's task to start, within waitLimit.
func (g *gate) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(waitLimit):
		t.Fatal("the task did not start")
	}
}

var tagSeq atomic.Int64

// uniqueTag returns a gate's tag of the test's own, new at each run.
func uniqueTag(t *testing.T) string {
	return fmt.Sprintf("%s.%d", t.Name(), tagSeq.Add(1))
}

// holdRunning calls rt.hold on p under a tag of the test's own and waits
// for the task to start on an in-process worker; it returns the tag, the
// task's gate and the call's Deferred.
func holdRunning(t *testing.T, p *remote.Pool) (string, *gate, *deferred.Deferred[string]) {
	t.Helper()
	tag := uniqueTag(t)
	g := gateFor(tag)
	d := hold.Call(p, tag)
	g.waitStarted(t)
	return tag, g, d
}
