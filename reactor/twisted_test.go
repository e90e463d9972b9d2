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

// The three-phase event tests. Twisted tests its _ThreePhaseEvent helper
// and the reactor's fireSystemEvent on made-up events; twine's reactor has
// two events, startup and shutdown, fired by Run and Stop. These tests fire
// shutdown: "fireEvent" is Stop, and what Twisted checks right after a call
// is checked right after it in the same reactor callback.

// record returns a trigger that appends name to events.
func record(events *[]string, name string) func() *deferredUnit {
	return func() *deferredUnit {
		*events = append(*events, name)
		return nil
	}
}

// shutdownIn runs r in a bubble; drive runs on the reactor once it runs and
// must stop it. It returns what Run returned.
func shutdownIn(r *reactor.Reactor, drive func()) error {
	r.CallWhenRunning(drive)
	return runInBubble(r)
}

func TestThreePhaseEventTests_addInvalidPhase(t *testing.T) {
	r, _ := newReactor()
	assert.PanicsWithValue(t, "reactor: Reactor.AddSystemEventTrigger: invalid phase", func() {
		r.AddSystemEventTrigger(reactor.Phase(7), reactor.Shutdown, func() *deferredUnit { return nil })
	})
}

// test_addBeforeTrigger, test_addDuringTrigger and test_addAfterTrigger
// check that a trigger lands in its phase's list; here, that it runs in
// its phase and not before the event fires.
func TestThreePhaseEventTests_addBeforeDuringAfterTrigger(t *testing.T) {
	for _, phase := range []reactor.Phase{reactor.Before, reactor.During, reactor.After} {
		t.Run(phase.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, _ := newReactor()
				var events []string
				r.AddSystemEventTrigger(phase, reactor.Shutdown, record(&events, "trigger"))
				err := shutdownIn(r, func() {
					assert.Empty(t, events)
					_ = r.Stop()
				})
				require.NoError(t, err)
				assert.Equal(t, []string{"trigger"}, events)
			})
		})
	}
}

func TestThreePhaseEventTests_removeTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		id := r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "removed"))
		require.NoError(t, r.RemoveSystemEventTrigger(id))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Empty(t, events)
	})
}

// Twisted raises ValueError; twine returns ErrNoTrigger.
func TestThreePhaseEventTests_removeNonexistentTrigger(t *testing.T) {
	r, _ := newReactor()
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(reactor.TriggerID{}), reactor.ErrNoTrigger)
}

func TestThreePhaseEventTests_removeRemovedTrigger(t *testing.T) {
	r, _ := newReactor()
	id := r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return nil })
	require.NoError(t, r.RemoveSystemEventTrigger(id))
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(id), reactor.ErrNoTrigger)
}

func TestThreePhaseEventTests_fireEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "first after"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "first during"))
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "first before"))
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "second before"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "second during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "second after"))
		require.NoError(t, shutdownIn(r, func() {
			assert.Empty(t, events)
			_ = r.Stop()
		}))
		assert.Equal(t, []string{
			"first before", "second before", "first during", "second during", "first after", "second after",
		}, events)
	})
}

// The during and after phases run inside the Callback of the last Deferred
// a before trigger returned, when it is fired on the reactor goroutine.
func TestThreePhaseEventTests_asynchronousBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		beforeResult := deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return beforeResult })
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() {
			_ = r.Stop()
			r.CallLater(time.Second, func() {
				assert.Empty(t, events, "shutdown waits for the before trigger's Deferred")
				beforeResult.Callback(struct{}{})
				assert.Equal(t, []string{"during", "after"}, events, "at once, inside Callback")
			})
		}))
		assert.Equal(t, []string{"during", "after"}, events)
	})
}

// Twisted logs the exception; twine logs the panic.
func TestThreePhaseEventTests_beforeTriggerException(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { panic(errExpected) })
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "before"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"before", "during"}, events)
		assert.Equal(t, []string{"reactor: system event trigger panicked"}, rec.messages())
	})
}

func TestThreePhaseEventTests_duringTriggerException(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit { panic(errExpected) })
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"during", "after"}, events)
		assert.Equal(t, []string{"reactor: system event trigger panicked"}, rec.messages())
	})
}

