package deferred_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// unhandledWatch collects what the OnUnhandledError hook receives while a
// test runs. Other tests' garbage may be reported meanwhile, so tests count
// only errors they created themselves.
type unhandledWatch struct {
	mu     sync.Mutex
	errs   []error
	notify chan struct{}
}

func watchUnhandled(t *testing.T) *unhandledWatch {
	t.Helper()
	w := &unhandledWatch{notify: make(chan struct{}, 1)}
	restore := deferred.OnUnhandledError(func(err error) {
		w.mu.Lock()
		w.errs = append(w.errs, err)
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default:
		}
	})
	t.Cleanup(restore)
	// Reports of garbage that earlier tests left are not this test's:
	// let them come, then forget them.
	w.quiesce(t)
	w.mu.Lock()
	w.errs = nil
	w.mu.Unlock()
	return w
}

// has reports whether target, or an error wrapping it, has been reported.
func (w *unhandledWatch) has(target error) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, err := range w.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// count reports how many reports were target itself.
func (w *unhandledWatch) count(target error) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, err := range w.errs {
		if err == target {
			n++
		}
	}
	return n
}

// collect runs the garbage collector until target (or an error wrapping
// it) has been reported, or fails the test after a generous number of
// rounds. Cleanups run on another goroutine, so each round also yields to
// it.
func (w *unhandledWatch) collect(t *testing.T, target error) {
	t.Helper()
	for range 200 {
		runtime.GC()
		for range 10 {
			if w.has(target) {
				return
			}
			select {
			case <-w.notify:
			default:
				runtime.Gosched()
			}
		}
	}
	t.Fatalf("%v was never reported as unhandled", target)
}

// quiesce drops two unhandled markers, the second once the first has been
// reported: by the time the second is reported, the reports of garbage made
// before quiesce, had there been any, have come too.
func (w *unhandledWatch) quiesce(t *testing.T) {
	t.Helper()
	marker1 := errors.New("marker 1")
	dropFail(marker1)
	w.collect(t, marker1)
	marker2 := errors.New("marker 2")
	dropFail(marker2)
	w.collect(t, marker2)
}

// settle runs a few more collections, to give a report that should not
// come a fair chance to come anyway.
func (w *unhandledWatch) settle() {
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
}

//go:noinline
func dropFailed(err error) {
	d := deferred.New[int]()
	d.AddCallback(func(n int) (int, error) { return n, nil })
	d.Errback(err)
}

//go:noinline
func dropCallbackError(err error) {
	d := deferred.New[string]()
	d.AddCallback(func(string) (string, error) { return "", err })
	d.Callback("x")
}

//go:noinline
func dropFail(err error) {
	deferred.Fail[int](err)
}

func TestUnhandledErrorIsReportedOnceWithThatError(t *testing.T) {
	cases := map[string]func(error){
		"Errback":         dropFailed,
		"callback error":  dropCallbackError,
		"Fail never read": dropFail,
	}
	for name, drop := range cases {
		t.Run(name, func(t *testing.T) {
			w := watchUnhandled(t)
			err := errors.New("unhandled: " + name)
			drop(err)
			w.collect(t, err)
			w.settle()
			assert.Equal(t, 1, w.count(err), "reported exactly once")
		})
	}
}

//go:noinline
func dropReplacedError(first, last error) {
	d := deferred.New[int]()
	d.AddErrback(func(error) (int, error) { return 0, last })
	d.Errback(first)
}

func TestUnhandledErrorReportedIsTheOneAtTheEndOfTheChain(t *testing.T) {
	w := watchUnhandled(t)
	first := errors.New("replaced")
	last := errors.New("at the end of the chain")
	dropReplacedError(first, last)
	w.collect(t, last)
	w.settle()
	assert.Equal(t, 1, w.count(last))
	assert.Equal(t, 0, w.count(first), "the errback handled the first error")
}

// dropHandled makes Deferreds whose error is handled in one way each, and
// one whose error is not, and drops them all.
//
//go:noinline
func dropHandled(t *testing.T, handled map[string]error, sentinel error) {
	// An errback that returns a nil error.
	d1 := deferred.New[int]()
	d1.AddErrback(func(error) (int, error) { return 0, nil })
	d1.Errback(handled["errback"])

	// Result read the error.
	d2 := deferred.Fail[int](handled["Result"])
	_, err := d2.Result()
	require.ErrorIs(t, err, handled["Result"])

	// Passed to an outer Deferred, which handles it.
	inner := deferred.Fail[any](handled["inner"])
	outer := deferred.New[any]()
	outer.AddCallback(returns(inner))
	outer.AddErrback(func(error) (any, error) { return nil, nil })
	outer.Callback(nil)

	// Passed to an outer Deferred later, when the inner one fails.
	lateInner := deferred.New[any]()
	lateOuter := deferred.New[any]()
	lateOuter.AddCallback(returns(lateInner))
	lateOuter.Callback(nil)
	lateOuter.AddErrback(func(error) (any, error) { return nil, nil })
	lateInner.Errback(handled["late inner"])

	// Wait consumed it.
	d3 := deferred.Fail[int](handled["Wait"])
	_, err = d3.Wait(context.Background())
	require.ErrorIs(t, err, handled["Wait"])

	// Chain passed it on to a Deferred that handles it.
	src := deferred.New[int]()
	dst := deferred.New[int]()
	src.Chain(dst)
	dst.AddErrback(func(error) (int, error) { return 0, nil })
	src.Errback(handled["Chain"])

	// Then passed it on to a Deferred that handles it.
	thenSrc := deferred.Fail[int](handled["Then"])
	deferred.Then(thenSrc, func(int) (string, error) { return "", nil }).
		AddErrback(func(error) (string, error) { return "", nil })

	// An errback that returns a Deferred that never fires: no error is
	// left anywhere (Twisted's test_errorClearedByChaining).
	bad := deferred.Fail[any](handled["errback returns Deferred"])
	bad.AddErrback(func(error) (any, error) { return deferred.New[any](), nil })

	dropFailed(sentinel)
}

func TestHandledErrorsAreNeverReported(t *testing.T) {
	w := watchUnhandled(t)
	handled := map[string]error{}
	for _, name := range []string{"errback", "Result", "inner", "late inner", "Wait", "Chain", "Then", "errback returns Deferred"} {
		handled[name] = errors.New("handled: " + name)
	}
	first := errors.New("first unhandled sentinel")
	dropHandled(t, handled, first)
	w.collect(t, first)
	// A second round, with a sentinel made after the first one was
	// collected, gives the cleanups of the first round time to run.
	second := errors.New("second unhandled sentinel")
	dropFailed(second)
	w.collect(t, second)
	w.settle()
	for name, err := range handled {
		assert.Equal(t, 0, w.count(err), "the error handled by %s was reported", name)
	}
}

func TestOnUnhandledErrorRestoreGivesBackThePreviousHook(t *testing.T) {
	w := watchUnhandled(t)
	var other []error
	var mu sync.Mutex
	restore := deferred.OnUnhandledError(func(err error) { mu.Lock(); other = append(other, err); mu.Unlock() })
	restore()
	err := errors.New("after restore")
	dropFailed(err)
	w.collect(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.NotContains(t, other, err, "the restored hook is the watch's")
}
