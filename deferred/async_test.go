package deferred_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
)

// Tests for Async and Await, after Twisted's test_defgen.py (inlineCallbacks)
// and test_inlinecb.py (stacked inlineCallbacks, cancellation).

// recovered runs f and returns what it panicked with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func TestAsyncWithoutAwaitHasFiredWhenAsyncReturns(t *testing.T) {
	d := deferred.Async(func(*deferred.Awaiter) (int, error) { return 14, nil })
	assert.Equal(t, 14, successOf(t, d))

	failed := deferred.Async(func(*deferred.Awaiter) (int, error) { return 0, errA })
	assert.ErrorIs(t, failureOf(t, failed), errA)

	// Twisted's testNothing: a body that returns nothing gives the zero value.
	nothing := deferred.Async(func(*deferred.Awaiter) (any, error) { return nil, nil })
	assert.Nil(t, successOf(t, nothing))
}

// Twisted's testBasics: a Deferred that fires later with a value, one that
// fails later and whose error the body handles, and a final value.
func TestAsyncBasics(t *testing.T) {
	clock := scheduler.NewManualClock()
	getThing := func() *deferred.Deferred[string] {
		d := deferred.New[string]()
		clock.CallLater(0, func() { d.Callback("hi") })
		return d
	}
	errOwie := errors.New("OMG")
	getOwie := func() *deferred.Deferred[string] {
		d := deferred.New[string]()
		clock.CallLater(0, func() { d.Errback(errOwie) })
		return d
	}
	var seen []string
	d := deferred.Async(func(a *deferred.Awaiter) (string, error) {
		x, err := deferred.Await(a, getThing())
		if err != nil {
			return "", err
		}
		seen = append(seen, x)
		if _, err := deferred.Await(a, getOwie()); err != nil {
			seen = append(seen, err.Error())
		}
		return "WOOSH", nil
	})
	requireNoResult(t, d)
	clock.Advance(0) // runs getThing's call, then getOwie's, which is due too
	assert.Equal(t, "WOOSH", successOf(t, d))
	assert.Equal(t, []string{"hi", "OMG"}, seen)
}

// Twisted's testBuggy: a body that fails after a wait fails its Deferred.
func TestAsyncBuggyBodyFailsItsDeferred(t *testing.T) {
	thing := deferred.New[int]()
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		n, err := deferred.Await(a, thing)
		if err != nil {
			return 0, err
		}
		return 1 / n, nil
	})
	requireNoResult(t, d)
	assert.NotPanics(t, func() { thing.Callback(0) }, "the body's panic must not reach the firer")
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, d), &pe)
	var rerr runtime.Error
	require.ErrorAs(t, pe, &rerr)
	assert.Contains(t, rerr.Error(), "divide by zero")
	assert.Contains(t, string(pe.Stack), "TestAsyncBuggyBodyFailsItsDeferred", "the stack is the body's")
}

func TestAsyncPanicBeforeAnyWait(t *testing.T) {
	d := deferred.Async(func(*deferred.Awaiter) (int, error) { panic("early") })
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, d), &pe)
	assert.Equal(t, "early", pe.Value)
}

// Twisted's testHandledTerminalFailure and testHandledTerminalAsyncFailure:
// an error the body handles does not fail its Deferred, and counts as handled
// in the awaited Deferred, whose chain goes on with no error.
func TestAsyncHandledFailure(t *testing.T) {
	errTerminal := errors.New("Handled Terminal Failure")
	for _, fireLater := range []bool{false, true} {
		t.Run(fmt.Sprintf("fireLater=%v", fireLater), func(t *testing.T) {
			var awaited *deferred.Deferred[int]
			if fireLater {
				awaited = deferred.New[int]()
			} else {
				awaited = deferred.Fail[int](errTerminal)
			}
			var got error
			d := deferred.Async(func(a *deferred.Awaiter) (any, error) {
				_, got = deferred.Await(a, awaited)
				return nil, nil
			})
			if fireLater {
				requireNoResult(t, d)
				awaited.Errback(errTerminal)
			}
			assert.Nil(t, successOf(t, d))
			assert.ErrorIs(t, got, errTerminal)
			v, err := awaited.Result()
			assert.NoError(t, err, "awaiting consumes the error")
			assert.Zero(t, v)
		})
	}
}

