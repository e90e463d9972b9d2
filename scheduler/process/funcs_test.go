package process_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/twinego/twine/scheduler/process"
)

// The functions the tests run in workers. They are registered in package
// variables, so that the workers (this test binary started again) register
// them too.

type squared struct {
	N, Square, PID int
}

type workerEnvironment struct {
	Value  string // of the variable asked for
	Dir    string
	Procs  int  // GOMAXPROCS
	Marked bool // whether the worker mark is still in its environment
}

var (
	square = process.Register("test.square", func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})

	squareWithPID = process.Register("test.squareWithPID", func(_ context.Context, n int) (squared, error) {
		return squared{N: n, Square: n * n, PID: os.Getpid()}, nil
	})

	// busySquare squares n after a millisecond of work, and says which
	// worker did it.
	busySquare = process.Register("test.busySquare", func(_ context.Context, n int) (squared, error) {
		for start := time.Now(); time.Since(start) < time.Millisecond; {
		}
		return squared{N: n, Square: n * n, PID: os.Getpid()}, nil
	})

	pid = process.Register("test.pid", func(context.Context, struct{}) (int, error) {
		return os.Getpid(), nil
	})

	failing = process.Register("test.failing", func(_ context.Context, n int) (int, error) {
		return 0, fmt.Errorf("bad input: %d", n)
	})

	failingBadly = process.Register("test.failingBadly", func(context.Context, struct{}) (int, error) {
		return 0, errors.New("not UTF-8: \xff\xfe")
	})

	panicking = process.Register("test.panicking", func(_ context.Context, n int) (int, error) {
		panic(fmt.Sprintf("boom %d", n))
	})

	// block says it is running (on stderr, which the pool logs), then waits
	// for its context, and says so.
	block = process.Register("test.block", func(ctx context.Context, tag string) (string, error) {
		fmt.Fprintf(os.Stderr, "running %s\n", tag)
		<-ctx.Done()
		fmt.Fprintf(os.Stderr, "cancelled %s\n", tag)
		return "", ctx.Err()
	})

	// hang says it is running, then ignores everything.
	hang = process.Register("test.hang", func(_ context.Context, tag string) (string, error) {
		fmt.Fprintf(os.Stderr, "hanging %s\n", tag)
		select {}
	})

	// printStdout writes on stdout, which must not disturb the protocol.
	printStdout = process.Register("test.printStdout", func(_ context.Context, s string) (string, error) {
		fmt.Println("to stdout:", s)
		return strings.ToUpper(s), nil
	})

	// garbage writes bytes on the protocol stream itself, between frames,
	// as a broken worker would.
	garbage = process.Register("test.garbage", func(_ context.Context, b []byte) (int, error) {
		process.WriteRawForTest(b)
		return 1, nil
	})

	bigString = process.Register("test.bigString", func(_ context.Context, n int) (string, error) {
		return strings.Repeat("x", n), nil
	})

	length = process.Register("test.length", func(_ context.Context, s string) (int, error) {
		return len(s), nil
	})

	describe = process.Register("test.describe", func(_ context.Context, v any) (string, error) {
		return fmt.Sprintf("%T %v", v, v), nil
	})

	// environment reports what a worker sees of its environment.
	environment = process.Register("test.environment", func(_ context.Context, key string) (workerEnvironment, error) {
		dir, err := os.Getwd()
		return workerEnvironment{Value: os.Getenv(key), Dir: dir, Procs: runtime.GOMAXPROCS(0), Marked: os.Getenv("TWINE_PROCESS_WORKER") != ""}, err
	})

	// gate says it waits, then waits for a shared lock on the file at path,
	// which the test holds until it lets the task go on (see newGate); it
	// returns its worker's pid.
	gate = process.Register("test.gate", func(_ context.Context, path string) (int, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		fmt.Fprintf(os.Stderr, "waiting at %s\n", filepath.Base(path))
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
			return 0, err
		}
		return os.Getpid(), nil
	})

	exit = process.Register("test.exit", func(_ context.Context, code int) (int, error) {
		fmt.Fprintln(os.Stderr, "exiting with", code)
		os.Exit(code)
		return 0, nil
	})

	count = process.RegisterStream("test.count", func(ctx context.Context, n int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range n {
				if !yield(i, nil) {
					fmt.Fprintf(os.Stderr, "count stopped at %d\n", i)
					return
				}
			}
		}
	})

	countThenFail = process.RegisterStream("test.countThenFail", func(ctx context.Context, n int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range n {
				if !yield(i, nil) {
					return
				}
			}
			yield(0, errors.New("no more numbers"))
		}
	})

	// countForever counts until it is stopped, and says so.
	countForever = process.RegisterStream("test.countForever", func(ctx context.Context, _ struct{}) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := 0; ; i++ {
				if ctx.Err() != nil || !yield(i, nil) {
					fmt.Fprintf(os.Stderr, "countForever stopped\n")
					return
				}
			}
		}
	})
)
