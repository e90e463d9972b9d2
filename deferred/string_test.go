package deferred_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/twinego/twine/deferred"
)

func TestStringOfADeferredNotFired(t *testing.T) {
	// Twisted's test_repr.
	d := deferred.New[int]()
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p not fired>", d), d.String())
	assert.Equal(t, d.String(), fmt.Sprint(d), "fmt uses it")
}

func TestStringShowsTheCurrentResult(t *testing.T) {
	// Twisted's test_reprWithResult.
	d := deferred.New[string]()
	d.Callback("orange")
	assert.Equal(t, fmt.Sprintf(`<Deferred[string] at %p current result: "orange">`, d), d.String())

	n := deferred.Succeed(7)
	n.AddCallback(double)
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p current result: 14>", n), n.String(),
		"the result after the callbacks that have run")
}

func TestStringShowsTheCurrentError(t *testing.T) {
	d := deferred.New[int]()
	d.Cancel()
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p current error: deferred: cancelled>", d), d.String())
	_, _ = d.Result()
}

func TestStringShowsTheDeferredWaitedOn(t *testing.T) {
	// Twisted's test_reprWithChaining.
	a := deferred.New[any]()
	b := deferred.New[any]()
	a.AddCallback(func(any) (any, error) { return b, nil })
	a.Callback(nil)
	assert.Equal(t, fmt.Sprintf("<Deferred[any] at %p waiting on Deferred at %p>", a, b), a.String())
	b.Callback("done")
	assert.Equal(t, fmt.Sprintf(`<Deferred[any] at %p current result: "done">`, a), a.String())
}

func TestStringShowsAPause(t *testing.T) {
	d := deferred.New[int]()
	d.Pause()
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p not fired (paused)>", d), d.String())
	d.Callback(3)
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p current result: 3 (paused)>", d), d.String())
	d.Unpause()
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p current result: 3>", d), d.String())
}

func TestStringInsideACallbackSaysTheChainRuns(t *testing.T) {
	d := deferred.New[int]()
	var inside string
	d.AddCallback(func(v int) (int, error) {
		inside = d.String()
		return v, nil
	})
	d.Callback(1)
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p running its callbacks>", d), inside)
}

func TestStringInDebuggingModeSaysWhereCreated(t *testing.T) {
	debugging(t, true)
	d := createDebugged()
	s := d.String()
	assert.True(t, strings.HasPrefix(s, fmt.Sprintf("<Deferred[int] at %p not fired created at deferred_test.createDebugged (debug_test.go:", d)), s)
	assert.True(t, strings.HasSuffix(s, ")>"), s)
}

func TestStringIsSafeWhileTheChainRunsElsewhere(t *testing.T) {
	// Run with -race: while one goroutine runs the chain, String from
	// another reads nothing that the first writes without the lock. The
	// second callback holds the chain until String has seen it running,
	// after the first callback has written its result.
	d := deferred.New[int]()
	var described atomic.Bool
	d.AddCallback(inc)
	d.AddCallback(func(v int) (int, error) {
		for !described.Load() {
			runtime.Gosched()
		}
		return v, nil
	})
	var (
		wg  sync.WaitGroup
		got string
	)
	wg.Go(func() {
		for {
			if s := d.String(); strings.Contains(s, "running") {
				got = s
				described.Store(true)
				return
			}
			runtime.Gosched()
		}
	})
	d.Callback(0)
	wg.Wait()
	assert.Equal(t, fmt.Sprintf("<Deferred[int] at %p running its callbacks>", d), got)
	assert.Equal(t, 1, successOf(t, d))
}