func TestAwaitConsumesTheResult(t *testing.T) {
	fired := deferred.Succeed(5)
	later := deferred.New[int]()
	var got []int
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		for _, x := range []*deferred.Deferred[int]{fired, later, fired} {
			v, err := deferred.Await(a, x)
			if err != nil {
				return 0, err
			}
			got = append(got, v)
		}
		return 0, nil
	})
	later.Callback(7)
	successOf(t, d)
	assert.Equal(t, []int{5, 7, 0}, got, "a second Await of a consumed Deferred gets the zero value")
	var after []int
	later.AddCallback(func(n int) (int, error) { after = append(after, n); return n, nil })
	assert.Equal(t, []int{0}, after, "the awaited chain goes on with the zero value")
}

// Await of a Deferred that has fired takes its result at once: the body does
// not park, so Async returns with its Deferred fired.
func TestAwaitOfAFiredDeferredDoesNotPark(t *testing.T) {
	d := deferred.Async(tenAwaits(deferred.Succeed[int]))
	assert.Equal(t, 45, successOf(t, d))
}

// Twisted's testStackUsage: many waits, on fired Deferreds and on Deferreds
// fired one by one, do not grow any stack.
func TestAsyncManyWaits(t *testing.T) {
	const n = 5000
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		for range n {
			if _, err := deferred.Await(a, deferred.Succeed(1)); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	assert.Equal(t, 0, successOf(t, d))

	var next *deferred.Deferred[int]
	count := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		total := 0
		for range n {
			next = deferred.New[int]()
			v, err := deferred.Await(a, next)
			if err != nil {
				return 0, err
			}
			total += v
		}
		return total, nil
	})
	for range n {
		next.Callback(1)
	}
	assert.Equal(t, n, successOf(t, count))
}

// The body runs at once up to its first wait on a Deferred with no result;
// it resumes inside the Callback that fires it, which returns only when the
// body waits again or returns.
func TestAsyncRunsSynchronouslyUntilItWaits(t *testing.T) {
	var log recorder
	first := deferred.Succeed(1)
	second := deferred.New[int]()
	third := deferred.New[int]()
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		log.add("start")
		v1, _ := deferred.Await(a, first)
		log.add(fmt.Sprint("got first ", v1))
		v2, _ := deferred.Await(a, second)
		log.add(fmt.Sprint("got second ", v2))
		v3, _ := deferred.Await(a, third)
		log.add(fmt.Sprint("got third ", v3))
		return v1 + v2 + v3, nil
	})
	log.add("Async returned")
	requireNoResult(t, d)
	second.Callback(10)
	log.add("second fired")
	d.AddCallback(func(n int) (int, error) { log.add(fmt.Sprint("result ", n)); return n, nil })
	third.Callback(100)
	log.add("third fired")
	assert.Equal(t, []string{
		"start", "got first 1", "Async returned",
		"got second 10", "second fired",
		"got third 100", "result 111", "third fired",
	}, log.calls)
}

// A Callback on another goroutine resumes the body and returns only once
// the body waits again: what the body wrote is visible to the firer after
// its Callback, and to the next firer, without other synchronization (the
// race detector checks it).
func TestAsyncResumesWhileItsFirerWaits(t *testing.T) {
	state := 0 // touched by the body and the firers, never at once
	ds := []*deferred.Deferred[int]{deferred.New[int](), deferred.New[int](), deferred.New[int]()}
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		for _, x := range ds {
			v, err := deferred.Await(a, x)
			if err != nil {
				return 0, err
			}
			state += v
		}
		return state, nil
	})
	for i, x := range ds {
		done := make(chan int)
		go func() {
			x.Callback(i + 1)
			done <- state
		}()
		seen := <-done
		assert.Equal(t, (i+1)*(i+2)/2, seen)
	}
	assert.Equal(t, 6, successOf(t, d))
}

// Many goroutines fire the awaited Deferreds at once: the body still sees
// them in its own order, and its Deferred gets the sum.
func TestAsyncManyFirersAtOnce(t *testing.T) {
	const n = 64
	ds := make([]*deferred.Deferred[int], n)
	for i := range ds {
		ds[i] = deferred.New[int]()
	}
	var order []int
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		total := 0
		for _, x := range ds {
			v, err := deferred.Await(a, x)
			if err != nil {
				return 0, err
			}
			order = append(order, v)
			total += v
		}
		return total, nil
	})
	var wg sync.WaitGroup
	for i, x := range ds {
		wg.Go(func() { x.Callback(i) })
	}
	wg.Wait()
	assert.Equal(t, n*(n-1)/2, successOf(t, d))
	for i, v := range order {
		assert.Equal(t, i, v)
	}
}

// Twisted's StopIterationReturnTests.test_returnWithValue.
func TestAsyncReturnsAValueAfterAWait(t *testing.T) {
	d1 := deferred.New[any]()
	d2 := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		if _, err := deferred.Await(a, d1); err != nil {
			return 0, err
		}
		return 14, nil
	})
	d1.Callback(nil)
	assert.Equal(t, 14, successOf(t, d2))
}

