package deferred

import (
	"fmt"
	"strings"
)

// Race fires with the first input to succeed, its index and value, and
// cancels all the other inputs: Twisted's race. If every input fails, Race
// fails with a [*FailureGroup] holding their errors in input order. With no
// inputs it fails at once with an empty FailureGroup, where Twisted's would
// never fire.
//
// Race takes its inputs' results, as Twisted's does: after Race has seen an
// input's result or error, that input's chain goes on with the zero value and
// no error, so neither the winner's value nor a loser's error (the
// [ErrCancelled] of a cancelled one, say) passes to callbacks added later or
// is reported as unhandled.
//
// Race adds one step to each input's chain, in input order. The inputs may
// fire on any goroutines, in any order: the winner is the one whose result
// reaches Race first. The losers are cancelled, and the returned Deferred
// fired, on the goroutine that delivers the winner, from inside its chain
// (on the calling goroutine if an input has already succeeded). An input
// whose result comes after the race is decided, or that succeeds despite its
// cancellation, is ignored.
//
// Cancelling the returned Deferred before it fires cancels every input: it
// then fails with a FailureGroup of their errors (each wrapping
// ErrCancelled, unless a canceller chose another), or fires with the first
// one whose canceller gave it a result. Once it has fired, cancelling it does
// nothing.
//
// Race panics if an input is nil. It keeps its own copy of ds: changing the
// caller's slice afterwards changes nothing.
func Race[T any](ds ...*Deferred[T]) *Deferred[Winner[T]] {
	return firstOf("Race", ds, raceInputs)
}

// FailureGroup is the error of [Race] and [First] when every input failed:
// Errs[i] is the error of input i. It is Twisted's FailureGroup; errors.Is and
// errors.As look into each error in Errs.
type FailureGroup struct {
	Errs []error
}

// Error lists the inputs' errors in input order.
func (e *FailureGroup) Error() string {
	if len(e.Errs) == 0 {
		return "deferred: no Deferreds to wait on"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "deferred: all %d Deferreds failed: ", len(e.Errs))
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d: %v", i, err)
	}
	return b.String()
}

// Unwrap returns the inputs' errors, for errors.Is and errors.As.
func (e *FailureGroup) Unwrap() []error { return e.Errs }
