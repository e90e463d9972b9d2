package process_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

func TestStreamDeliversInOrderOnTheLoop(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(1))

	// Far more values than the window of credits: the worker must wait for
	// the loop to take them.
	const n = 1000
	var got []int
	offLoop := 0
	d := count.Stream(p, n, func(v int) {
		if _, err := reactor.BlockingCall(context.Background(), r, func() (int, error) { return 0, nil }); err != reactor.ErrOnReactor {
			offLoop++
		}
		got = append(got, v)
	})
	d.AddCallback(func(struct{}) (struct{}, error) {
		assert.Len(t, got, n, "the Deferred fires after the last value")
		return struct{}{}, nil
	})
	must(t, d)
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, i, v)
	}
	assert.Zero(t, offLoop, "values delivered off the loop")
}

func TestStreamErrorComesAfterItsValues(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	var got []int
	_, err := wait(t, countThenFail.Stream(p, 3, func(v int) { got = append(got, v) }))
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "no more numbers", re.Text)
	assert.Equal(t, []int{0, 1, 2}, got)
}

func TestStreamCancelledFromItsCallback(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1))
	var got []int
	self := make(chan *deferred.Deferred[struct{}], 1) // the callback may run before Stream returns
	d := countForever.Stream(p, struct{}{}, func(v int) {
		got = append(got, v)
		if v == 4 {
			(<-self).Cancel()
		}
	})
	self <- d
	_, err := wait(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, []int{0, 1, 2, 3, 4}, got, "no value after the cancellation")
	logs.waitFor(t, "countForever stopped")
	assert.Equal(t, 4, must(t, square.Call(p, 2)), "the worker serves on")
}

func TestStreamPanicInCallback(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1))
	var got []int
	_, err := wait(t, countForever.Stream(p, struct{}{}, func(v int) {
		got = append(got, v)
		if v == 2 {
			panic("enough")
		}
	}))
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "enough", pe.Value)
	assert.Equal(t, []int{0, 1, 2}, got)
	logs.waitFor(t, "countForever stopped")
}

func TestStreamOfNothing(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	called := false
	must(t, count.Stream(p, 0, func(int) { called = true }))
	assert.False(t, called)
}
