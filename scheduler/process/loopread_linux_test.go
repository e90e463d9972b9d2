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
	"github.com/twinego/twine/scheduler"
	"github.com/twinego/twine/scheduler/process"
)

// The loop reads the answers to the calls made from the pool's callbacks
// itself (see the package's loop reader); these tests check that it does,
// and that every fault still ends as it does when the worker's reader
// goroutine reads.

// loopReadingPool returns a reactor and a pool of one worker on it, ready,
// whose loop waits for answers as long as there are some in flight.
func loopReadingPool(t *testing.T, opts ...process.Option) (*reactor.Reactor, *process.Pool) {
	t.Helper()
	t.Cleanup(process.SetLoopWaitForTest(time.Hour)) // runs last
	r := startReactor(t)
	p := poolOn(t, r, append([]process.Option{process.WithMaxWorkers(1)}, opts...)...)
	workerPID(t, p)
	return r, p
}

// requireLoopReading waits until the loop reads p's worker's output while
// a task is in flight.
func requireLoopReading(t *testing.T, p *process.Pool) {
	t.Helper()
	require.Eventually(t, func() bool { return process.LoopOwnsForTest(p) == 1 }, waitLimit, time.Millisecond,
		"the loop never took the output")
}

// afterChain makes a chain of 20 calls on p, as chain does, then makes
// one more with call from the last callback, and returns its Deferred.
func afterChain[T any](t *testing.T, r *reactor.Reactor, p *process.Pool, call func() *deferred.Deferred[T]) *deferred.Deferred[T] {
	t.Helper()
	got := make(chan *deferred.Deferred[T], 1)
	require.NoError(t, waitErr(t, chain(r, p, 20, func() { got <- call() })))
	return <-got
}

func TestTheReactorIsAnIdleLoop(t *testing.T) {
	var loop scheduler.Loop = reactor.New()
	_, ok := loop.(scheduler.IdleLoop)
	assert.True(t, ok)
}

func TestCallsFromCallbacksAreAnsweredOnTheLoop(t *testing.T) {
	r, p := loopReadingPool(t)
	require.NoError(t, waitErr(t, chain(r, p, 200, nil)))
	offers, reads := process.LoopReadsForTest(p)
	assert.GreaterOrEqual(t, reads, uint64(150), "the loop read %d of the 200 answers", reads)
	assert.LessOrEqual(t, offers, uint64(10), "the output went to the loop and back %d times", offers)
	require.Eventually(t, func() bool { return process.LoopOwnsForTest(p) == 0 }, waitLimit, time.Millisecond,
		"the loop kept the output with nothing in flight")
}

func TestCallsFromOtherGoroutinesAreAnsweredByTheReader(t *testing.T) {
	_, p := loopReadingPool(t)
	for i := range 50 {
		assert.Equal(t, i*i, must(t, square.Call(p, i)))
	}
	// A call made while the loop is still in the callbacks of the answer
	// before may pass for one made from them: the pool cannot tell
	// goroutines apart. Such an answer may be read on the loop, which does
	// no harm; most are not (a CI run under load saw 12 of the 50 offered).
	offers, reads := process.LoopReadsForTest(p)
	assert.Less(t, offers, uint64(25), "most answers go to the reader")
	assert.Less(t, reads, uint64(25), "most answers go to the reader")
}

func TestSlowAnswersGoBackToTheReader(t *testing.T) {
	t.Cleanup(process.SetLoopWaitForTest(time.Millisecond))
	r := startReactor(t)
	p := poolOn(t, r, process.WithMaxWorkers(1))
	workerPID(t, p)
	slow := afterChain(t, r, p, func() *deferred.Deferred[string] { return block.Call(p, "slow") })
	// The loop gives the output back after a millisecond without an
	// answer, and goes to sleep: the reader reads what comes next.
	require.Eventually(t, func() bool { return process.LoopOwnsForTest(p) == 0 }, waitLimit, time.Millisecond)
	slow.Cancel()
	_, err := wait(t, slow)
	assert.ErrorIs(t, err, deferred.ErrCancelled)
	assert.Equal(t, 49, must(t, square.Call(p, 7)))
}

