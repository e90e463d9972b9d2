package deferred_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// A function of the user's that calls runtime.Goexit (as t.FailNow does)
// ends the goroutine that runs it. The chain it belonged to goes on before
// the goroutine ends, with an error wrapping deferred.ErrGoexit that names
// the function; later callbacks run; nothing waits for ever.

// onGoroutine runs f on a goroutine of its own and waits for that goroutine
// to end. It reports whether f returned, rather than ending the goroutine.
func onGoroutine(f func()) (returned bool) {
	done := make(chan bool)
	go func() {
		ok := false
		defer func() { done <- ok }()
		f()
		ok = true
	}()
	return <-done
}

// exitCallback is a callback that ends its goroutine.
func exitCallback(any) (any, error) {
	runtime.Goexit()
	return nil, nil
}

// requireGoexit requires err to wrap deferred.ErrGoexit and to name the
// function that exited, in role.
func requireGoexit(t *testing.T, err error, role, name string) {
	t.Helper()
	require.ErrorIs(t, err, deferred.ErrGoexit)
	assert.Contains(t, err.Error(), role+" ")
	assert.Contains(t, err.Error(), name)
	assert.Contains(t, err.Error(), "called runtime.Goexit")
}

func TestGoexitInACallbackGoesOnDownTheChain(t *testing.T) {
	// From one link (fire's fast path) to many (the general loop), on
	// each position, the chain goes on past the exit.
	for _, links := range []int{1, 2, 3, 12} {
		for exitAt := range links {
			var r recorder
			d := deferred.New[any]()
			for i := range links {
				if i == exitAt {
					d.AddCallback(exitCallback)
					continue
				}
				d.AddBoth(func(v any, err error) (any, error) {
					if err != nil {
						r.add("error")
						return v, err
					}
					r.add("ok")
					return v, nil
				})
			}
			var got error
			d.AddErrback(func(err error) (any, error) { got = err; return "handled", nil })
			assert.False(t, onGoroutine(func() { d.Callback(1) }), "Callback returned")

			var want []string
			for i := range links {
				switch {
				case i < exitAt:
					want = append(want, "ok")
				case i > exitAt:
					want = append(want, "error")
				}
			}
			assert.Equal(t, want, r.calls, "links %d, exit at %d", links, exitAt)
			requireGoexit(t, got, "callback", "deferred_test.exitCallback")
			assert.Equal(t, "handled", successOf(t, d))
		}
	}
}

func TestGoexitInEachKindOfLink(t *testing.T) {
	exitErrback := func(error) (int, error) { runtime.Goexit(); return 0, nil }
	exitBoth := func(int, error) (int, error) { runtime.Goexit(); return 0, nil }
	exitCb := func(int) (int, error) { runtime.Goexit(); return 0, nil }
	keep := func(v int) (int, error) { return v, nil }
	pass := func(err error) (int, error) { return 0, err }
	cases := []struct {
		name string
		add  func(*deferred.Deferred[int])
		fail bool
		role string
	}{
		{"AddCallback", func(d *deferred.Deferred[int]) { d.AddCallback(exitCb) }, false, "callback"},
		{"AddErrback", func(d *deferred.Deferred[int]) { d.AddErrback(exitErrback) }, true, "errback"},
		{"AddBoth", func(d *deferred.Deferred[int]) { d.AddBoth(exitBoth) }, false, "callback"},
		{"AddCallbacks/callback", func(d *deferred.Deferred[int]) { d.AddCallbacks(exitCb, pass) }, false, "callback"},
		{"AddCallbacks/errback", func(d *deferred.Deferred[int]) { d.AddCallbacks(keep, exitErrback) }, true, "errback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fire := func(d *deferred.Deferred[int]) {
				if c.fail {
					d.Errback(errA)
				} else {
					d.Callback(1)
				}
			}
			// Added before the Deferred fires: the firing goroutine ends.
			d := deferred.New[int]()
			c.add(d)
			assert.False(t, onGoroutine(func() { fire(d) }))
			requireGoexit(t, failureOf(t, d), c.role, "TestGoexitInEachKindOfLink")

			// Added after: the adding goroutine ends.
			d = deferred.New[int]()
			fire(d)
			d.AddBoth(func(v int, err error) (int, error) { return v, err })
			assert.False(t, onGoroutine(func() { c.add(d) }))
			requireGoexit(t, failureOf(t, d), c.role, "TestGoexitInEachKindOfLink")
		})
	}
}

func TestGoexitWhileAChainWaitsOnAnother(t *testing.T) {
	// inner has a link after the continuation of outer, so inner waits on
	// run's stack while outer goes on: an exit in outer's chain must
	// still resume inner.
	var r recorder
	inner := deferred.New[any]()
	outer := deferred.Succeed[any]("outer")
	outer.AddCallback(func(any) (any, error) { return inner, nil })
	outer.AddCallback(exitCallback)
	outer.AddErrback(func(err error) (any, error) {
		r.add("outer errback")
		requireGoexit(t, err, "callback", "exitCallback")
		return "outer handled", nil
	})
	inner.AddBoth(func(v any, err error) (any, error) { r.add("inner after"); return "inner done", err })

	assert.False(t, onGoroutine(func() { inner.Callback("inner") }))
	assert.Equal(t, []string{"outer errback", "inner after"}, r.calls)
	assert.Equal(t, "outer handled", successOf(t, outer))
	assert.Equal(t, "inner done", successOf(t, inner))
}

