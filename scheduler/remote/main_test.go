package remote_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/twinego/twine/scheduler/remote"
)

// The environment through which a test starts this test binary again as a
// worker process (see startWorker).
const (
	envWorker      = "REMOTE_TEST_WORKER"      // set: be a worker
	envQueue       = "REMOTE_TEST_QUEUE"       // its queue
	envConcurrency = "REMOTE_TEST_CONCURRENCY" // WithConcurrency
	envLimit       = "REMOTE_TEST_LIMIT"       // WithDeliveryLimit
	envDrain       = "REMOTE_TEST_DRAIN"       // WithDrainTimeout
	envCrash       = "REMOTE_TEST_CRASH"       // set: crash exits the process
)

// Exit statuses of a worker process.
const (
	exitDrainTimeout = 5
	exitFailed       = 6
)

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		os.Exit(workerMain())
	}
	goleak.VerifyTestMain(m)
}

// workerMain is the worker process: a Worker configured from the
// environment, run until SIGTERM, logging on stderr.
func workerMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := []remote.Option{
		remote.WithQueue(os.Getenv(envQueue)),
		remote.WithLogger(log),
		remote.WithReconnect(20*time.Millisecond, 200*time.Millisecond),
		remote.WithConnectTimeout(20 * time.Second),
	}
	for _, o := range []struct {
		env string
		opt func(int) remote.Option
	}{
		{envConcurrency, remote.WithConcurrency},
		{envLimit, remote.WithDeliveryLimit},
		{envDrain, func(ms int) remote.Option { return remote.WithDrainTimeout(time.Duration(ms) * time.Millisecond) }},
	} {
		if v := os.Getenv(o.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bad", o.env, v)
				return exitFailed
			}
			opts = append(opts, o.opt(n))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := remote.NewWorker(opts...).Run(ctx)
	switch {
	case err == nil:
		fmt.Fprintln(os.Stderr, "worker exiting")
		return 0
	case errors.Is(err, remote.ErrDrainTimeout):
		fmt.Fprintln(os.Stderr, "worker exiting: drain timed out")
		return exitDrainTimeout
	default:
		fmt.Fprintln(os.Stderr, "worker failed:", strings.ReplaceAll(err.Error(), "\n", " "))
		return exitFailed
	}
}