// Twisted warns that removing a trigger that has run will raise in a
// future version; twine returns ErrNoTrigger, and the event goes on.
func TestThreePhaseEventTests_synchronousRemoveAlreadyExecutedBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		beforeHandle := r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "first before"))
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			assert.ErrorIs(t, r.RemoveSystemEventTrigger(beforeHandle), reactor.ErrNoTrigger)
			return nil
		})
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "second before"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"first before", "second before"}, events)
	})
}

func TestThreePhaseEventTests_synchronousRemovePendingBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		var beforeHandle reactor.TriggerID
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			assert.NoError(t, r.RemoveSystemEventTrigger(beforeHandle))
			return nil
		})
		beforeHandle = r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "first before"))
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "second before"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"second before"}, events)
	})
}

func TestThreePhaseEventTests_synchronousBeforeRemovesDuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		var duringHandle reactor.TriggerID
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			assert.NoError(t, r.RemoveSystemEventTrigger(duringHandle))
			return nil
		})
		duringHandle = r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"after"}, events)
	})
}

func TestThreePhaseEventTests_asynchronousBeforeRemovesDuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		beforeResult := deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return beforeResult })
		duringHandle := r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() {
			_ = r.Stop()
			r.CallLater(time.Second, func() {
				assert.NoError(t, r.RemoveSystemEventTrigger(duringHandle))
				beforeResult.Callback(struct{}{})
				assert.Equal(t, []string{"after"}, events)
			})
		}))
		assert.Equal(t, []string{"after"}, events)
	})
}

func TestThreePhaseEventTests_synchronousBeforeRemovesConspicuouslySimilarDuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		trigger := record(&events, "trigger")
		var duringTrigger reactor.TriggerID
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, trigger)
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			assert.NoError(t, r.RemoveSystemEventTrigger(duringTrigger))
			return nil
		})
		duringTrigger = r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, trigger)
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"trigger"}, events)
	})
}

func TestThreePhaseEventTests_synchronousRemovePendingDuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		var duringHandle reactor.TriggerID
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
			assert.NoError(t, r.RemoveSystemEventTrigger(duringHandle))
			return nil
		})
		duringHandle = r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "first during"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "second during"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"second during"}, events)
	})
}

// Twisted fires the event twice; twine's shutdown fires once, and a second
// Stop returns ErrNotRunning.
func TestThreePhaseEventTests_triggersRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "before"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() {
			assert.NoError(t, r.Stop())
			assert.ErrorIs(t, r.Stop(), reactor.ErrNotRunning)
		}))
		assert.Equal(t, []string{"before", "during", "after"}, events)
	})
}

// Not carried over from ThreePhaseEventTests: test_removeAlmostValidTrigger
// (a TriggerID cannot be forged with another phase: its fields are
// unexported) and test_finishedBeforeTriggersCleared (it checks private
// state of Twisted's helper).

func TestSystemEventTests_beforeDuringAfterPhase(t *testing.T) {
	// test_beforePhase, test_duringPhase, test_afterPhase: a trigger is not
	// called until its event fires.
	for _, phase := range []reactor.Phase{reactor.Before, reactor.During, reactor.After} {
		t.Run(phase.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, _ := newReactor()
				var events []string
				r.AddSystemEventTrigger(phase, reactor.Shutdown, record(&events, "trigger"))
				require.NoError(t, shutdownIn(r, func() {
					r.CallLater(time.Second, func() {
						assert.Empty(t, events)
						_ = r.Stop()
					})
				}))
				assert.Equal(t, []string{"trigger"}, events)
			})
		})
	}
}

// Twisted raises KeyError; twine panics, naming the method.
func TestSystemEventTests_unknownPhase(t *testing.T) {
	r, _ := newReactor()
	assert.Panics(t, func() {
		r.AddSystemEventTrigger(reactor.Phase(-1), reactor.Shutdown, func() *deferredUnit { return nil })
	})
}

func TestSystemEventTests_beforePreceedsDuring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "before"))
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"before", "during"}, events)
	})
}

