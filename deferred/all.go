package deferred

import "sync/atomic"

// All fires with the results of every input, in input order, once they have
// all succeeded; it fails as soon as one input fails, with a [*FirstError]
// that names that input and wraps its error. It is Twisted's gatherResults
// with consumeErrors: the inputs' errors are taken by All, so that an input's
// chain goes on with the zero value and no error after All has seen its
// failure, and the error is not reported as unhandled. Only the returned
// Deferred carries it. A successful input's result passes on down its chain
// unchanged. With no inputs All fires at once with an empty slice.
//
// All adds one step to each unfired input's chain, in input order, and reads
// the result of the ones that have already succeeded. The inputs may fire on
// any goroutines, in any order: the returned Deferred fires on the goroutine
// that delivers the last result or the first error (on the calling goroutine
// if the inputs have already fired), from inside that input's chain. The
// inputs still pending when one fails are not cancelled; their errors are
// taken all the same when they come.
//
// Cancelling the returned Deferred before it fires cancels every input, as
// Twisted does: it then fails with the [*FirstError] of the first input that
// the cancellation failed (with [ErrCancelled] inside), or succeeds if the
// inputs' cancellers give them results, or fails with ErrCancelled if the
// inputs do not settle it at once (an input that is paused, say). Once it has
// fired, cancelling it does nothing.
//
// All panics if an input is nil. It keeps its own copy of ds: changing the
// caller's slice afterwards changes nothing.
func All[T any](ds ...*Deferred[T]) *Deferred[[]T] {
	inputs := copyInputs("All", ds)
	s := &allState[T]{results: make([]T, len(inputs))}
	s.out = NewWithCanceller(func(*Deferred[[]T]) { cancelAll(inputs) })
	s.pending.Store(int64(len(inputs)))
	var settled int64
	for i, d := range inputs {
		// An input that has already succeeded needs no step in its chain:
		// the result is read as a pass-through step would see it.
		if v, err := d.Result(); err == nil {
			s.results[i] = v
			settled++
			continue
		}
		d.AddBoth(func(v T, err error) (T, error) { return s.record(i, v, err) })
	}
	s.settled(settled)
	if len(inputs) == 0 {
		s.out.settle(s.results, nil)
	}
	return s.out
}

type allState[T any] struct {
	out     *Deferred[[]T]
	results []T
	pending atomic.Int64 // inputs that have not succeeded
	done    atomic.Bool  // out has been given its result
}

func (s *allState[T]) record(i int, v T, err error) (T, error) {
	if err != nil {
		if s.done.CompareAndSwap(false, true) {
			s.out.settle(nil, &FirstError{Index: i, Err: err})
		}
		var zero T
		return zero, nil
	}
	s.results[i] = v
	s.settled(1)
	return v, nil
}

// settled counts n more inputs as succeeded, and fires out after the last.
func (s *allState[T]) settled(n int64) {
	if n > 0 && s.pending.Add(-n) == 0 && s.done.CompareAndSwap(false, true) {
		s.out.settle(s.results, nil)
	}
}