// stacked gives the functions of Twisted's StackedInlineCallbacksTests: f1
// waits on a Deferred it leaves in pending, f2 awaits f1, f3 awaits f2.
type stacked struct {
	log     []string
	pending []*deferred.Deferred[int]
	values  []int
}

func (s *stacked) f1(x int) *deferred.Deferred[int] {
	return deferred.Async(func(a *deferred.Awaiter) (int, error) {
		s.log = append(s.log, fmt.Sprint("f1 enter ", x))
		d := deferred.New[int]()
		s.pending, s.values = append(s.pending, d), append(s.values, x)
		x, err := deferred.Await(a, d)
		if err != nil {
			return 0, err
		}
		x++
		s.log = append(s.log, fmt.Sprint("f1 exit ", x))
		return x, nil
	})
}

func (s *stacked) f2(x int, calls int) *deferred.Deferred[int] {
	return deferred.Async(func(a *deferred.Awaiter) (int, error) {
		s.log = append(s.log, fmt.Sprint("f2 enter ", x))
		for range calls {
			var err error
			if x, err = deferred.Await(a, s.f1(x)); err != nil {
				return 0, err
			}
		}
		x += 2
		s.log = append(s.log, fmt.Sprint("f2 exit ", x))
		return x, nil
	})
}

func (s *stacked) f3(x int, calls int) *deferred.Deferred[int] {
	return deferred.Async(func(a *deferred.Awaiter) (int, error) {
		s.log = append(s.log, fmt.Sprint("f3 enter ", x))
		for range calls {
			var err error
			if x, err = deferred.Await(a, s.f2(x, calls)); err != nil {
				return 0, err
			}
		}
		x += 4
		s.log = append(s.log, fmt.Sprint("f3 exit ", x))
		return x, nil
	})
}

// fireAll fires the pending Deferreds in order, including those that firing
// adds.
func (s *stacked) fireAll() {
	for i := 0; i < len(s.pending); i++ {
		s.pending[i].Callback(s.values[i])
	}
}

func TestAsyncStackedSingleWait(t *testing.T) {
	s := &stacked{}
	res := s.f3(1, 1)
	s.fireAll()
	assert.Equal(t, 8, successOf(t, res))
	assert.Equal(t, []string{
		"f3 enter 1", "f2 enter 1", "f1 enter 1",
		"f1 exit 2", "f2 exit 4", "f3 exit 8",
	}, s.log)
}

func TestAsyncStackedMultipleWaits(t *testing.T) {
	s := &stacked{}
	res := s.f3(1, 3)
	s.fireAll()
	assert.Equal(t, 20, successOf(t, res))
	assert.Equal(t, []string{
		"f3 enter 1",
		"f2 enter 1", "f1 enter 1", "f1 exit 2", "f1 enter 2", "f1 exit 3", "f1 enter 3", "f1 exit 4", "f2 exit 6",
		"f2 enter 6", "f1 enter 6", "f1 exit 7", "f1 enter 7", "f1 exit 8", "f1 enter 8", "f1 exit 9", "f2 exit 11",
		"f2 enter 11", "f1 enter 11", "f1 exit 12", "f1 enter 12", "f1 exit 13", "f1 enter 13", "f1 exit 14", "f2 exit 16",
		"f3 exit 20",
	}, s.log)
}

// Twisted's test_intermediateAddCallbacks*: a callback added to an Async's
// Deferred runs before the Async that awaits it sees the result.
func TestAsyncStackedWithAnIntermediateCallback(t *testing.T) {
	for _, waits := range []bool{false, true} {
		t.Run(fmt.Sprintf("f1 waits=%v", waits), func(t *testing.T) {
			s := &stacked{}
			f1 := func(x int) *deferred.Deferred[int] {
				if waits {
					return s.f1(x)
				}
				return deferred.Async(func(a *deferred.Awaiter) (int, error) {
					s.log = append(s.log, fmt.Sprint("f1 enter ", x))
					x, _ := deferred.Await(a, deferred.Succeed(x))
					x++
					s.log = append(s.log, fmt.Sprint("f1 exit ", x))
					return x, nil
				})
			}
			f2 := func(x int) (int, error) {
				s.log = append(s.log, fmt.Sprint("f2 enter ", x))
				x += 2
				s.log = append(s.log, fmt.Sprint("f2 exit ", x))
				return x, nil
			}
			res := deferred.Async(func(a *deferred.Awaiter) (int, error) {
				x := 1
				s.log = append(s.log, fmt.Sprint("f3 enter ", x))
				x, err := deferred.Await(a, f1(x).AddCallback(f2))
				if err != nil {
					return 0, err
				}
				x += 4
				s.log = append(s.log, fmt.Sprint("f3 exit ", x))
				return x, nil
			})
			s.fireAll()
			assert.Equal(t, 8, successOf(t, res))
			assert.Equal(t, []string{
				"f3 enter 1", "f1 enter 1", "f1 exit 2", "f2 enter 2", "f2 exit 4", "f3 exit 8",
			}, s.log)
		})
	}
}

