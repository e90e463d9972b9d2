// Command remotefaults runs many tasks through scheduler/remote while it
// breaks things, and prints its tallies: every task must complete, and each
// result must reach its caller once. It is the long run of the remote
// delivery guarantees, too long for CI:
//
//	go run ./bench/remotefaults                 # 10,000 tasks, a worker killed every second
//	go run ./bench/remotefaults -restart        # 10,000 tasks of 200 ms, the broker restarted midway
//	go run ./bench/remotefaults -tasks 50000 -kill 500ms
//
// It starts two worker processes (this program started again). With -kill,
// every period it kills one of them with SIGKILL, in turn, and starts a new
// one in its place. With -restart, once a third of the results are in, it
// restarts the broker's application (rabbitmqctl stop_app, start_app: run it
// where rabbitmqctl works, as root), having waited for the broker tests
// running meanwhile, which then wait for it. The broker is at
// TWINE_AMQP_URL, or amqp://guest:guest@127.0.0.1:5672/; the queues are the
// run's own, deleted at the end.
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
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/internal/brokertest"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
	"github.com/twinego/twine/scheduler/remote"
)

// pause is how long each task sleeps, in a worker process (-work).
var pause time.Duration

// work is the task: a little CPU and a pause, so that tasks are in hand
// when a worker dies or the broker goes, and a result the caller checks.
var work = process.Register("bench.remotefaults.work", func(ctx context.Context, n int) (int, error) {
	if pause > 0 {
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	x := uint64(n) | 1
	for range 2000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	if x == 0 { // never: xorshift keeps an odd seed from zero
		return 0, errors.New("remotefaults: zero")
	}
	return n * 2, nil
})

// The environment of a worker process: its queue, and its tasks' pause.
const (
	envWorker = "TWINE_REMOTEFAULTS_QUEUE"
	envPause  = "TWINE_REMOTEFAULTS_PAUSE"
)

func main() {
	if q := os.Getenv(envWorker); q != "" {
		os.Exit(serve(q))
	}
	tasks := flag.Int("tasks", 10_000, "tasks to run")
	kill := flag.Duration("kill", time.Second, "kill one of the two workers this often (0: never)")
	restart := flag.Bool("restart", false, "restart the broker's application once a third of the results are in")
	inFlight := flag.Int("inflight", 500, "tasks out at once")
	pauseFlag := flag.Duration("work", 0, "how long each task sleeps (default: none, or 200ms with -restart, so that the run outlasts the restart)")
	flag.Parse()
	if *restart {
		*kill = 0
		if *pauseFlag == 0 {
			*pauseFlag = 200 * time.Millisecond
		}
	}
	_ = os.Setenv(envPause, pauseFlag.String())
	if err := run(os.Stdout, *tasks, *inFlight, *kill, *restart); err != nil {
		fmt.Fprintln(os.Stderr, "remotefaults:", err)
		os.Exit(1)
	}
}

// serve is a worker process.
func serve(queue string) int {
	pause, _ = time.ParseDuration(os.Getenv(envPause))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	err := remote.NewWorker(remote.WithQueue(queue), remote.WithConcurrency(64), remote.WithLogger(log),
		remote.WithReconnect(50*time.Millisecond, time.Second)).Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

// tally is what the run counts, on the reactor.
type tally struct {
	fired   []int // how many times each task's Deferred fired
	wrong   int
	failed  int
	lastErr error
	done    int
}

func run(out io.Writer, tasks, inFlight int, kill time.Duration, restart bool) (err error) {
	if restart {
		// The restart would break the broker tests running meanwhile:
		// wait for them, and keep new ones waiting.
		release, err := brokertest.TakeAlone()
		if err != nil {
			return err
		}
		defer release()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	queue := "twine-remotefaults-" + hex.EncodeToString(b[:])
	quiet := remote.WithLogger(slog.New(slog.DiscardHandler))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, remote.DeleteQueue(ctx, remote.WithQueue(queue), quiet))
	}()

	f := &fleet{queue: queue}
	defer func() { err = errors.Join(err, f.stop()) }()
	for range 2 {
		if err := f.start(); err != nil {
			return err
		}
	}
	mode := "a worker killed every " + kill.String()
	switch {
	case restart:
		mode = "the broker restarted once a third of the results are in"
	case kill == 0:
		mode = "nothing broken"
	}
	fmt.Fprintf(out, "%d tasks of %s each, %d in flight, 2 worker processes of concurrency 64, %s\n", tasks, os.Getenv(envPause), inFlight, mode)

	t := &tally{fired: make([]int, tasks)}
	var st remote.Stats
	start := time.Now()
	var restarted chan error
	var restartedAt time.Duration
	err = reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pool, err := remote.NewPool(ctx, r, remote.WithQueue(queue), remote.WithMaxInFlight(inFlight),
			remote.WithReconnect(50*time.Millisecond, time.Second), quiet)
		if err != nil {
			return deferred.Fail[struct{}](err)
		}
		all := deferred.New[struct{}]()
		var killer *time.Ticker
		stopKiller := make(chan struct{})
		var kills sync.WaitGroup
		if kill > 0 {
			killer = time.NewTicker(kill)
			kills.Add(1)
			go func() {
				defer kills.Done()
				for {
					select {
					case <-killer.C:
						f.killOne()
					case <-stopKiller:
						return
					}
				}
			}()
		}
		for i := range tasks {
			work.Call(pool, i).AddBoth(func(v int, err error) (int, error) {
				t.fired[i]++
				switch {
				case err != nil:
					t.failed++
					t.lastErr = err
				case v != i*2:
					t.wrong++
				}
				if t.done++; t.done == tasks/3 && restart {
					restarted = make(chan error, 1)
					restartedAt = time.Since(start)
					go func() { restarted <- restartBroker() }()
				}
				if t.done == tasks {
					all.Callback(struct{}{})
				}
				return 0, nil
			})
		}
		return all.AddBoth(func(v struct{}, err error) (struct{}, error) {
			if killer != nil {
				killer.Stop()
				close(stopKiller)
				kills.Wait()
			}
			st = pool.Stats()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return v, errors.Join(err, pool.Close(ctx))
		})
	}, reactor.WithWatchdog(0)) // its first callback makes every call at once
	elapsed := time.Since(start)
	if restarted != nil {
		err = errors.Join(err, <-restarted)
	}
	once, missing, twice := 0, 0, 0
	for _, n := range t.fired {
		switch n {
		case 0:
			missing++
		case 1:
			once++
		default:
			twice++
		}
	}
	fmt.Fprintf(out, "elapsed:                         %v\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "tasks completed:                 %d of %d\n", tasks-missing, tasks)
	fmt.Fprintf(out, "results delivered exactly once:  %d (twice or more: %d)\n", once, twice)
	fmt.Fprintf(out, "wrong results:                   %d\n", t.wrong)
	fmt.Fprintf(out, "failed calls:                    %d\n", t.failed)
	fmt.Fprintf(out, "results of redelivered tasks:    %d\n", st.Redelivered)
	fmt.Fprintf(out, "duplicate executions dropped:    %d\n", st.Duplicates)
	fmt.Fprintf(out, "tasks published again:           %d\n", st.Republished)
	fmt.Fprintf(out, "pool reconnects:                 %d\n", st.Reconnects)
	if restart {
		fmt.Fprintf(out, "broker restarted at:             %v\n", restartedAt.Round(time.Millisecond))
	}
	fmt.Fprintf(out, "workers killed:                  %d\n", f.killed())
	if t.lastErr != nil {
		fmt.Fprintf(out, "last error:                      %v\n", t.lastErr)
	}
	if err == nil && (missing > 0 || twice > 0 || t.wrong > 0 || t.failed > 0) {
		err = errors.New("a guarantee did not hold")
	}
	return err
}

