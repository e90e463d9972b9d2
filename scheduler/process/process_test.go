package process_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/reactor"
	"github.com/twinego/twine/scheduler/process"
)

func TestCallRunsInAWorkerAndFiresOnTheLoop(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(1))

	onLoop := make(chan error, 1)
	d := squareWithPID.Call(p, 12)
	d.AddCallback(func(s squared) (squared, error) {
		// BlockingCall refuses to run on the reactor goroutine: that is how
		// we know the callback runs there.
		_, err := reactor.BlockingCall(context.Background(), r, func() (int, error) { return 0, nil })
		onLoop <- err
		return s, nil
	})
	s := must(t, d)
	assert.Equal(t, squared{N: 12, Square: 144, PID: s.PID}, s)
	assert.ErrorIs(t, <-onLoop, reactor.ErrOnReactor, "the callback did not run on the loop")
	assert.Equal(t, []int{s.PID}, p.Workers(), "the task ran in the pool's worker")
	assert.NotEqual(t, syscall.Getpid(), s.PID)
}

func TestThousandTasksThroughTwoWorkers(t *testing.T) {
	p, _ := newPool(t, process.WithMinWorkers(2), process.WithMaxWorkers(2))
	bothReady(t, p)
	const n = 1000
	ds := make([]*deferred.Deferred[squared], n)
	for i := range ds {
		ds[i] = squareWithPID.Call(p, i)
	}
	all := must(t, deferred.All(ds...))
	pids := map[int]int{}
	for i, s := range all {
		require.Equal(t, i, s.N)
		require.Equal(t, i*i, s.Square, "task %d", i)
		pids[s.PID]++
	}
	assert.Len(t, pids, 2, "both workers served: %v", pids)
	for pid := range pids {
		assert.Contains(t, p.Workers(), pid)
	}
}

// bothReady returns once both workers of p have finished their handshake:
// a worker answers a thousand tiny tasks sooner than another one starts.
// Two calls made together go to two ready workers, since each goes to the
// one with the fewest tasks in flight, and before that both to the first.
func bothReady(t *testing.T, p *process.Pool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		d1, d2 := pid.Call(p, struct{}{}), pid.Call(p, struct{}{})
		if must(t, d1) != must(t, d2) {
			return
		}
		require.True(t, time.Now().Before(deadline), "the second worker never became ready")
	}
}

func TestErrorReturnedByTheFunction(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	_, err := wait(t, failing.Call(p, 7))
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "bad input: 7", re.Error())
	assert.Equal(t, "test.failing", re.Func)
}

func TestErrorTextThatIsNotUTF8(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	w := workerPID(t, p)
	_, err := wait(t, failingBadly.Call(p, struct{}{}))
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "not UTF-8: \uFFFD", re.Text)
	assert.Equal(t, w, workerPID(t, p), "the worker serves on")
}

func TestPanicBecomesPanicErrorAndTheWorkerLives(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	before := workerPID(t, p)
	_, err := wait(t, panicking.Call(p, 42))
	var pe *deferred.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "boom 42", pe.Value)
	assert.Contains(t, string(pe.Stack), "process_test.init", "the worker's stack, where the function is")
	assert.Contains(t, err.Error(), "boom 42")
	assert.Equal(t, before, workerPID(t, p), "the same worker serves on")
}

func TestEmptyTypesCrossAsNothing(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	assert.Positive(t, must(t, pid.Call(p, struct{}{})))
}

func TestEncodingErrorFailsOnlyThatTask(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1))
	type unregistered struct{ A int }
	_, err := wait(t, describe.Call(p, unregistered{1}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "encoding the argument")
	// The gob stream starts afresh after the failed value.
	assert.Equal(t, "int 5", must(t, describe.Call(p, any(5))))
	assert.Equal(t, 9, must(t, square.Call(p, 3)))
}

func TestCallAfterCloseFails(t *testing.T) {
	r := startReactor(t)
	p, err := process.NewPool(r, process.WithMinWorkers(0))
	require.NoError(t, err)
	closePool(t, p)
	_, err = wait(t, square.Call(p, 2))
	assert.ErrorIs(t, err, process.ErrClosed)
}

func TestMisuse(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMinWorkers(0))
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"Register after Main", "after process.Main", func() {
			process.Register("test.late", func(context.Context, int) (int, error) { return 0, nil })
		}},
		{"Register twice", "registered twice", func() {
			process.Register("test.square", func(context.Context, int) (int, error) { return 0, nil })
		}},
		{"Register nil", "nil function", func() { process.Register[int, int]("test.nil", nil) }},
		{"RegisterStream nil", "nil function", func() { process.RegisterStream[int, int]("test.nil", nil) }},
		{"Call nil pool", "Func.Call: nil Pool", func() { square.Call(nil, 1) }},
		{"Call zero Func", "Func.Call: Func not made by Register", func() { new(process.Func[int, int]).Call(p, 1) }},
		{"Stream nil each", "StreamFunc.Stream: nil function", func() { count.Stream(p, 1, nil) }},
		{"Stream nil pool", "StreamFunc.Stream: nil Pool", func() { count.Stream(nil, 1, func(int) {}) }},
		{"NewPool nil loop", "NewPool: nil Loop", func() { _, _ = process.NewPool(nil) }},
		{"min above max", "WithMinWorkers(3) exceeds WithMaxWorkers(2)", func() {
			_, _ = process.NewPool(r, process.WithMinWorkers(3), process.WithMaxWorkers(2))
		}},
		{"WithMaxWorkers", "WithMaxWorkers(0)", func() { process.WithMaxWorkers(0) }},
		{"WithMinWorkers", "WithMinWorkers(-1)", func() { process.WithMinWorkers(-1) }},
		{"WithMaxInFlight", "WithMaxInFlight(0)", func() { process.WithMaxInFlight(0) }},
		{"WithMaxFrame", "WithMaxFrame(10)", func() { process.WithMaxFrame(10) }},
		{"WithRecycleAfter", "WithRecycleAfter(-1)", func() { process.WithRecycleAfter(-1) }},
		{"WithEnv", `WithEnv("PATH")`, func() { process.WithEnv("PATH") }},
		{"WithCodec nil", "WithCodec: nil", func() { process.WithCodec(nil) }},
		{"WithWorkerProcs", "WithWorkerProcs(-1)", func() { process.WithWorkerProcs(-1) }},
		{"WithWorkerNice", "WithWorkerNice(-1)", func() { process.WithWorkerNice(-1) }},
		{"WithStartTimeout", "WithStartTimeout(0s)", func() { process.WithStartTimeout(0) }},
		{"nil Option", "NewPool: nil Option", func() { _, _ = process.NewPool(r, nil) }},
		{"unregistered codec", `codec "json-unregistered" is not registered`, func() {
			_, _ = process.NewPool(r, process.WithCodec(jsonCodec{name: "json-unregistered"}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				require.NotNil(t, v, "no panic")
				msg := v.(string)
				assert.Contains(t, msg, "process: ")
				assert.Contains(t, msg, tc.want)
			}()
			tc.f()
		})
	}
}

func TestNewPoolRequiresMain(t *testing.T) {
	r := startReactor(t)
	restore := process.ForgetMainForTest()
	defer restore()
	p, err := process.NewPool(r)
	assert.Nil(t, p)
	assert.ErrorIs(t, err, process.ErrNoMain)
}