// Twisted's test_raisesExceptionFromDeferredWithWaiting*: an error from a
// stacked Async reaches the Async that awaits it, which handles it.
func TestAsyncStackedError(t *testing.T) {
	s := &stacked{}
	var failing *deferred.Deferred[int]
	f2 := func(x int) *deferred.Deferred[int] {
		return deferred.Async(func(a *deferred.Awaiter) (int, error) {
			s.log = append(s.log, fmt.Sprint("f2 enter ", x))
			failing = deferred.New[int]()
			x, err := deferred.Await(a, failing)
			if err != nil {
				return 0, err
			}
			s.log = append(s.log, fmt.Sprint("f2 exit ", x))
			return x, nil
		})
	}
	var caught error
	res := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		x := 1
		s.log = append(s.log, fmt.Sprint("f3 enter ", x))
		x, err := deferred.Await(a, s.f1(x))
		if err != nil {
			return 0, err
		}
		if _, caught = deferred.Await(a, f2(x)); caught == nil {
			return 0, errors.New("f2 should have failed")
		}
		x += 4
		s.log = append(s.log, fmt.Sprint("f3 exit ", x))
		return x, nil
	})
	s.fireAll()
	failing.Errback(errA)
	assert.Equal(t, 6, successOf(t, res))
	assert.ErrorIs(t, caught, errA)
	assert.Equal(t, []string{"f3 enter 1", "f1 enter 1", "f1 exit 2", "f2 enter 2", "f3 exit 6"}, s.log)
}

// A line of Asyncs, each awaiting the next, all finish when the last one's
// Deferred fires.
func TestAsyncLongLineOfAsyncs(t *testing.T) {
	const n = 1000
	end := deferred.New[int]()
	var link func(i int) *deferred.Deferred[int]
	link = func(i int) *deferred.Deferred[int] {
		return deferred.Async(func(a *deferred.Awaiter) (int, error) {
			next := end
			if i < n {
				next = link(i + 1)
			}
			v, err := deferred.Await(a, next)
			return v + 1, err
		})
	}
	d := link(1)
	requireNoResult(t, d)
	end.Callback(0)
	assert.Equal(t, n, successOf(t, d))
}

// For a T of any, a Deferred returned by the body is waited on.
func TestAsyncBodyReturningADeferred(t *testing.T) {
	inner := deferred.New[any]()
	d := deferred.Async(func(*deferred.Awaiter) (any, error) { return inner, nil })
	requireNoResult(t, d)
	inner.Callback("inner")
	assert.Equal(t, "inner", successOf(t, d))

	gate := deferred.New[any]()
	inner2 := deferred.New[any]()
	d2 := deferred.Async(func(a *deferred.Awaiter) (any, error) {
		if _, err := deferred.Await(a, gate); err != nil {
			return nil, err
		}
		return inner2, nil
	})
	gate.Callback(nil)
	requireNoResult(t, d2)
	inner2.Callback("inner2")
	assert.Equal(t, "inner2", successOf(t, d2))

	nilDeferred := deferred.Async(func(*deferred.Awaiter) (any, error) { return (*deferred.Deferred[any])(nil), nil })
	assert.ErrorContains(t, failureOf(t, nilDeferred), "deferred: Async: nil Deferred")

	gate3 := deferred.New[any]()
	nilAfterWait := deferred.Async(func(a *deferred.Awaiter) (any, error) {
		if _, err := deferred.Await(a, gate3); err != nil {
			return nil, err
		}
		return (*deferred.Deferred[any])(nil), nil
	})
	gate3.Callback(nil)
	assert.ErrorContains(t, failureOf(t, nilAfterWait), "deferred: Async: nil Deferred")
}

func TestAsyncBodyCallingGoexitFailsItsDeferred(t *testing.T) {
	d := deferred.Async(func(*deferred.Awaiter) (int, error) {
		runtime.Goexit()
		return 1, nil
	})
	assert.ErrorContains(t, failureOf(t, d), "Goexit")

	gate := deferred.New[int]()
	d2 := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		_, _ = deferred.Await(a, gate)
		runtime.Goexit()
		return 1, nil
	})
	gate.Callback(1)
	assert.ErrorContains(t, failureOf(t, d2), "Goexit")
}

