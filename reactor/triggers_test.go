package reactor_test

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

// addAll adds a trigger recording its name to every phase of both events.
func addAll(r *reactor.Reactor, order *[]string) {
	for _, e := range []reactor.Event{reactor.Startup, reactor.Shutdown} {
		for _, p := range []reactor.Phase{reactor.Before, reactor.During, reactor.After} {
			name := p.String() + " " + e.String()
			r.AddSystemEventTrigger(p, e, func() *deferredUnit {
				*order = append(*order, name)
				return nil
			})
		}
	}
}

func TestTriggersFireInPhaseOrder(t *testing.T) {
	r, _ := newReactor()
	var order []string
	addAll(r, &order)
	r.CallWhenRunning(func() {
		order = append(order, "running")
		_ = r.Stop()
	})
	require.NoError(t, r.Run())
	assert.Equal(t, []string{
		"before startup", "during startup", "after startup", "running",
		"before shutdown", "during shutdown", "after shutdown",
	}, order)
}

func TestTriggersOfOnePhaseRunInTheOrderAdded(t *testing.T) {
	r, _ := newReactor()
	var order []int
	for i := range 5 {
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
			order = append(order, i)
			return nil
		})
	}
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, []int{0, 1, 2, 3, 4}, order)
}

func TestRunningDuringTheEvents(t *testing.T) {
	r, _ := newReactor()
	got := map[string]bool{}
	for _, e := range []reactor.Event{reactor.Startup, reactor.Shutdown} {
		for _, p := range []reactor.Phase{reactor.Before, reactor.During, reactor.After} {
			name := p.String() + " " + e.String()
			r.AddSystemEventTrigger(p, e, func() *deferredUnit {
				got[name] = r.Running()
				return nil
			})
		}
	}
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	// As Twisted's reactor.running: set at the start of the startup's during
	// phase, cleared at the start of the shutdown's.
	assert.Equal(t, map[string]bool{
		"before startup": false, "during startup": true, "after startup": true,
		"before shutdown": true, "during shutdown": false, "after shutdown": false,
	}, got)
}

func TestRemoveSystemEventTrigger(t *testing.T) {
	r, _ := newReactor()
	var order []string
	keep := r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "kept")
		return nil
	})
	removed := r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "removed")
		return nil
	})
	require.NoError(t, r.RemoveSystemEventTrigger(removed))
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(removed), reactor.ErrNoTrigger)
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(reactor.TriggerID{}), reactor.ErrNoTrigger)

	// A trigger removed by an earlier trigger of the same phase does not run.
	var later reactor.TriggerID
	r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "remover")
		assert.NoError(t, r.RemoveSystemEventTrigger(later))
		return nil
	})
	later = r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "removed while firing")
		return nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"kept", "remover"}, order)
	assert.ErrorIs(t, r.RemoveSystemEventTrigger(keep), reactor.ErrNoTrigger, "a fired trigger cannot be removed")
}

func TestTriggerAddedToTheFiringPhaseRunsInIt(t *testing.T) {
	r, _ := newReactor()
	var order []string
	r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "first")
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			order = append(order, "added while firing")
			return nil
		})
		return nil
	})
	r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
		order = append(order, "during")
		return nil
	})
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.Equal(t, []string{"first", "added while firing", "during"}, order)
}

func TestShutdownWaitsForBeforeTriggerDeferreds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor()
		t0 := time.Now()
		var at []time.Duration
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallLater(2*time.Second, func() { d.Callback(struct{}{}) })
			return d
		})
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			// Fired from another goroutine: shutdown still goes on on the reactor's.
			d := deferred.New[struct{}]()
			go func() {
				<-time.After(3 * time.Second) // fake time: the bubble's clock jumps
				d.Errback(errors.New("cleanup failed"))
			}()
			return d
		})
		r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit {
			at = append(at, since(t0))
			return nil
		})
		r.CallWhenRunning(func() { _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.Equal(t, []time.Duration{3 * time.Second}, at)
		assert.Equal(t, []string{"reactor: before-shutdown trigger failed"}, rec.messages())
		assert.Equal(t, "cleanup failed", rec.attrs(t, "reactor: before-shutdown trigger failed")["err"].String())
	})
}

func TestShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, rec := newReactor(reactor.WithShutdownTimeout(5 * time.Second))
		t0 := time.Now()
		var at time.Duration
		never := deferred.New[struct{}]()
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { return never })
		r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit {
			return deferred.Succeed(struct{}{})
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			at = since(t0)
			return nil
		})
		r.CallWhenRunning(func() { _ = r.Stop() })
		require.NoError(t, r.Run())
		assert.Equal(t, 5*time.Second, at)
		attrs := rec.attrs(t, "reactor: timed out waiting for before-shutdown triggers")
		assert.Equal(t, 5*time.Second, attrs["timeout"].Duration())
		assert.Equal(t, int64(1), attrs["pending"].Int64())
		never.Callback(struct{}{}) // late: nothing happens, the reactor is gone
	})
}

func TestStartupWaitsForBeforeTriggerDeferreds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		t0 := time.Now()
		var at time.Duration
		r.AddSystemEventTrigger(reactor.Before, reactor.Startup, func() *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallLater(time.Second, func() { d.Callback(struct{}{}) })
			return d
		})
		r.CallWhenRunning(func() {
			at = since(t0)
			_ = r.Stop()
		})
		require.NoError(t, r.Run())
		assert.Equal(t, time.Second, at)
	})
}

func TestStopWhileStartupWaitsSkipsTheRestOfStartup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := newReactor()
		var order []string
		r.AddSystemEventTrigger(reactor.Before, reactor.Startup, func() *deferredUnit {
			d := deferred.New[struct{}]()
			r.CallLater(time.Second, func() { d.Callback(struct{}{}) })
			r.CallSoon(func() { _ = r.Stop() })
			return d
		})
		r.AddSystemEventTrigger(reactor.During, reactor.Startup, func() *deferredUnit {
			order = append(order, "during startup")
			return nil
		})
		r.AddSystemEventTrigger(reactor.After, reactor.Shutdown, func() *deferredUnit {
			order = append(order, "after shutdown")
			return nil
		})
		require.NoError(t, r.Run())
		assert.Equal(t, []string{"after shutdown"}, order)
	})
}

func TestPanickingTriggerIsLoggedAndTheEventGoesOn(t *testing.T) {
	r, rec := newReactor()
	ran := false
	r.AddSystemEventTrigger(reactor.Before, reactor.Shutdown, func() *deferredUnit { panic("bad trigger") })
	r.AddSystemEventTrigger(reactor.During, reactor.Shutdown, func() *deferredUnit { ran = true; return nil })
	r.CallWhenRunning(func() { _ = r.Stop() })
	require.NoError(t, r.Run())
	assert.True(t, ran)
	attrs := rec.attrs(t, "reactor: system event trigger panicked")
	assert.Equal(t, "before", attrs["phase"].String())
	assert.Equal(t, "shutdown", attrs["event"].String())
	assert.Contains(t, attrs["err"].String(), "bad trigger")
}

func TestTriggerAddedAfterItsPhaseNeverRuns(t *testing.T) {
	r, _ := newReactor()
	ran := false
	r.CallWhenRunning(func() {
		r.AddSystemEventTrigger(reactor.Before, reactor.Startup, func() *deferredUnit { ran = true; return nil })
		_ = r.Stop()
	})
	require.NoError(t, r.Run())
	assert.False(t, ran)
}

func TestPhaseAndEventNames(t *testing.T) {
	assert.Equal(t, "invalid phase", reactor.Phase(9).String())
	assert.Equal(t, "invalid event", reactor.Event(9).String())
}
