package remote_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestRoundTrip: a registered function called on a remote pool runs in a
// worker, and its result fires the Deferred on the pool's loop.
func TestRoundTrip(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)

	ds := make([]*deferred.Deferred[int], 100)
	for i := range ds {
		ds[i] = square.Call(p, i)
	}
	got := must(t, deferred.All(ds...))
	for i, v := range got {
		assert.Equal(t, i*i, v)
	}
	st := p.Stats()
	assert.Equal(t, int64(100), st.Results)
	assert.Equal(t, int64(0), st.Duplicates)
}

// TestErrorsCross: the function's error and its panic reach the caller as
// the local pool gives them.
func TestErrorsCross(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)

	_, err := wait(t, fail.Call(p, "seven"))
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "rt.fail", re.Func)
	assert.Equal(t, "no good: seven", re.Text)

	_, err = wait(t, explode.Call(p, "now"))
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "boom now", pe.Value)
	assert.Contains(t, string(pe.Stack), "funcs_test.go", "the stack shows where it panicked")
}
