package deferred

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Outcome is what one input of [List] came to: Twisted's (success, result)
// pair. Err is nil when the input succeeded with Value; otherwise Value is
// the zero value.
type Outcome[T any] struct {
	Value T
	Err   error
}

// OK reports whether the input succeeded: Twisted's SUCCESS flag.
func (o Outcome[T]) OK() bool { return o.Err == nil }

// Winner is the first input to succeed, for [First] and [Race]: its position
// in the inputs and its result. It is Twisted's (result, index) pair of a
// DeferredList with fireOnOneCallback, and the (index, result) pair of race.
type Winner[T any] struct {
	Index int
	Value T
}

// FirstError is the error of a combinator that fails as soon as one of its
// inputs fails ([All], and [List] or [First] with [FireOnOneErrback]): Index
// is the failed input's position, Err its error. It is Twisted's FirstError;
// errors.Is and errors.As see Err through it.
type FirstError struct {
	Index int
	Err   error
}

// Error names the failed input and its error.
func (e *FirstError) Error() string {
	return fmt.Sprintf("deferred: Deferred %d failed: %v", e.Index, e.Err)
}

// Unwrap returns the failed input's error.
func (e *FirstError) Unwrap() error { return e.Err }

// ListOption changes how [List] and [First] wait on their inputs; it stands
// for one of Twisted's DeferredList flags. Make them with [FireOnOneErrback]
// and [ConsumeErrors]; options combine, and the zero ListOption changes
// nothing. Twisted's fireOnOneCallback flag is the function [First], since it
// changes the result's type.
type ListOption struct{ flags listFlags }

type listFlags uint8

const (
	fireOnOneErrback listFlags = 1 << iota
	consumeErrors
	// raceInputs is Race's way: the winner's result and every error are
	// taken from the inputs' chains, and the losers are cancelled.
	raceInputs
)

// FireOnOneErrback makes [List] or [First] fail as soon as one input fails,
// with a [*FirstError] that names it, without waiting for the others (which
// are not cancelled). It is Twisted's fireOnOneErrback flag.
func FireOnOneErrback() ListOption { return ListOption{flags: fireOnOneErrback} }

// ConsumeErrors makes [List] or [First] take the errors of the inputs that
// fail: after the combinator has seen an input's error, that input's chain
// goes on with the zero value and no error, so the error is neither passed
// to errbacks added later nor reported as unhandled. Without it, each error
// stays in its input's chain, and is reported when that Deferred is
// collected unless something else handles it. It is Twisted's consumeErrors
// flag.
func ConsumeErrors() ListOption { return ListOption{flags: consumeErrors} }

func flagsOf(opts []ListOption) listFlags {
	var f listFlags
	for _, o := range opts {
		f |= o.flags
	}
	return f
}

// List waits for every input and fires with one [Outcome] per input, in
// input order: Twisted's DeferredList. By default the returned Deferred never
// fails: an input's error is an Outcome's Err. With no inputs it fires at
// once with an empty slice.
//
// List adds one step to each input's chain, in input order, and the inputs
// may fire on any goroutines, in any order: the returned Deferred fires on
// the goroutine that delivers the last outcome (on the calling goroutine if
// all inputs have already fired), from inside that input's chain, so its
// callbacks run before the input's later ones, as in Twisted. A successful
// input's result passes on down its chain unchanged; what happens to an
// error depends on [ConsumeErrors]. [FireOnOneErrback] makes List fail fast
// with a [*FirstError]; for Twisted's fireOnOneCallback use [First].
//
// Cancelling the returned Deferred before it fires cancels every input; it
// then fires with what they come to (cancelled inputs give [ErrCancelled]),
// or fails with ErrCancelled if they do not all settle it at once (an input
// that is paused, say). Once it has fired, cancelling it does nothing.
//
// List panics if an input is nil. It keeps its own copy of ds: changing the
// caller's slice afterwards changes nothing.
func List[T any](ds []*Deferred[T], opts ...ListOption) *Deferred[[]Outcome[T]] {
	inputs := copyInputs("List", ds)
	s := &listState[T]{outcomes: make([]Outcome[T], len(inputs)), flags: flagsOf(opts)}
	s.out = NewWithCanceller(func(*Deferred[[]Outcome[T]]) { cancelAll(inputs) })
	s.pending.Store(int64(len(inputs)))
	var settled int64
	for i, d := range inputs {
		// An input that has already succeeded needs no step in its chain:
		// the result is read as a pass-through step would see it.
		if v, err := d.Result(); err == nil {
			s.outcomes[i].Value = v
			settled++
			continue
		}
		d.AddBoth(func(v T, err error) (T, error) { return s.record(i, v, err) })
	}
	s.settled(settled)
	if len(inputs) == 0 {
		s.out.settle(s.outcomes, nil)
	}
	return s.out
}

