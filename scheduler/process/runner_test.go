package process_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// inlineRunner is a Runner that serves each call in this process, on a
// goroutine of its own, through the serving half of the registry (Lookup,
// DecodeArg, Run, EncodeResult), with the encoding the codec gives: what a
// runner that sends calls elsewhere does, without the elsewhere. It settles
// calls on loop.
type inlineRunner struct {
	loop  scheduler.Loop
	codec process.Codec
	wg    sync.WaitGroup

	mu        sync.Mutex
	cancelled []string // the names of the calls cancelled, in order
	ran       []*process.Call
}

func newInlineRunner(loop scheduler.Loop) *inlineRunner {
	return &inlineRunner{loop: loop, codec: process.Gob()}
}

func (r *inlineRunner) RunCall(c *process.Call) {
	arg, err := c.AppendArg(nil, r.codec.NewEncoder())
	c.OnCancel(func() {
		r.mu.Lock()
		r.cancelled = append(r.cancelled, c.Func())
		r.mu.Unlock()
	})
	r.mu.Lock()
	r.ran = append(r.ran, c)
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err == nil {
			err = r.serve(c, arg)
		}
		r.loop.CallSoon(func() { c.Settle(err) })
	}()
}

// serve runs the call whose argument is encoded in arg and keeps its result
// in c, as a remote worker and its caller would between them.
func (r *inlineRunner) serve(c *process.Call, arg []byte) error {
	f, ok := process.Lookup(c.Func())
	if !ok {
		return errors.New("no such function")
	}
	if f.Signature() != c.Signature() {
		return errors.New("signatures differ")
	}
	a, err := f.DecodeArg(arg, r.codec.NewDecoder())
	if err != nil {
		return err
	}
	v, err := f.Run(context.Background(), a)
	if err != nil {
		return err
	}
	res, err := f.EncodeResult(nil, r.codec.NewEncoder(), v)
	if err != nil {
		return err
	}
	return c.DecodeResult(res, r.codec.NewDecoder())
}

// settleAll waits for the runner's goroutines, then runs what they left on
// clock.
func settleAll(r *inlineRunner, clock *scheduler.ManualClock) {
	r.wg.Wait()
	clock.Advance(0)
}

// result returns the outcome of a fired Deferred.
func result[T any](t *testing.T, d *deferred.Deferred[T]) (T, error) {
	t.Helper()
	var (
		v     T
		err   error
		fired bool
	)
	d.AddBoth(func(x T, e error) (T, error) {
		v, err, fired = x, e, true
		return x, nil
	})
	require.True(t, fired, "the Deferred has not fired")
	return v, err
}

// TestFuncCallOnARunner: Func.Call takes any Runner; the call's argument
// and result cross through the codec, and the Deferred fires where the
// Runner settles it (here, on the clock), never inside Call.
func TestFuncCallOnARunner(t *testing.T) {
	clock := scheduler.NewManualClock()
	r := newInlineRunner(clock)

	d := squareWithPID.Call(r, 12)
	e := pid.Call(r, struct{}{})
	r.wg.Wait()
	fired := false
	d.AddBoth(func(v squared, err error) (squared, error) { fired = true; return v, err })
	assert.False(t, fired, "fired before the loop ran")

	clock.Advance(0)
	v, err := result(t, d)
	require.NoError(t, err)
	assert.Equal(t, 144, v.Square)
	_, err = result(t, e)
	require.NoError(t, err)
}

// TestRunnerErrors: the function's error, a panic in it, and the value of
// an interface argument all come through the serving half as they should.
func TestRunnerErrors(t *testing.T) {
	clock := scheduler.NewManualClock()
	r := newInlineRunner(clock)

	failed := failing.Call(r, 3)
	panicked := panicking.Call(r, 4)
	described := describe.Call(r, any(int8(5)))
	settleAll(r, clock)

	_, err := result(t, failed)
	assert.EqualError(t, err, "bad input: 3")
	_, err = result(t, panicked)
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "boom 4", pe.Value)
	assert.Contains(t, string(pe.Stack), "funcs_test.go", "the stack is where the panic happened")
	v, err := result(t, described)
	require.NoError(t, err)
	assert.Equal(t, "int8 5", v)
}

