package remote_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/scheduler/process"
)

// mapCube, with its chunked form, fails on 37.
var mapCube = process.RegisterMap("rt.mapCube", func(_ context.Context, n int) (int, error) {
	if n == 37 {
		return 0, fmt.Errorf("37 is not welcome")
	}
	return n * n * n, nil
})

func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// TestMapOverThePool: process's maps run over the remote pool as over a
// local one: chunked with MapFunc.Map, one element per task with Func.Map,
// in order, and failing with the element's index and error.
func TestMapOverThePool(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	runWorker(t, url, queue)
	p, _ := newPool(t, r, url, queue)

	got := must(t, mapCube.Map(p, func(yield func(int) bool) {
		for i := range 3000 {
			if i != 37 && !yield(i) {
				return
			}
		}
	}, process.WithLoop(r), process.WithChunkSize(250)))
	require.Len(t, got, 2999)
	for i, v := range got {
		n := i
		if i >= 37 {
			n++
		}
		require.Equal(t, n*n*n, v, "element %d", i)
	}
	assert.Equal(t, int64(12), p.Stats().Calls, "a task per chunk")

	squares := must(t, square.Map(p, upTo(40), process.WithLoop(r)))
	require.Len(t, squares, 40)
	for i, v := range squares {
		require.Equal(t, i*i, v)
	}
	assert.Equal(t, int64(52), p.Stats().Calls, "a task per element")

	for _, d := range []func() error{
		func() error { _, err := wait(t, mapCube.Map(p, upTo(100), process.WithLoop(r))); return err },
		func() error { _, err := wait(t, mapCube.Func.Map(p, upTo(100), process.WithLoop(r))); return err },
	} {
		err := d()
		var ee *cooperate.ElementError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 37, ee.Index)
		var re *process.RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "37 is not welcome", re.Text)
	}
}