// If the Async's Deferred is fired by other means first, the body's result
// is dropped, and an error it returns is reported as unhandled.
func TestAsyncResultAfterItsDeferredFiredElsewhere(t *testing.T) {
	errLate := errors.New("late body error")
	var mu sync.Mutex
	var reported []error
	restore := deferred.OnUnhandledError(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	})
	defer restore()

	gate := deferred.New[int]()
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		_, _ = deferred.Await(a, gate)
		return 0, errLate
	})
	d.Callback(3)
	gate.Callback(0)
	assert.Equal(t, 3, successOf(t, d))
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, reported, errLate)
}

// Cancellation, after Twisted's CancellationTests: G is the body, D the
// Async's Deferred, C the Deferred G awaits.

var (
	errUntranslated = errors.New("untranslated")
	errTranslated   = errors.New("translated")
)

// dontFail is an error that the sample body turns into a result.
type dontFail struct{ actual int }

func (e *dontFail) Error() string { return fmt.Sprintf("don't fail: %d", e.actual) }

// sampleBody is Twisted's sampleInlineCB: it awaits the child Deferred
// (through a stacked Async if stacked, after awaiting first if given),
// translates errUntranslated to errTranslated and a *dontFail to a value, and
// returns the result plus one.
func sampleBody(child func() *deferred.Deferred[any], stacked bool, first *deferred.Deferred[any]) func(*deferred.Awaiter) (int, error) {
	return func(a *deferred.Awaiter) (int, error) {
		var v any
		var err error
		if stacked {
			if first != nil {
				if _, err := deferred.Await(a, first); err != nil {
					return 0, err
				}
			}
			v, err = deferred.Await(a, deferred.Async(func(b *deferred.Awaiter) (any, error) {
				return deferred.Await(b, child())
			}))
		} else {
			v, err = deferred.Await(a, child())
		}
		x, _ := v.(int)
		var df *dontFail
		switch {
		case errors.Is(err, errUntranslated):
			return 0, errTranslated
		case errors.As(err, &df):
			x = df.actual - 2
		case err != nil:
			return 0, err
		}
		return x + 1, nil
	}
}

// cancelCase is one shape of Twisted's cancellation tests.
type cancelCase struct {
	name    string
	stacked bool
	second  bool // cancel while waiting on the second Deferred
}

var cancelCases = []cancelCase{
	{name: "plain"},
	{name: "stacked", stacked: true},
	{name: "stacked on second Deferred", stacked: true, second: true},
}

// start runs sampleBody for c and, for the second-Deferred shape, lets the
// body past its first wait.
func (c cancelCase) start(child func() *deferred.Deferred[any]) *deferred.Deferred[int] {
	var first *deferred.Deferred[any]
	if c.second {
		first = deferred.New[any]()
	}
	d := deferred.Async(sampleBody(child, c.stacked, first))
	if first != nil {
		first.Callback(1)
	}
	return d
}

func TestAsyncCancelCascadesToTheAwaitedDeferred(t *testing.T) {
	for _, c := range cancelCases {
		t.Run(c.name, func(t *testing.T) {
			var childErr error
			d := c.start(func() *deferred.Deferred[any] {
				child := deferred.New[any]()
				child.AddErrback(func(err error) (any, error) { childErr = err; return nil, err })
				return child
			})
			d.AddErrback(func(error) (int, error) { return 0, nil })
			d.Cancel()
			assert.ErrorIs(t, childErr, deferred.ErrCancelled, "no cascade cancelling occurs")
		})
	}
}

func TestAsyncCancelFailsWithTheAwaitedError(t *testing.T) {
	for _, c := range cancelCases {
		t.Run(c.name, func(t *testing.T) {
			d := c.start(deferred.New[any])
			d.Cancel()
			assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
		})
	}
}

func TestAsyncCancelErrorToErrorTranslation(t *testing.T) {
	for _, c := range cancelCases {
		t.Run(c.name, func(t *testing.T) {
			child := deferred.NewWithCanceller(func(d *deferred.Deferred[any]) { d.Errback(errUntranslated) })
			d := c.start(func() *deferred.Deferred[any] { return child })
			d.Cancel()
			assert.ErrorIs(t, failureOf(t, d), errTranslated)
		})
	}
}