// TestRunnerCancel: cancelling the Deferred runs the Runner's OnCancel
// function, fails the Deferred with ErrCancelled, and makes a later Settle
// a no-op.
func TestRunnerCancel(t *testing.T) {
	clock := scheduler.NewManualClock()
	r := newInlineRunner(clock)

	d := square.Call(r, 3)
	d.Cancel()
	r.mu.Lock()
	assert.Equal(t, []string{"test.square"}, r.cancelled)
	c := r.ran[0]
	r.mu.Unlock()
	_, err := result(t, d)
	assert.ErrorIs(t, err, deferred.ErrCancelled)

	settleAll(r, clock) // the runner settles it anyway
	assert.False(t, c.Settle(nil), "a cancelled call settled")

	// Settled first, cancelled after: nothing more happens.
	d = square.Call(r, 4)
	settleAll(r, clock)
	d.Cancel()
	v, err := result(t, d)
	require.NoError(t, err)
	assert.Equal(t, 16, v)
	r.mu.Lock()
	assert.Len(t, r.cancelled, 1)
	r.mu.Unlock()
}

// countingRunner hands its calls on to a Pool, counting them: a Runner
// that wraps another.
type countingRunner struct {
	inner process.Runner
	calls atomic.Int64
}

func (r *countingRunner) RunCall(c *process.Call) {
	r.calls.Add(1)
	r.inner.RunCall(c)
}

// TestPoolRunCall: a Pool runs the calls a wrapping Runner hands it, with
// results, errors and cancellation as for its own.
func TestPoolRunCall(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1), process.WithMaxInFlight(1))
	r := &countingRunner{inner: p}

	assert.Equal(t, 49, must(t, square.Call(r, 7)))
	_, err := wait(t, failing.Call(r, 1))
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "test.failing", re.Func)

	running := block.Call(r, "wrapped")
	queued := square.Call(r, 5)
	logs.waitFor(t, "running wrapped")
	running.Cancel()
	_, err = wait(t, running)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	logs.waitFor(t, "cancelled wrapped")
	assert.Equal(t, 25, must(t, queued))
	assert.Equal(t, int64(4), r.calls.Load())
}

// TestLookup: the serving half finds functions by name, tells streams
// apart, and reports an argument it cannot decode.
func TestLookup(t *testing.T) {
	f, ok := process.Lookup("test.square")
	require.True(t, ok)
	assert.Equal(t, "test.square", f.Name())
	assert.Equal(t, "func(int) (int, error)", f.Signature())
	assert.False(t, f.Stream())

	_, ok = process.Lookup("test.nothing")
	assert.False(t, ok)

	_, err := f.DecodeArg([]byte{1, 2, 3}, process.Gob().NewDecoder())
	assert.Error(t, err)

	s, ok := process.Lookup("test.count")
	require.True(t, ok)
	assert.True(t, s.Stream())
	_, err = s.Run(context.Background(), nil)
	assert.ErrorIs(t, err, process.ErrStreamFunction)
}

// TestRunnerMisuse: a nil Runner, a nil Pool, a Call or Function not made
// by the package panic with the method's name.
func TestRunnerMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "process: Func.Call: nil Pool or Runner", func() { square.Call(nil, 1) })
	assert.PanicsWithValue(t, "process: Func.Call: nil Pool", func() { square.Call((*process.Pool)(nil), 1) })
	assert.PanicsWithValue(t, "process: Call.Settle: Call not made by Func.Call", func() { new(process.Call).Settle(nil) })
	assert.PanicsWithValue(t, "process: Function.Run: Function not found by Lookup", func() {
		_, _ = new(process.Function).Run(context.Background(), nil)
	})
	assert.PanicsWithValue(t, "process: Call.OnCancel: nil function", func() { square.Call(panicRunner{}, 1) })
}

// panicRunner misuses OnCancel.
type panicRunner struct{}

func (panicRunner) RunCall(c *process.Call) { c.OnCancel(nil) }
