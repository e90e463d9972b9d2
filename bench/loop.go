package main

import (
	"log/slog"
	"os"

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

// withReactor makes a runFunc that starts a reactor, lets body make the
// run on it, and stops it.
func withReactor(body func(cfg *config, r *runningReactor) (sample, error)) runFunc {
	return func(cfg *config) (s sample, err error) {
		r := startReactor()
		defer func() {
			if serr := r.stop(); err == nil {
				err = serr
			}
		}()
		return body(cfg, r)
	}
}
