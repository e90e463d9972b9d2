package process_test

import (
	"log/slog"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/cooperate"
	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestMapOnARunner: MapFunc.Map and Func.Map take any Runner; one other
// than *Pool (here one that hands its calls on to a pool, counting them)
// runs on the loop WithLoop gives, and sends chunks, or single elements,
// as calls.
func TestMapOnARunner(t *testing.T) {
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(2), process.WithLogger(slog.New(newLogSink())))
	run := &countingRunner{inner: p}

	got := must(t, mapSquare.Map(run, upTo(1000), process.WithLoop(r), process.WithChunkSize(100)))
	require.Len(t, got, 1000)
	for i, v := range got {
		require.Equal(t, i*i, v, "element %d", i)
	}
	assert.Equal(t, int64(10), run.calls.Load(), "a call per chunk")

	got = must(t, mapSquare.Func.Map(run, upTo(50), process.WithLoop(r), process.WithTasksInFlight(3)))
	require.Len(t, got, 50)
	for i, v := range got {
		require.Equal(t, i*i, v, "element %d", i)
	}
	assert.Equal(t, int64(60), run.calls.Load(), "a call per element")

	_, err := wait(t, mapCheck.Map(run, upTo(100), process.WithLoop(r)))
	var ee *cooperate.ElementError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 37, ee.Index)
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "37 is not welcome", re.Text)
}

// TestFuncMap: a plain Func maps one element per task, in order, and fails
// with the first failed element's index and error.
func TestFuncMap(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(2))
	got := must(t, square.Map(p, upTo(300)))
	require.Len(t, got, 300)
	for i, v := range got {
		require.Equal(t, i*i, v, "element %d", i)
	}
	assert.Empty(t, must(t, square.Map(p, upTo(0))))

	src := &countSeq{n: 100}
	_, err := wait(t, mapCheck.Func.Map(p, src.seq))
	var ee *cooperate.ElementError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 37, ee.Index)
	var re *process.RemoteError
	require.ErrorAs(t, err, &re)
	assert.True(t, src.released)
}

// TestMapCollectErrors: with CollectErrors, every failed element is listed,
// with its own error, and no other.
func TestMapCollectErrors(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(2))
	for _, size := range []int{1, 10, 1000} {
		_, err := wait(t, mapCheck.Map(p, upTo(100), process.WithChunkSize(size), process.CollectErrors()))
		var errs *cooperate.ElementErrors
		require.ErrorAs(t, err, &errs, "chunk size %d", size)
		require.Len(t, errs.Errs, 2)
		assert.Equal(t, 37, errs.Errs[0].Index)
		var re *process.RemoteError
		assert.ErrorAs(t, errs.Errs[0], &re)
		assert.Equal(t, 50, errs.Errs[1].Index)
		var perr *deferred.PanicError
		assert.ErrorAs(t, errs.Errs[1], &perr)
	}
	_, err := wait(t, mapCheck.Func.Map(p, upTo(60), process.CollectErrors()))
	var errs *cooperate.ElementErrors
	require.ErrorAs(t, err, &errs)
	assert.Equal(t, []int{37, 50}, indexes(errs))
	// Nothing failed: the results, as without the option.
	assert.Equal(t, []int{0, 1, 4}, must(t, mapSquare.Map(p, upTo(3), process.CollectErrors())))
}

func indexes(errs *cooperate.ElementErrors) []int {
	var out []int
	for _, e := range errs.Errs {
		out = append(out, e.Index)
	}
	return out
}

// TestMapWorkerKilledCollectsTheRest: the workers running elements 5 and
// 13 are killed; with CollectErrors, the elements of their tasks fail with
// the WorkerError (every element of a chunk that failed whole), and every
// other element completes.
func TestMapWorkerKilledCollectsTheRest(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(p *process.Pool) *deferred.Deferred[[]int]
		want []int
	}{
		{"MapFunc", func(p *process.Pool) *deferred.Deferred[[]int] {
			return mapGate.Map(p, upTo(40), process.WithChunkSize(4), process.CollectErrors())
		}, []int{4, 5, 6, 7, 12, 13, 14, 15}},
		{"Func", func(p *process.Pool) *deferred.Deferred[[]int] {
			return mapGate.Func.Map(p, upTo(30), process.CollectErrors())
		}, []int{5, 13}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, sink := newPool(t, process.WithMaxWorkers(2), process.WithMaxInFlight(1))
			d := tc.run(p)
			for _, gate := range []string{"gate 5", "gate 13"} {
				line := sink.waitFor(t, gate)
				require.NoError(t, syscall.Kill(pidOf(line), syscall.SIGKILL))
			}
			_, err := wait(t, d)
			var errs *cooperate.ElementErrors
			require.ErrorAs(t, err, &errs)
			assert.Equal(t, tc.want, indexes(errs), "only the killed workers' elements failed")
			for _, e := range errs.Errs {
				assert.Equal(t, syscall.SIGKILL, workerError(t, e).Signal)
			}
		})
	}
}

// TestFuncMapPoolClosedMidway: a pool closed while a map runs fails the
// map with ErrClosed for the element that met it.
func TestFuncMapPoolClosedMidway(t *testing.T) {
	r := startReactor(t)
	sink := newLogSink()
	p, err := process.NewPool(r, process.WithMaxWorkers(1), process.WithLogger(slog.New(sink)))
	require.NoError(t, err)
	d := mapGate.Func.Map(p, upTo(1000))
	sink.waitFor(t, "gate 5")
	closed := make(chan error, 1)
	go func() { closed <- p.Close(t.Context()) }()
	_, err = wait(t, d)
	var ee *cooperate.ElementError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, process.ErrClosed)
	assert.Greater(t, ee.Index, 5)
	require.NoError(t, waitErr(t, closed))
}

// TestFuncMapMisuse: the misuse of Map's arguments panics with the
// method's name.
func TestFuncMapMisuse(t *testing.T) {
	p, _ := newPool(t, process.WithMinWorkers(0))
	assert.PanicsWithValue(t, "process: Func.Map: nil Runner", func() { square.Map(nil, upTo(1)) })
	assert.PanicsWithValue(t, "process: Func.Map: nil Pool", func() { square.Map((*process.Pool)(nil), upTo(1)) })
	assert.PanicsWithValue(t, "process: Func.Map: nil iterator", func() { square.Map(p, nil) })
	assert.PanicsWithValue(t, "process: Func.Map: a Runner other than *Pool needs WithLoop", func() {
		square.Map(&countingRunner{inner: p}, upTo(1))
	})
	assert.PanicsWithValue(t, "process: MapFunc.Map: a Runner other than *Pool needs WithLoop", func() {
		mapSquare.Map(&countingRunner{inner: p}, upTo(1))
	})
	assert.Panics(t, func() { square.Map(p, upTo(1), process.WithChunkSize(2)) })
	assert.PanicsWithValue(t, "process: WithLoop: nil Loop", func() { process.WithLoop(nil) })
	assert.PanicsWithValue(t, "process: WithTasksInFlight(0): need at least 1", func() { process.WithTasksInFlight(0) })
	var zero *process.Func[int, int]
	assert.PanicsWithValue(t, "process: Func.Map: Func not made by Register", func() { zero.Map(p, slices.Values([]int{1})) })
}