func TestAsyncCancelErrorToSuccessTranslation(t *testing.T) {
	for _, c := range cancelCases {
		t.Run(c.name, func(t *testing.T) {
			child := deferred.NewWithCanceller(func(d *deferred.Deferred[any]) { d.Errback(&dontFail{actual: 4321}) })
			d := c.start(func() *deferred.Deferred[any] { return child })
			var results []int
			d.AddCallback(func(n int) (int, error) { results = append(results, n); return n, nil })
			d.Cancel()
			assert.Equal(t, []int{4320}, results)
		})
	}
}

// Twisted's test_asynchronousCancellation: when the awaited Deferred's chain
// turns the cancellation into a wait on another Deferred, D has no result
// until that one fires, and then has the body's.
func TestAsyncCancelWaitsForTheAwaitedChain(t *testing.T) {
	for _, c := range cancelCases {
		t.Run(c.name, func(t *testing.T) {
			more := deferred.New[any]()
			d := c.start(func() *deferred.Deferred[any] {
				child := deferred.New[any]()
				child.AddErrback(func(err error) (any, error) {
					if !errors.Is(err, deferred.ErrCancelled) {
						return nil, err
					}
					return more, nil
				})
				return child
			})
			d.Cancel()
			requireNoResult(t, d)
			more.Callback(6543)
			assert.Equal(t, 6544, successOf(t, d))
		})
	}
}

// Twisted's test_inlineCallbacksCancelCaptured: a body that handles the
// cancellation goes on, D keeps waiting, and a second Cancel cancels what the
// body waits on next.
func TestAsyncCancelHandledByTheBody(t *testing.T) {
	var cancelled1, cancelled2 []*deferred.Deferred[int]
	d1 := deferred.NewWithCanceller(func(d *deferred.Deferred[int]) { cancelled1 = append(cancelled1, d) })
	d2 := deferred.NewWithCanceller(func(d *deferred.Deferred[int]) { cancelled2 = append(cancelled2, d) })
	funcD := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		_, _ = deferred.Await(a, d1) // the error is dropped on purpose
		return deferred.Await(a, d2)
	})
	requireNoResult(t, d1)
	requireNoResult(t, d2)
	requireNoResult(t, funcD)
	assert.Empty(t, cancelled1)

	funcD.Cancel()
	assert.Equal(t, []*deferred.Deferred[int]{d1}, cancelled1)
	assert.Empty(t, cancelled2)
	requireNoResult(t, funcD)

	funcD.Cancel()
	assert.ErrorIs(t, failureOf(t, funcD), deferred.ErrCancelled)
	assert.Equal(t, []*deferred.Deferred[int]{d2}, cancelled2)
}

// A Cancel that cannot end the wait, because the awaited Deferred has fired
// but its chain is paused, leaves D waiting for the body, and is kept for
// the body's next wait.
func TestAsyncCancelOfAPausedAwaitedDeferred(t *testing.T) {
	awaited := deferred.Succeed(5)
	awaited.Pause()
	var cancelled int
	next := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
	var got int
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		var err error
		if got, err = deferred.Await(a, awaited); err != nil {
			return 0, err
		}
		return deferred.Await(a, next)
	})
	requireNoResult(t, d)
	d.Cancel()
	requireNoResult(t, d)
	assert.Zero(t, cancelled)
	awaited.Unpause()
	assert.Equal(t, 5, got)
	assert.Equal(t, 1, cancelled, "the kept cancellation reaches the next wait")
	assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
}

// A Cancel that comes while the body runs between waits is kept for the
// next wait on a Deferred with no result, which it cancels at once.
func TestAsyncCancelWhileTheBodyRuns(t *testing.T) {
	t.Run("from the body", func(t *testing.T) {
		gate := deferred.New[int]()
		var cancelled int
		next := deferred.NewWithCanceller(func(*deferred.Deferred[int]) { cancelled++ })
		var d *deferred.Deferred[int]
		var fired int
		d = deferred.Async(func(a *deferred.Awaiter) (int, error) {
			if _, err := deferred.Await(a, gate); err != nil {
				return 0, err
			}
			d.Cancel()
			// A fired Deferred is not cancelled: it just gives its result.
			fired, _ = deferred.Await(a, deferred.Succeed(9))
			return deferred.Await(a, next)
		})
		gate.Callback(0)
		assert.Equal(t, 9, fired)
		assert.Equal(t, 1, cancelled)
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
	})
	t.Run("from another goroutine", func(t *testing.T) {
		gate := deferred.New[int]()
		next := deferred.New[int]()
		running, cancelled := make(chan struct{}), make(chan struct{})
		d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
			if _, err := deferred.Await(a, gate); err != nil {
				return 0, err
			}
			close(running)
			<-cancelled
			_, err := deferred.Await(a, next)
			if errors.Is(err, deferred.ErrCancelled) {
				return -1, nil
			}
			return 0, err
		})
		done := make(chan struct{})
		go func() {
			defer close(done)
			<-running
			d.Cancel() // the body runs: this must not block
			close(cancelled)
		}()
		gate.Callback(0)
		<-done
		assert.Equal(t, -1, successOf(t, d), "the body handled the cancellation of its next wait")
	})
}