type listState[T any] struct {
	out      *Deferred[[]Outcome[T]]
	outcomes []Outcome[T]
	pending  atomic.Int64 // inputs not yet recorded
	done     atomic.Bool  // out has been given its result
	flags    listFlags
}

func (s *listState[T]) record(i int, v T, err error) (T, error) {
	s.outcomes[i] = Outcome[T]{Value: v, Err: err}
	// Claim out before counting this input, so that the last input to
	// arrive cannot fire out with a success that hides this failure.
	if err != nil && s.flags&fireOnOneErrback != 0 && s.done.CompareAndSwap(false, true) {
		s.out.settle(nil, &FirstError{Index: i, Err: err})
	}
	s.settled(1)
	if err != nil && s.flags&consumeErrors != 0 {
		var zero T
		return zero, nil
	}
	return v, err
}

// settled counts n more inputs as recorded, and fires out after the last.
func (s *listState[T]) settled(n int64) {
	if n > 0 && s.pending.Add(-n) == 0 && s.done.CompareAndSwap(false, true) {
		s.out.settle(s.outcomes, nil)
	}
}

// First fires with the first input to succeed, its index and value, without
// waiting for the others: Twisted's DeferredList with fireOnOneCallback. The
// others are left alone (see [Race] to cancel them) and their results pass
// on down their chains. If every input fails, First fails with a
// [*FailureGroup] holding their errors in input order (Twisted fires with the
// list of failures instead; a typed result cannot). With [FireOnOneErrback]
// it fails with a [*FirstError] as soon as one input fails, if none has
// succeeded before; [ConsumeErrors] takes the inputs' errors as it does for
// [List]. With no inputs it fails at once with an empty FailureGroup, where
// Twisted's would never fire.
//
// Like [List], First adds one step to each input's chain, in input order,
// takes inputs firing on any goroutines, and fires on the goroutine that
// delivers the deciding result, from inside that input's chain. Cancelling
// the returned Deferred before it fires cancels every input. First panics if
// an input is nil.
func First[T any](ds []*Deferred[T], opts ...ListOption) *Deferred[Winner[T]] {
	return firstOf("First", ds, flagsOf(opts)&^raceInputs)
}

// firstOf is the engine of First and Race.
func firstOf[T any](op string, ds []*Deferred[T], flags listFlags) *Deferred[Winner[T]] {
	inputs := copyInputs(op, ds)
	s := &firstState[T]{inputs: inputs, errs: make([]error, len(inputs)), flags: flags}
	s.out = NewWithCanceller(func(*Deferred[Winner[T]]) { cancelAll(inputs) })
	if len(inputs) == 0 {
		s.out.settle(Winner[T]{}, &FailureGroup{Errs: s.errs})
		return s.out
	}
	s.failing.Store(int64(len(inputs)))
	for i, d := range inputs {
		d.AddBoth(func(v T, err error) (T, error) { return s.record(i, v, err) })
	}
	return s.out
}

type firstState[T any] struct {
	out     *Deferred[Winner[T]]
	inputs  []*Deferred[T]
	errs    []error
	failing atomic.Int64 // inputs that have not failed
	done    atomic.Bool  // out has been given its result
	flags   listFlags
}

func (s *firstState[T]) record(i int, v T, err error) (T, error) {
	var zero T
	if err == nil {
		if s.done.CompareAndSwap(false, true) {
			if s.flags&raceInputs != 0 {
				winner := s.inputs[i]
				for _, d := range s.inputs {
					if d != winner {
						d.Cancel()
					}
				}
			}
			s.out.settle(Winner[T]{Index: i, Value: v}, nil)
		}
		if s.flags&raceInputs != 0 {
			return zero, nil
		}
		return v, nil
	}
	s.errs[i] = err
	if s.flags&fireOnOneErrback != 0 && s.done.CompareAndSwap(false, true) {
		s.out.settle(Winner[T]{}, &FirstError{Index: i, Err: err})
	}
	if s.failing.Add(-1) == 0 && s.done.CompareAndSwap(false, true) {
		s.out.settle(Winner[T]{}, &FailureGroup{Errs: s.errs})
	}
	if s.flags&(consumeErrors|raceInputs) != 0 {
		return zero, nil
	}
	return zero, err
}

// copyInputs checks the inputs of the combinator op and returns a copy that
// the caller cannot change.
func copyInputs[T any](op string, ds []*Deferred[T]) []*Deferred[T] {
	if slices.Contains(ds, nil) {
		panicMisuse(op, errNilDeferred)
	}
	return slices.Clone(ds)
}

// cancelAll cancels every input, as a DeferredList's cancel does, even when
// an earlier cancellation has already settled the combinator.
func cancelAll[T any](inputs []*Deferred[T]) {
	for _, d := range inputs {
		d.Cancel()
	}
}
