package cooperate

import (
	"fmt"
	"slices"
	"strings"
)

// ElementError is the error of one element of [Parallel] or [Map] that
// failed: Index is its position in the iterator (counting from 0), Err its
// error: what its Deferred failed with, an error returned by the function
// given each result, a *deferred.PanicError for a panic, or
// [ErrNilDeferred]. It is what Twisted's FirstError is to gatherResults;
// errors.Is and errors.As see Err through it.
type ElementError struct {
	Index int
	Err   error
}

// Error names the element and its error.
func (e *ElementError) Error() string {
	return fmt.Sprintf("cooperate: element %d: %v", e.Index, e.Err)
}

// Unwrap returns the element's error.
func (e *ElementError) Unwrap() error { return e.Err }

// ElementErrors is the error of [Parallel] or [Map] under [CollectErrors]
// when elements failed: Errs holds one [*ElementError] per failed element,
// by index. errors.Is and errors.As look into each of them.
type ElementErrors struct {
	Errs []*ElementError
}

// newElementErrors sorts errs by index.
func newElementErrors(errs []*ElementError) *ElementErrors {
	slices.SortFunc(errs, func(a, b *ElementError) int { return a.Index - b.Index })
	return &ElementErrors{Errs: errs}
}

// maxListed is how many elements' errors Error spells out.
const maxListed = 10

// Error counts the failed elements and lists the first of them.
func (e *ElementErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cooperate: %d element(s) failed: ", len(e.Errs))
	for i, ee := range e.Errs {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Errs)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d: %v", ee.Index, ee.Err)
	}
	return b.String()
}

// Unwrap returns the elements' errors, for errors.Is and errors.As.
func (e *ElementErrors) Unwrap() []error {
	errs := make([]error, len(e.Errs))
	for i, ee := range e.Errs {
		errs[i] = ee
	}
	return errs
}