func TestAsyncCancelAfterTheBodyReturned(t *testing.T) {
	d := deferred.Async(func(*deferred.Awaiter) (int, error) { return 3, nil })
	d.Cancel()
	assert.Equal(t, 3, successOf(t, d))

	gate := deferred.New[int]()
	d2 := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, gate) })
	gate.Callback(4)
	d2.Cancel()
	assert.Equal(t, 4, successOf(t, d2))
}

// Cancel and the awaited Deferred's Callback race: the body gets one or the
// other, and its Deferred fires exactly once with what the body returned.
func TestAsyncCancelRacingTheAwaitedDeferred(t *testing.T) {
	for range 200 {
		gate := deferred.New[int]()
		d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
			v, err := deferred.Await(a, gate)
			if errors.Is(err, deferred.ErrCancelled) {
				return -1, nil
			}
			return v, err
		})
		var wg sync.WaitGroup
		wg.Go(func() { gate.Callback(1) })
		wg.Go(d.Cancel)
		wg.Wait()
		v := successOf(t, d)
		require.True(t, v == 1 || v == -1, "got %d", v)
	}
}

// A Cancel racing the awaited Deferred's Callback is never lost: if it
// cannot end the wait it reached (the Callback won), it cancels the next
// one, so that a body that goes on to wait on a Deferred that never fires
// still ends.
func TestAsyncCancelIsNeverLost(t *testing.T) {
	for round := range 300 {
		gate := deferred.New[int]()
		never := deferred.New[int]()
		d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
			if _, err := deferred.Await(a, gate); errors.Is(err, deferred.ErrCancelled) {
				return -1, nil
			}
			return deferred.Await(a, never)
		})
		var wg sync.WaitGroup
		wg.Go(func() { gate.Callback(1) })
		wg.Go(d.Cancel)
		wg.Wait()
		v, err := d.Result()
		require.NotErrorIs(t, err, deferred.ErrNotFired, "round %d: the Cancel was lost", round)
		if err == nil {
			require.Equal(t, -1, v, "round %d", round)
		} else {
			require.ErrorIs(t, err, deferred.ErrCancelled, "round %d", round)
		}
	}
}

// The two ways a Callback on another goroutine can win the race with a
// Cancel at the awaited Deferred, made deterministic: the Cancel cannot end
// that wait, so it cancels the next one.
func TestAsyncCancelLosingToACallbackPassesOn(t *testing.T) {
	run := func(t *testing.T, gate *deferred.Deferred[int], cancelAndFire func(d *deferred.Deferred[int])) {
		never := deferred.New[int]()
		var got int
		d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
			var err error
			if got, err = deferred.Await(a, gate); err != nil {
				return 0, err
			}
			return deferred.Await(a, never)
		})
		cancelAndFire(d)
		assert.Equal(t, 1, got, "the body got the Callback's value")
		assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled, "the Cancel reached the next wait")
	}
	t.Run("fired while the Cancel runs", func(t *testing.T) {
		inCancel, fired := make(chan struct{}), make(chan struct{})
		gate := deferred.NewWithCanceller(func(*deferred.Deferred[int]) {
			close(inCancel)
			<-fired // the Callback on the other goroutine wins
		})
		run(t, gate, func(d *deferred.Deferred[int]) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				<-inCancel
				gate.Callback(1)
				close(fired)
			}()
			d.Cancel()
			<-done
		})
	})
	t.Run("fired before the Cancel, its chain still running", func(t *testing.T) {
		gate := deferred.New[int]()
		inChain, release := make(chan struct{}), make(chan struct{})
		gate.AddCallback(func(n int) (int, error) {
			close(inChain)
			<-release
			return n, nil
		})
		run(t, gate, func(d *deferred.Deferred[int]) {
			done := make(chan struct{})
			go func() {
				gate.Callback(1)
				close(done)
			}()
			<-inChain
			d.Cancel()
			close(release)
			<-done
		})
	})
}

