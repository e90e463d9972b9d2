package deferred_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Misuse is a programmer's error: it panics at the call, with a message
// that names the package and the call.

func TestNilFunctionsPanicNamingTheCall(t *testing.T) {
	d := deferred.New[int]()
	cases := map[string]func(){
		"Deferred.AddCallback":  func() { d.AddCallback(nil) },
		"Deferred.AddErrback":   func() { d.AddErrback(nil) },
		"Deferred.AddBoth":      func() { d.AddBoth(nil) },
		"Deferred.AddCallbacks": func() { d.AddCallbacks(nil, nil) },
		"NewWithCanceller":      func() { deferred.NewWithCanceller[int](nil) },
		"Then":                  func() { deferred.Then[int, string](d, nil) },
		"ThenDeferred":          func() { deferred.ThenDeferred[int, string](d, nil) },
		"Maybe":                 func() { deferred.Maybe[int](nil) },
	}
	for op, f := range cases {
		t.Run(op, func(t *testing.T) { misusePanic(t, op, f) })
	}
	// None of these left a step in the chain.
	d.Callback(4)
	assert.Equal(t, 4, successOf(t, d))
}

func TestErrbackAndFailWithNilErrorPanic(t *testing.T) {
	d := deferred.New[int]()
	misusePanic(t, "Deferred.Errback", func() { d.Errback(nil) })
	assert.False(t, d.Called(), "the failed call did not fire the Deferred")
	misusePanic(t, "Fail", func() { deferred.Fail[int](nil) })
}

func TestFiringTwicePanicsWithErrAlreadyCalled(t *testing.T) {
	// Twisted's testAlreadyCalled_CC, _CE, _EC and _EE.
	first := map[string]func(*deferred.Deferred[string]){
		"C": func(d *deferred.Deferred[string]) { d.Callback("hello") },
		"E": func(d *deferred.Deferred[string]) { d.Errback(errA) },
	}
	second := map[string]struct {
		op   string
		fire func(*deferred.Deferred[string])
	}{
		"C": {"Deferred.Callback", func(d *deferred.Deferred[string]) { d.Callback("twice") }},
		"E": {"Deferred.Errback", func(d *deferred.Deferred[string]) { d.Errback(errB) }},
	}
	for n1, f1 := range first {
		for n2, f2 := range second {
			t.Run(n1+n2, func(t *testing.T) {
				d := deferred.New[string]()
				d.AddCallbacks(
					func(s string) (string, error) { return s, nil },
					func(error) (string, error) { return "handled", nil },
				)
				f1(d)
				before := successOf(t, d)
				err := misusePanic(t, f2.op, func() { f2.fire(d) })
				assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
				assert.Equal(t, before, successOf(t, d), "the result is untouched")
			})
		}
	}
}

func TestFiringSucceedOrFailAgainPanics(t *testing.T) {
	err := misusePanic(t, "Deferred.Callback", func() { deferred.Succeed(1).Callback(2) })
	assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
	f := deferred.Fail[int](errA)
	err = misusePanic(t, "Deferred.Errback", func() { f.Errback(errB) })
	assert.ErrorIs(t, err, deferred.ErrAlreadyCalled)
	assert.Same(t, errA, failureOf(t, f))
}

func TestUnpauseWithoutPausePanics(t *testing.T) {
	d := deferred.New[int]()
	misusePanic(t, "Deferred.Unpause", d.Unpause)
	d.Pause()
	d.Unpause()
	misusePanic(t, "Deferred.Unpause", d.Unpause)
	d.Callback(1)
	assert.Equal(t, 1, successOf(t, d), "the pause count did not go negative")
}

func TestFiringADeferredAnyWithADeferredPanics(t *testing.T) {
	d := deferred.New[any]()
	misusePanic(t, "Deferred.Callback", func() { d.Callback(deferred.New[any]()) })
	assert.False(t, d.Called())
	misusePanic(t, "Succeed", func() { deferred.Succeed[any](deferred.New[any]()) })
}

func TestChainToItselfOrNilPanics(t *testing.T) {
	d := deferred.New[int]()
	misusePanic(t, "Deferred.Chain", func() { d.Chain(d) })
	misusePanic(t, "Deferred.Chain", func() { d.Chain(nil) })
	d.Callback(1)
	assert.Equal(t, 1, successOf(t, d), "no step was added")
}

func TestAddTimeoutWithNilClockPanics(t *testing.T) {
	var clock scheduler.Clock
	misusePanic(t, "Deferred.AddTimeout", func() { deferred.New[int]().AddTimeout(clock, time.Second) })
}

func TestWithContextNilContextPanics(t *testing.T) {
	var ctx context.Context
	misusePanic(t, "WithContext", func() { deferred.WithContext(ctx, deferred.New[int]()) })
}
