package reactor_test

// Twisted's own tests of the behaviours below, re-expressed against twine.
// Each test is named after the one it mirrors, Class_method, from
// twisted/test/test_task.py (ReactTests) and twisted/test/test_internet.py
// (ThreePhaseEventTests, SystemEventTests). Time is the fake time of a
// testing/synctest bubble, where Twisted's tests use a fake reactor. Where
// twine's API differs (no arguments for main, no global reactor, errors
// instead of exit codes), the comment says how the test was carried over;
// tests with nothing to carry over are listed at the end of each group.

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
)

// errExpected is Twisted's ExpectedException.
var errExpected = errors.New("expected")

// reactIn runs React in a bubble and returns its error and how much fake
// time passed, Twisted's r.seconds() on its fake reactor.
func reactIn(t *testing.T, main func(r *reactor.Reactor) *deferredUnit) (elapsed time.Duration, err error) {
	t.Helper()
	t0 := time.Now()
	err = reactor.React(main, reactor.WithLogger(newLogger()))
	return time.Since(t0), err
}

func TestReactTests_runsUntilAsyncCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var timePassed []bool
		elapsed, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			finished := deferred.New[struct{}]()
			r.CallLater(time.Second, func() { timePassed = append(timePassed, true) })
			r.CallLater(2*time.Second, func() { finished.Callback(struct{}{}) })
			return finished
		})
		assert.NoError(t, err) // exit code 0
		assert.Equal(t, []bool{true}, timePassed)
		assert.Equal(t, 2*time.Second, elapsed)
	})
}

func TestReactTests_runsUntilSyncCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(*reactor.Reactor) *deferredUnit {
			return deferred.Succeed(struct{}{})
		})
		assert.NoError(t, err)
		assert.Zero(t, elapsed)
	})
}

// Twisted logs the failure and exits with code 1; React returns it.
func TestReactTests_runsUntilAsyncErrback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			finished := deferred.New[struct{}]()
			r.CallLater(time.Second, func() { finished.Errback(errExpected) })
			return finished
		})
		assert.ErrorIs(t, err, errExpected)
	})
}

func TestReactTests_runsUntilSyncErrback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(*reactor.Reactor) *deferredUnit {
			return deferred.Fail[struct{}](errExpected)
		})
		assert.ErrorIs(t, err, errExpected)
		assert.Zero(t, elapsed)
	})
}

func TestReactTests_singleStopCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			r.CallLater(time.Second, func() { _ = r.Stop() })
			finished := deferred.New[struct{}]()
			r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
				finished.Callback(struct{}{})
				return nil
			})
			return finished
		})
		assert.NoError(t, err)
		assert.Equal(t, time.Second, elapsed)
	})
}

// The Deferred fails after the reactor has begun stopping: Twisted still
// reports it and exits with code 1.
func TestReactTests_singleStopErrback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			r.CallLater(time.Second, func() { _ = r.Stop() })
			finished := deferred.New[struct{}]()
			r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
				finished.Errback(errExpected)
				return nil
			})
			return finished
		})
		assert.ErrorIs(t, err, errExpected)
		assert.Equal(t, time.Second, elapsed)
	})
}

// exitError is an error that carries an exit code, as SystemExit does.
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit" }

// Twisted exits with the code of a SystemExit failure; React returns the
// error itself, so the program's own error (and its code) comes back
// unchanged.
func TestReactTests_exitWithDefinedCode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := reactIn(t, func(*reactor.Reactor) *deferredUnit {
			return deferred.Fail[struct{}](&exitError{code: 23})
		})
		var exit *exitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 23, exit.code)
	})
}

func TestReactTests_synchronousStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallWhenRunning(func() {
				_ = r.Stop()
				d.Callback(struct{}{})
			})
			return d
		})
		assert.NoError(t, err)
	})
}

// The same with an errback: Twisted records the failure (exit code 1)
// although the reactor is already stopping.
func TestReactTests_synchronousStop_errback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallWhenRunning(func() {
				_ = r.Stop()
				d.Errback(errExpected)
			})
			return d
		})
		assert.ErrorIs(t, err, errExpected)
	})
}

func TestReactTests_asynchronousStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			r.CallLater(time.Second, func() { _ = r.Stop() })
			return deferred.New[struct{}]()
		})
		assert.NoError(t, err)
		assert.Equal(t, time.Second, elapsed)
	})
}

// ReactCoroutineFunctionTests repeats ReactTests with an async main; here,
// a main whose Deferred comes from deferred.Async.
func TestReactCoroutineFunctionTests_runsUntilAsyncErrback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		elapsed, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			return deferred.Async(func(a *deferred.Awaiter) (struct{}, error) {
				finished := deferred.New[struct{}]()
				r.CallLater(time.Second, func() { finished.Errback(errExpected) })
				return deferred.Await(a, finished)
			})
		})
		assert.ErrorIs(t, err, errExpected)
		assert.Equal(t, time.Second, elapsed)
	})
}

func TestReactCoroutineFunctionTests_singleStopErrback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := reactIn(t, func(r *reactor.Reactor) *deferredUnit {
			r.CallLater(time.Second, func() { _ = r.Stop() })
			finished := deferred.New[struct{}]()
			r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
				finished.Errback(errExpected)
				return nil
			})
			return deferred.Async(func(a *deferred.Awaiter) (struct{}, error) {
				return deferred.Await(a, finished)
			})
		})
		assert.ErrorIs(t, err, errExpected)
	})
}

// Not carried over from ReactTests: test_arguments (main takes no argv in
// twine: it closes over what it needs) and test_defaultReactor (there is no
// global reactor: React makes one).
