package process_test

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestKill9MidTask kills a worker while it runs a task: the task fails with
// the worker's exit status and the tail of its stderr, the worker is
// replaced, and the tasks queued behind it run on the replacement.
func TestKill9MidTask(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1), process.WithMaxInFlight(1))
	victim := workerPID(t, p)
	running := block.Call(p, "victim")
	queued := make([]*deferred.Deferred[int], 5)
	for i := range queued {
		queued[i] = square.Call(p, i)
	}
	logs.waitFor(t, "running victim", fmt.Sprint("pid=", victim))
	require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))

	_, err := wait(t, running)
	we := workerError(t, err)
	assert.Equal(t, victim, we.PID)
	assert.Equal(t, syscall.SIGKILL, we.Signal)
	assert.Equal(t, -1, we.ExitCode)
	assert.NoError(t, we.Err, "the pool did not kill it")
	assert.Contains(t, we.StderrTail, "running victim")
	assert.Contains(t, err.Error(), "killed by signal 9")

	for i, d := range queued {
		assert.Equal(t, i*i, must(t, d), "queued task %d", i)
	}
	replacement := workerPID(t, p)
	assert.NotEqual(t, victim, replacement)
	requireGone(t, victim)
}

// TestWorkerExitFailsItsTasks: a function that exits the worker process
// fails the tasks in flight on it with its exit status; the tasks on the
// other worker are not touched.
func TestWorkerExitFailsItsTasks(t *testing.T) {
	p, logs := newPool(t, process.WithMinWorkers(1), process.WithMaxWorkers(1))
	bystander := block.Call(p, "bystander")
	logs.waitFor(t, "running bystander")
	_, err := wait(t, exit.Call(p, 7))
	we := workerError(t, err)
	assert.Equal(t, 7, we.ExitCode)
	assert.Zero(t, we.Signal)
	assert.Contains(t, we.StderrTail, "exiting with 7")
	assert.Contains(t, err.Error(), "exited with status 7")
	_, err = wait(t, bystander)
	assert.Equal(t, 7, workerError(t, err).ExitCode)
	assert.Equal(t, 4, must(t, square.Call(p, 2)), "a new worker serves")
}

// TestGarbageOnTheProtocolStream: a worker that writes bytes that are not
// a frame is killed with a protocol error; its tasks fail with it, and the
// pool goes on with a new worker.
func TestGarbageOnTheProtocolStream(t *testing.T) {
	for _, tc := range []struct {
		name    string
		garbage []byte
		is      error
		want    string
	}{
		{"text", []byte("garbage!\n"), process.ErrFrameTooLarge, "a frame of 1734439522 bytes"},
		{"unknown kind", []byte{0, 0, 0, 2, 0xee, 0}, process.ErrProtocol, "unknown frame kind 238"},
		{"truncated id", []byte{0, 0, 0, 2, 16, 0x80}, process.ErrProtocol, "malformed frame"},
		{"unknown request", []byte{0, 0, 0, 3, 16, 99, 0}, process.ErrProtocol, "unexpected frame of kind 16 for request 99"},
		{"bad error kind", []byte{0, 0, 0, 4, 19, 1, 9, 0}, process.ErrProtocol, "error kind 9"},
		{"end of a call", []byte{0, 0, 0, 2, 18, 1}, process.ErrProtocol, "unexpected frame of kind 18 for request 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newPool(t, process.WithMaxWorkers(1))
			broken := workerPID(t, p) // its request 1
			_, err := wait(t, garbage.Call(p, tc.garbage))
			we := workerError(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, broken, we.PID)
			assert.Equal(t, syscall.SIGKILL, we.Signal)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, 9, must(t, square.Call(p, 3)))
			assert.NotEqual(t, broken, workerPID(t, p))
		})
	}
}

// TestStdoutDoesNotDisturbTheProtocol: what a function prints on stdout
// goes to the logger as stderr does, and the worker goes on.
func TestStdoutDoesNotDisturbTheProtocol(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1))
	w := workerPID(t, p)
	assert.Equal(t, "HELLO", must(t, printStdout.Call(p, "hello")))
	logs.waitFor(t, "process: worker stderr", fmt.Sprint("pid=", w), "line=to stdout: hello")
	assert.Equal(t, w, workerPID(t, p))
}