// restartBroker stops the broker's application and starts it again.
func restartBroker() error {
	for _, cmd := range []string{"stop_app", "start_app", "await_startup"} {
		if out, err := exec.Command("rabbitmqctl", "--quiet", cmd).CombinedOutput(); err != nil {
			return fmt.Errorf("rabbitmqctl %s: %v: %s", cmd, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// fleet is the worker processes.
type fleet struct {
	queue string
	mu    sync.Mutex
	procs []*exec.Cmd
	ended []chan error
	turn  int
	kills int
}

// start starts a worker process and waits until it has connected.
func (f *fleet) start() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envWorker+"="+f.queue)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	connected := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		up := connected
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if up != nil && strings.Contains(sc.Text(), "worker connected") {
				close(up)
				up = nil
			}
		}
		ended <- cmd.Wait()
	}()
	select {
	case <-connected:
	case err := <-ended:
		return fmt.Errorf("a worker exited at start: %v", err)
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		return errors.New("a worker did not connect within a minute")
	}
	f.mu.Lock()
	f.procs = append(f.procs, cmd)
	f.ended = append(f.ended, ended)
	f.mu.Unlock()
	return nil
}

// killOne kills the next worker in turn and starts another in its place.
func (f *fleet) killOne() {
	f.mu.Lock()
	i := f.turn % len(f.procs)
	f.turn++
	cmd, ended := f.procs[i], f.ended[i]
	f.procs = append(f.procs[:i:i], f.procs[i+1:]...)
	f.ended = append(f.ended[:i:i], f.ended[i+1:]...)
	f.kills++
	f.mu.Unlock()
	_ = cmd.Process.Kill()
	<-ended
	if err := f.start(); err != nil {
		fmt.Fprintln(os.Stderr, "remotefaults:", err)
	}
}

func (f *fleet) killed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kills
}

// stop drains every worker left.
func (f *fleet) stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for i, cmd := range f.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-f.ended[i]; err != nil {
			errs = append(errs, err)
		}
	}
	f.procs, f.ended = nil, nil
	return errors.Join(errs...)
}