func TestGoexitInThenFailsTheReturnedDeferred(t *testing.T) {
	d := deferred.New[int]()
	out := deferred.Then(d, func(int) (string, error) { runtime.Goexit(); return "", nil })
	var after []string
	out.AddErrback(func(err error) (string, error) { after = append(after, "out errback"); return "", err })
	assert.False(t, onGoroutine(func() { d.Callback(1) }))
	requireGoexit(t, failureOf(t, out), "Then function", "TestGoexitInThenFailsTheReturnedDeferred")
	assert.Equal(t, []string{"out errback"}, after)
	// d handed its result on, as after any Then: it holds no error.
	assert.Equal(t, 0, successOf(t, d))

	d2 := deferred.New[int]()
	out2 := deferred.ThenDeferred(d2, func(int) *deferred.Deferred[string] { runtime.Goexit(); return nil })
	assert.False(t, onGoroutine(func() { d2.Callback(1) }))
	requireGoexit(t, failureOf(t, out2), "ThenDeferred function", "TestGoexitInThenFailsTheReturnedDeferred")
	assert.Equal(t, 0, successOf(t, d2))
}

func TestGoexitInAChainedDeferredStaysInIt(t *testing.T) {
	// Twisted's chainDeferred: the exit belongs to other's chain, which
	// goes on with it; d has handed its result on.
	d := deferred.New[any]()
	other := deferred.New[any]()
	other.AddCallback(exitCallback)
	d.Chain(other)
	assert.False(t, onGoroutine(func() { d.Callback(1) }))
	requireGoexit(t, failureOf(t, other), "callback", "exitCallback")
	v, err := d.Result()
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestGoexitInACancellerFailsTheDeferred(t *testing.T) {
	d := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { runtime.Goexit() })
	var got error
	d.AddErrback(func(err error) (int, error) { got = err; return 0, err })
	assert.False(t, onGoroutine(d.Cancel))
	requireGoexit(t, got, "canceller", "TestGoexitInACancellerFailsTheDeferred")
	requireGoexit(t, failureOf(t, d), "canceller", "TestGoexitInACancellerFailsTheDeferred")

	// A canceller that fired the Deferred before it exited keeps its
	// result.
	d2 := deferred.NewWithCanceller(func(d *deferred.Deferred[int]) { d.Errback(errB); runtime.Goexit() })
	assert.False(t, onGoroutine(d2.Cancel))
	assert.ErrorIs(t, failureOf(t, d2), errB)
}

func TestGoexitInALockedFunctionReleasesTheLock(t *testing.T) {
	var l deferred.Lock
	var out *deferred.Deferred[int]
	assert.False(t, onGoroutine(func() {
		out = deferred.Run(&l, func() (int, error) { runtime.Goexit(); return 0, nil })
	}))
	assert.False(t, l.Locked(), "the hold was given back")

	// The goroutine ended inside Run: reach the Deferred through a second
	// call that waits its turn.
	held := l.Acquire()
	require.True(t, held.Called())
	outDeferred := deferred.RunDeferred(&l, func() *deferred.Deferred[int] { runtime.Goexit(); return nil })
	assert.False(t, onGoroutine(l.Release), "the Release that hands the lock over runs f")
	assert.False(t, l.Locked())
	requireGoexit(t, failureOf(t, outDeferred), "RunDeferred function", "TestGoexitInALockedFunctionReleasesTheLock")
	assert.Nil(t, out, "Run never returned")
}

func TestGoexitInAnAsyncBodyWrapsErrGoexit(t *testing.T) {
	d := deferred.Async(func(*deferred.Awaiter) (int, error) { runtime.Goexit(); return 0, nil })
	err := failureOf(t, d)
	assert.True(t, errors.Is(err, deferred.ErrGoexit))
	assert.Contains(t, err.Error(), "Async body")
}

func TestGoexitTwiceInOneChain(t *testing.T) {
	// The second exit happens while the goroutine is already exiting,
	// inside the deferred call that carries the chain on after the first.
	var r recorder
	d := deferred.New[any]()
	for range 4 {
		d.AddCallback(func(v any) (any, error) { r.add("skipped"); return v, nil })
	}
	exitErrback := func(error) (any, error) { runtime.Goexit(); return nil, nil }
	d.AddErrback(exitErrback)
	d.AddErrback(func(err error) (any, error) { r.add("after first"); return nil, err })
	d.AddErrback(exitErrback)
	d.AddErrback(func(err error) (any, error) { r.add("after second"); return "recovered", nil })
	assert.False(t, onGoroutine(func() { d.Errback(errA) }))
	assert.Equal(t, []string{"after first", "after second"}, r.calls)
	assert.Equal(t, "recovered", successOf(t, d))
}
