package process_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/deferred"
	"github.com/twinego/twine/scheduler/process"
)

// TestKillBeforeTheHandshakeKeepsTheQueue: a worker killed before its
// handshake had no task sent to it, so none fails: the tasks queued for it
// wait for the next worker, and all of them run.
func TestKillBeforeTheHandshakeKeepsTheQueue(t *testing.T) {
	p, logs := newPool(t, process.WithMinWorkers(0), process.WithMaxWorkers(1),
		process.WithEnv(envSlowStart+"=300ms"))
	const n = 1000
	ds := make([]*deferred.Deferred[int], n)
	for i := range ds {
		ds[i] = square.Call(p, i)
	}
	victim := pidOf(logs.waitFor(t, "line=worker starting"))
	require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))

	for i, v := range must(t, deferred.All(ds...)) {
		require.Equal(t, i*i, v, "task %d", i)
	}
	failed := logs.waitFor(t, "process: cannot start worker", fmt.Sprint("pid=", victim))
	assert.Contains(t, failed, "the worker ended before its handshake")
	assert.NotContains(t, p.Workers(), victim)
	requireGone(t, victim)
}

// TestKillsBeforeTheHandshakeAreNoBrokenExecutable: workers killed from
// outside before their handshake, more of them in a row than the failed
// starts that make the pool give up, do not make it give up: the signal
// says nothing about the executable. The queued task runs on the first
// worker that gets through.
func TestKillsBeforeTheHandshakeAreNoBrokenExecutable(t *testing.T) {
	p, logs := newPool(t, process.WithMinWorkers(0), process.WithMaxWorkers(1),
		process.WithEnv(envSlowStart+"=200ms"))
	d := pid.Call(p, struct{}{})
	const kills = 5
	var victims []int
	for k := 1; k <= kills; k++ {
		victim := pidOf(logs.waitForN(t, k, "line=worker starting")[k-1])
		require.NoError(t, syscall.Kill(victim, syscall.SIGKILL))
		victims = append(victims, victim)
	}
	survivor := must(t, d)
	assert.NotContains(t, victims, survivor)
	for _, v := range victims {
		logs.waitFor(t, "process: cannot start worker", fmt.Sprint("pid=", v))
	}
	requireGone(t, victims...)
}
