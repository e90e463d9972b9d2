package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// quietLogger writes only errors, to standard error: a callback that
// panicked, a task that failed. The rest (the reactor's and the pools'
// notices) says nothing the figures do not.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// newReactor returns a reactor without a watchdog (the lag scenarios block
// it on purpose) and with a quiet logger.
func newReactor() *reactor.Reactor {
	return reactor.New(reactor.WithWatchdog(0), reactor.WithLogger(quietLogger))
}

// A runningReactor is a reactor running on a goroutine that stop ends and
// waits for.
type runningReactor struct {
	*reactor.Reactor
	done chan error
}

// startReactor runs a new reactor on a goroutine of its own and returns
// once it is running.
func startReactor() *runningReactor {
	r := &runningReactor{Reactor: newReactor(), done: make(chan error, 1)}
	started := make(chan struct{})
	r.CallWhenRunning(func() { close(started) })
	go func() { r.done <- r.Run() }()
	<-started
	return r
}

// stop stops the reactor and waits until its goroutine has ended.
func (r *runningReactor) stop() error {
	if err := r.Stop(); err != nil {
		return err
	}
	return <-r.done
}

// call runs f on the reactor goroutine and waits until it has returned.
func (r *runningReactor) call(f func()) {
	done := make(chan struct{})
	r.CallSoon(func() {
		defer close(done)
		f()
	})
	<-done
}

// withReactor makes a side that starts a reactor for the scenario's
// rounds, lets body make each round on it, timing with one meter, and
// stops it after the last.
func withReactor(body func(cfg *config, r *runningReactor, m *meter) (sample, error)) starter {
	return func(cfg *config) (*side, error) {
		r := startReactor()
		m := newMeter(cfg.target)
		return &side{
			round: func() (sample, error) { return body(cfg, r, m) },
			close: r.stop,
		}, nil
	}
}

// callWait bounds the wait for one call of a round-trip scenario: longer
// means a lost call.
const callWait = time.Minute

// chainedCalls times calls made one at a time on the reactor, each from
// the callback of the one before, the first from a CallSoon: the round trip
// of call, which must give want. what names the call in errors.
func chainedCalls(r *runningReactor, m *meter, what string, want int, call func() *deferred.Deferred[int]) (sample, error) {
	t, err := m.time(func(n int) (int, error) {
		done := make(chan error, 1)
		left := n
		var next func()
		step := func(v int) (int, error) {
			switch {
			case v != want:
				done <- errUnexpected(what, v, want)
			case left == 1:
				done <- nil
			default:
				left--
				next()
			}
			return v, nil
		}
		fail := func(err error) (int, error) {
			done <- fmt.Errorf("%s: %w", what, err)
			return 0, nil
		}
		next = func() { call().AddCallbacks(step, fail) }
		r.CallSoon(next)
		select {
		case err := <-done:
			return n, err
		case <-time.After(callWait):
			return n, errors.New(what + ": a call never came back")
		}
	})
	if err != nil {
		return sample{}, err
	}
	return t.perUnit(), nil
}