// TestOversizedFrameFromAWorker: a frame longer than the limit kills the
// worker before the pool reads it.
func TestOversizedFrameFromAWorker(t *testing.T) {
	const limit = 4096
	p, _ := newPool(t, process.WithMaxWorkers(1), process.WithMaxFrame(limit))
	_, err := wait(t, garbage.Call(p, binary.BigEndian.AppendUint32(nil, limit+1)))
	workerError(t, err)
	assert.ErrorIs(t, err, process.ErrFrameTooLarge)
	assert.Contains(t, err.Error(), "frame of 4097 bytes; the limit is 4096")
	assert.Equal(t, 16, must(t, square.Call(p, 4)))
}

// TestTooLargeToSend: an argument or a result that does not fit in a frame
// fails its task alone; the worker serves on.
func TestTooLargeToSend(t *testing.T) {
	const limit = 4096
	p, _ := newPool(t, process.WithMaxWorkers(1), process.WithMaxFrame(limit))
	w := workerPID(t, p)

	_, err := wait(t, bigString.Call(p, 2*limit))
	assert.ErrorIs(t, err, process.ErrFrameTooLarge)
	assert.NotErrorAs(t, err, new(*process.WorkerError))
	assert.Contains(t, err.Error(), `a result of "test.bigString" takes`)
	assert.Equal(t, 100, len(must(t, bigString.Call(p, 100))), "the worker's encoder started afresh")

	_, err = wait(t, length.Call(p, string(make([]byte, 2*limit))))
	assert.ErrorIs(t, err, process.ErrFrameTooLarge)
	assert.Contains(t, err.Error(), `the argument of "test.length" takes`)
	assert.Equal(t, 3, must(t, length.Call(p, "abc")), "the pool's encoder started afresh")

	assert.Equal(t, w, workerPID(t, p))
}

// TestTaskTimeoutKillsItsWorker: a task that runs past the task timeout has
// its worker killed; it fails with ErrTimeout, the other task running on
// that worker with ErrKilled, and the next task runs on a new worker.
func TestTaskTimeoutKillsItsWorker(t *testing.T) {
	p, logs := newPool(t, process.WithMaxWorkers(1), process.WithTaskTimeout(300*time.Millisecond))
	w := workerPID(t, p)
	hung := hang.Call(p, "forever")
	// Sent at once, so that it is in flight on the same worker whenever the
	// timeout strikes, however slowly the machine runs.
	bystander := block.Call(p, "bystander")
	logs.waitFor(t, "hanging forever")

	_, err := wait(t, hung)
	we := workerError(t, err)
	assert.ErrorIs(t, err, process.ErrTimeout)
	assert.Equal(t, w, we.PID)
	assert.Equal(t, syscall.SIGKILL, we.Signal)
	assert.Contains(t, we.StderrTail, "hanging forever")

	_, err = wait(t, bystander)
	assert.ErrorIs(t, err, process.ErrKilled)
	assert.Equal(t, w, workerError(t, err).PID)

	assert.Equal(t, 25, must(t, square.Call(p, 5)))
	assert.NotEqual(t, w, workerPID(t, p))
	assert.True(t, logs.has("process: task timed out; killing its worker", "func=test.hang"))
}

// TestRecycleAfter: each worker serves the given number of tasks, then a new
// one takes over.
func TestRecycleAfter(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(1), process.WithMaxInFlight(1), process.WithRecycleAfter(3))
	var pids []int
	for range 7 {
		pids = append(pids, must(t, pid.Call(p, struct{}{})))
	}
	assert.Equal(t, pids[0], pids[1])
	assert.Equal(t, pids[0], pids[2])
	assert.NotEqual(t, pids[0], pids[3])
	assert.Equal(t, pids[3], pids[4])
	assert.Equal(t, pids[3], pids[5])
	assert.NotEqual(t, pids[3], pids[6])
	assert.NotEqual(t, pids[0], pids[6])
	closePool(t, p)
	requireGone(t, pids...)
}

// TestRecycleUnderLoad: with many tasks in flight, recycling loses none.
func TestRecycleUnderLoad(t *testing.T) {
	p, _ := newPool(t, process.WithMaxWorkers(2), process.WithMaxInFlight(8), process.WithRecycleAfter(25))
	ds := make([]*deferred.Deferred[squared], 300)
	for i := range ds {
		ds[i] = squareWithPID.Call(p, i)
	}
	pids := map[int]int{}
	for i, s := range must(t, deferred.All(ds...)) {
		require.Equal(t, i*i, s.Square)
		pids[s.PID]++
	}
	for pid, n := range pids {
		assert.LessOrEqual(t, n, 25, "worker %d served more than 25 tasks", pid)
	}
	assert.GreaterOrEqual(t, len(pids), 12)
}
