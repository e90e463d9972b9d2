package deferred_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
)

// Two Cancel calls that overlap must call the canceller once, as in Twisted,
// where the first cancel always leaves the Deferred fired: a second one
// finds it called and does nothing. Here the second Cancel comes while the
// first is still inside the canceller.
func TestCancelCallsCancellerOnceWhenCancelsOverlap(t *testing.T) {
	errMine := errors.New("cancelled my way")
	var calls atomic.Int32
	entered, resume := make(chan struct{}), make(chan struct{})
	d := deferred.NewWithCanceller(func(d *deferred.Deferred[int]) {
		if calls.Add(1) == 1 {
			close(entered)
			<-resume
			d.Errback(errMine)
		}
	})
	var wg sync.WaitGroup
	wg.Go(d.Cancel)
	<-entered
	d.Cancel() // overlaps the first: it must not call the canceller again
	close(resume)
	wg.Wait()

	assert.Equal(t, int32(1), calls.Load(), "the canceller ran more than once")
	_, err := d.Result()
	require.Error(t, err)
	assert.ErrorIs(t, err, errMine, "the canceller's own error is the result")
}