func TestSystemEventTests_duringPreceedsAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after"))
		require.NoError(t, shutdownIn(r, func() { _ = r.Stop() }))
		assert.Equal(t, []string{"during", "after"}, events)
	})
}

func TestSystemEventTests_beforeReturnsDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		triggerDeferred := deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return triggerDeferred })
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		require.NoError(t, shutdownIn(r, func() {
			_ = r.Stop()
			r.CallLater(time.Second, func() {
				assert.Empty(t, events)
				triggerDeferred.Callback(struct{}{})
				assert.Equal(t, []string{"during"}, events)
			})
		}))
	})
}

func TestSystemEventTests_multipleBeforeReturnDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		firstDeferred, secondDeferred := deferred.New[struct{}](), deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return firstDeferred })
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return secondDeferred })
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		require.NoError(t, shutdownIn(r, func() {
			_ = r.Stop()
			r.CallLater(time.Second, func() {
				assert.Empty(t, events)
				firstDeferred.Callback(struct{}{})
				assert.Empty(t, events)
				secondDeferred.Callback(struct{}{})
				assert.Equal(t, []string{"during"}, events)
			})
		}))
	})
}

func TestSystemEventTests_subsequentBeforeTriggerFiresPriorBeforeDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		firstDeferred, secondDeferred := deferred.New[struct{}](), deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return firstDeferred })
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			firstDeferred.Callback(struct{}{})
			return nil
		})
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			events = append(events, "before")
			return secondDeferred
		})
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, record(&events, "during"))
		require.NoError(t, shutdownIn(r, func() {
			_ = r.Stop()
			r.CallLater(time.Second, func() {
				assert.Equal(t, []string{"before"}, events)
				secondDeferred.Callback(struct{}{})
				assert.Equal(t, []string{"before", "during"}, events)
			})
		}))
	})
}

func TestSystemEventTests_removeSystemEventTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "first"))
		require.NoError(t, r.RemoveSystemEventTrigger(
			r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, record(&events, "second"))))
		require.NoError(t, shutdownIn(r, func() {
			assert.Empty(t, events)
			_ = r.Stop()
		}))
		assert.Equal(t, []string{"first"}, events)
	})
}

// Twisted raises TypeError, ValueError or KeyError; twine returns
// ErrNoTrigger for an ID removed already and for the zero ID.
func TestSystemEventTests_removeNonExistentSystemEventTrigger(t *testing.T) {
	r, _ := newReactor()
	b := r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit { return nil })
	require.NoError(t, r.RemoveSystemEventTrigger(b))
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(reactor.TriggerID{}), reactor.ErrNoTrigger)
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(b), reactor.ErrNoTrigger)
}

// Twisted fires two made-up events that wait for Deferreds at the same
// time and finish independently. twine's two events are startup and
// shutdown: shutdown waits for its own before Deferreds whatever startup
// waits for, and, by design, a Stop that comes while startup waits skips
// the rest of startup (where Twisted would still run its after phase).
func TestSystemEventTests_interactionBetweenDifferentEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var events []string
		firstDeferred, secondDeferred := deferred.New[struct{}](), deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Startup, func() *deferredUnit {
			events = append(events, "before startup")
			// Stuck before its during phase, waiting for firstDeferred.
			r.CallSoon(func() {
				assert.Equal(t, []string{"before startup"}, events)
				_ = r.Stop()
			})
			return firstDeferred
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Startup, record(&events, "after startup"))
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			events = append(events, "before shutdown")
			r.CallLater(time.Second, func() {
				// Both stuck, each waiting for its own Deferred.
				assert.Equal(t, []string{"before startup", "before shutdown"}, events)
				firstDeferred.Callback(struct{}{})
				assert.Equal(t, []string{"before startup", "before shutdown"}, events,
					"startup's rest is skipped: shutdown has taken over")
				secondDeferred.Callback(struct{}{})
				assert.Equal(t, []string{"before startup", "before shutdown", "after shutdown"}, events)
			})
			return secondDeferred
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, record(&events, "after shutdown"))
		require.NoError(t, runInBubble(r))
		assert.Equal(t, []string{"before startup", "before shutdown", "after shutdown"}, events)
	})
}