func TestAsyncMisuse(t *testing.T) {
	misusePanic(t, "Async", func() { deferred.Async[int](nil) })
	misusePanic(t, "Await", func() { _, _ = deferred.Await(nil, deferred.Succeed(1)) })
	err := misusePanic(t, "Await", func() { _, _ = deferred.Await(&deferred.Awaiter{}, deferred.Succeed(1)) })
	assert.ErrorContains(t, err, "not made by Async")

	var nilPanic any
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
		nilPanic = recovered(func() { _, _ = deferred.Await[int](a, nil) })
		return 1, nil
	})
	assert.Equal(t, 1, successOf(t, d))
	require.NotNil(t, nilPanic)
	assert.Contains(t, fmt.Sprint(nilPanic), "deferred: Await: nil Deferred")

	// A misuse panic the body does not recover fails its Deferred.
	failed := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await[int](a, nil) })
	var pe *deferred.PanicError
	require.ErrorAs(t, failureOf(t, failed), &pe)
	assert.Contains(t, pe.Error(), "nil Deferred")
}

func TestAwaiterUsedAfterItsBodyReturned(t *testing.T) {
	var leaked *deferred.Awaiter
	deferred.Async(func(a *deferred.Awaiter) (int, error) { leaked = a; return 0, nil })
	err := misusePanic(t, "Await", func() { _, _ = deferred.Await(leaked, deferred.Succeed(1)) })
	assert.ErrorContains(t, err, "after its Async body returned")
}

func TestAwaiterUsedFromAnotherGoroutineWhileTheBodyWaits(t *testing.T) {
	var a *deferred.Awaiter
	gate := deferred.New[int]()
	d := deferred.Async(func(aw *deferred.Awaiter) (int, error) {
		a = aw
		return deferred.Await(aw, gate)
	})
	err := misusePanic(t, "Await", func() { _, _ = deferred.Await(a, deferred.Succeed(1)) })
	assert.ErrorContains(t, err, "outside its Async body's goroutine")
	gate.Callback(2)
	assert.Equal(t, 2, successOf(t, d))
}

// The body's goroutine ends with the body, however the body ends.
func TestAsyncLeavesNoGoroutine(t *testing.T) {
	cases := map[string]func() *deferred.Deferred[int]{
		"returns": func() *deferred.Deferred[int] {
			gate := deferred.New[int]()
			d := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, gate) })
			gate.Callback(1)
			return d
		},
		"fails": func() *deferred.Deferred[int] {
			gate := deferred.New[int]()
			d := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, gate) })
			gate.Errback(errA)
			return d
		},
		"panics": func() *deferred.Deferred[int] {
			gate := deferred.New[int]()
			d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
				_, _ = deferred.Await(a, gate)
				panic("boom")
			})
			gate.Callback(1)
			return d
		},
		"is cancelled": func() *deferred.Deferred[int] {
			d := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, deferred.New[int]()) })
			d.Cancel()
			return d
		},
		"is cancelled twice": func() *deferred.Deferred[int] {
			d := deferred.Async(func(a *deferred.Awaiter) (int, error) {
				_, _ = deferred.Await(a, deferred.New[int]())
				return deferred.Await(a, deferred.New[int]())
			})
			d.Cancel()
			d.Cancel()
			return d
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			d := run()
			_, _ = d.Result()
			assert.True(t, d.Called())
			goleak.VerifyNone(t, ignore)
		})
	}
}

// A body waiting on a Deferred that nothing fires holds its goroutine until
// the Async is cancelled.
func TestAsyncWaitingBodyHoldsItsGoroutineUntilCancelled(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	d := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, deferred.New[int]()) })
	err := goleak.Find(ignore)
	require.Error(t, err, "the waiting body's goroutine should be there")
	assert.Contains(t, err.Error(), "deferred.Await")
	d.Cancel()
	assert.ErrorIs(t, failureOf(t, d), deferred.ErrCancelled)
	goleak.VerifyNone(t, ignore)
}

// Async does not rely on coroutines, whose switches abort the process when a
// goroutine locked to its thread takes part: a body can be started and
// resumed by goroutines locked to their threads.
func TestAsyncWithGoroutinesLockedToTheirThreads(t *testing.T) {
	locked := func(f func()) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f()
		}()
		<-done
	}
	gate := deferred.New[int]()
	var d *deferred.Deferred[int]
	locked(func() {
		d = deferred.Async(func(a *deferred.Awaiter) (int, error) {
			v, err := deferred.Await(a, gate)
			return v * 2, err
		})
	})
	requireNoResult(t, d)
	gate.Callback(21)
	assert.Equal(t, 42, successOf(t, d))

	gate2 := deferred.New[int]()
	d2 := deferred.Async(func(a *deferred.Awaiter) (int, error) { return deferred.Await(a, gate2) })
	locked(func() { gate2.Callback(7) })
	assert.Equal(t, 7, successOf(t, d2))
}
