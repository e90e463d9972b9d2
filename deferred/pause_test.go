package deferred_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/deferred"
)

func TestPausedFailureWaitsForUnpause(t *testing.T) {
	// Twisted's testPausedFailure.
	var got []error
	d := deferred.Fail[int](errA)
	d.Pause()
	d.AddErrback(func(err error) (int, error) { got = append(got, err); return 0, nil })
	assert.Empty(t, got)
	d.Unpause()
	assert.Equal(t, []error{errA}, got)
}

func TestPauseBeforeFiringHoldsTheChain(t *testing.T) {
	var got []int
	d := deferred.New[int]()
	d.Pause()
	d.AddCallback(func(n int) (int, error) { got = append(got, n); return n, nil })
	d.Callback(1)
	assert.Empty(t, got, "fired while paused: callbacks wait")
	assert.True(t, d.Called())
	requireNoResult(t, d)
	d.Unpause()
	assert.Equal(t, []int{1}, got)
	assert.Equal(t, 1, successOf(t, d))
}

func TestUnpauseBeforeFiringRunsNothing(t *testing.T) {
	// Twisted's testUnpauseBeforeCallback.
	var got []int
	d := deferred.New[int]()
	d.Pause()
	d.AddCallback(func(n int) (int, error) { got = append(got, n); return n, nil })
	d.Unpause()
	assert.Empty(t, got)
	requireNoResult(t, d)
	d.Callback(2)
	assert.Equal(t, []int{2}, got)
}

func TestPausesCount(t *testing.T) {
	var got []int
	d := deferred.New[int]()
	d.Pause()
	d.Pause()
	d.Pause()
	d.AddCallback(func(n int) (int, error) { got = append(got, n); return n, nil })
	d.Callback(3)
	d.Unpause()
	assert.Empty(t, got, "two pauses left")
	d.Unpause()
	assert.Empty(t, got, "one pause left")
	d.Unpause()
	assert.Equal(t, []int{3}, got)

	// A pause after firing holds only the callbacks added from then on.
	d.Pause()
	d.AddCallback(func(n int) (int, error) { got = append(got, n*10); return n, nil })
	assert.Equal(t, []int{3}, got)
	d.Unpause()
	assert.Equal(t, []int{3, 30}, got)
}

func TestPauseFromInsideACallbackStopsTheRestOfTheChain(t *testing.T) {
	var r recorder
	d := deferred.New[any]()
	d.AddCallback(func(v any) (any, error) { r.add("first"); d.Pause(); return v, nil })
	d.AddCallback(r.cb("second"))
	d.Callback(nil)
	assert.Equal(t, []string{"first"}, r.calls)
	d.Unpause()
	assert.Equal(t, []string{"first", "second"}, r.calls)
}

func TestUnpauseRunsTheChainOnTheCallingGoroutine(t *testing.T) {
	d := deferred.New[int]()
	d.Pause()
	d.Callback(5)
	ran := make(chan struct{})
	d.AddCallback(func(n int) (int, error) { close(ran); return n, nil })
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Unpause()
		select {
		case <-ran:
		default:
			t.Error("the chain did not run inside Unpause")
		}
	}()
	<-done
}