func TestWorkerKilledWhileTheLoopReadsIt(t *testing.T) {
	r, p := loopReadingPool(t)
	victim := workerPID(t, p)
	hung := afterChain(t, r, p, func() *deferred.Deferred[string] { return hang.Call(p, "victim") })
	requireLoopReading(t, p)

	require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))
	_, err := wait(t, hung)
	we := workerError(t, err)
	assert.Equal(t, victim, we.PID)
	assert.Equal(t, syscall.SIGKILL, we.Signal)
	assert.Equal(t, 64, must(t, square.Call(p, 8)), "the worker was not replaced")
	requireGone(t, victim)
}

func TestGarbageTheLoopReadsKillsTheWorker(t *testing.T) {
	r, p := loopReadingPool(t)
	broken := workerPID(t, p)
	// The answers to the garbage call come after the garbage itself.
	_, err := wait(t, afterChain(t, r, p, func() *deferred.Deferred[int] {
		return garbage.Call(p, []byte{0, 0, 0, 2, 0xee, 0})
	}))
	we := workerError(t, err)
	assert.ErrorIs(t, err, process.ErrProtocol)
	assert.Contains(t, err.Error(), "unknown frame kind 238")
	assert.Equal(t, broken, we.PID)
	assert.Equal(t, syscall.SIGKILL, we.Signal)
	assert.Equal(t, 81, must(t, square.Call(p, 9)))
	requireGone(t, broken)
}

func TestTaskTimeoutWhileTheLoopReads(t *testing.T) {
	r, p := loopReadingPool(t, process.WithTaskTimeout(50*time.Millisecond))
	_, err := wait(t, afterChain(t, r, p, func() *deferred.Deferred[string] { return hang.Call(p, "forever") }))
	assert.ErrorIs(t, err, process.ErrTimeout)
	assert.Equal(t, 100, must(t, square.Call(p, 10)))
}

func TestCloseWhileTheLoopReads(t *testing.T) {
	r, p := loopReadingPool(t)
	victim := workerPID(t, p)
	hung := afterChain(t, r, p, func() *deferred.Deferred[string] { return hang.Call(p, "forever") })
	requireLoopReading(t, p)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Close(ctx), context.DeadlineExceeded)
	_, err := wait(t, hung)
	assert.ErrorIs(t, err, process.ErrClosed)
	requireGone(t, victim)
}

func TestReactorStoppingWhileTheLoopReads(t *testing.T) {
	t.Cleanup(process.SetLoopWaitForTest(time.Hour))
	r := reactor.New(reactor.WithWatchdog(0))
	ran := make(chan error, 1)
	go func() { ran <- r.Run() }()
	p, err := process.NewPool(r, process.WithMaxWorkers(1))
	require.NoError(t, err)
	victim := workerPID(t, p)
	afterChain(t, r, p, func() *deferred.Deferred[string] { return hang.Call(p, "forever") })
	requireLoopReading(t, p)

	require.NoError(t, r.Stop())
	require.NoError(t, <-ran)
	assert.Zero(t, process.LoopOwnsForTest(p), "the stopped loop kept the output")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Close(ctx), context.DeadlineExceeded)
	requireGone(t, victim)
}

func TestTwoPoolsOnOneLoop(t *testing.T) {
	t.Cleanup(process.SetLoopWaitForTest(time.Hour))
	r := startReactor(t)
	p1 := poolOn(t, r, process.WithMaxWorkers(1))
	p2 := poolOn(t, r, process.WithMaxWorkers(1))
	workerPID(t, p1)
	workerPID(t, p2)
	done1, done2 := chain(r, p1, 300, nil), chain(r, p2, 300, nil)
	require.NoError(t, waitErr(t, done1))
	require.NoError(t, waitErr(t, done2))
}
