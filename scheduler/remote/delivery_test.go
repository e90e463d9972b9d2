package remote_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/twinego/twine/internal/brokertest"
	"github.com/twinego/twine/scheduler/remote"
)

// The tests of the delivery guarantees: each makes the failure it guards
// against happen, with the real broker, real connections and real worker
// processes, and checks that no task is lost, stuck or answered twice.

// TestUnconfirmedTaskIsPublishedAgain: a task whose publish the broker never
// got (the connection hung, then broke) is published again on the next
// connection; without that, its Deferred would wait for ever.
func TestUnconfirmedTaskIsPublishedAgain(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, logs := newPool(t, r, purl, queue)

	px.freeze(true, true)
	d := square.Call(p, 9)
	eventually(t, func() bool { return p.Stats().Published == 1 }, "the task is published")
	px.cut()
	logs.waitFor(t, "pool lost its connection")
	logs.waitFor(t, "pool reconnected")

	runWorker(t, url, queue)
	assert.Equal(t, 81, must(t, d))
	st := p.Stats()
	assert.Equal(t, int64(2), st.Published)
	assert.Equal(t, int64(1), st.Republished)
	assert.Equal(t, int64(1), st.Reconnects)
}

// TestRepublishKeepsTheTaskID: when the broker took a task but its confirm
// was lost, the task is published again under the same id; it then runs
// twice, and the second result is dropped: the Deferred fires once.
func TestRepublishKeepsTheTaskID(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, logs := newPool(t, r, purl, queue)

	px.freeze(false, true) // the broker hears the pool; the pool hears nothing
	d := square.Call(p, 5)
	eventually(t, func() bool { return depth(t, url, queue) == 1 }, "the broker has the task")
	px.cut()
	logs.waitFor(t, "pool reconnected")
	eventually(t, func() bool { return depth(t, url, queue) == 2 }, "the task is published again")

	ch := rawChannel(t, url)
	var ids []string
	for range 2 {
		m, ok, err := ch.Get(queue, false)
		require.NoError(t, err)
		require.True(t, ok)
		ids = append(ids, m.MessageId)
	}
	assert.Equal(t, ids[0], ids[1], "published again under another id")
	require.NoError(t, ch.Close()) // both go back to the queue

	runWorker(t, url, queue)
	assert.Equal(t, 25, must(t, d))
	eventually(t, func() bool { return p.Stats().Duplicates == 1 }, "the second run's result is dropped")
	assert.Equal(t, int64(1), p.Stats().Results)
}

// TestUnroutableTaskFails: a task that no queue takes (its queue was
// deleted behind the pool's back) comes back from the broker, and its
// Deferred fails; the task is not taken for delivered.
func TestUnroutableTaskFails(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	_, err := rawChannel(t, url).QueueDelete(queue, false, false, false)
	require.NoError(t, err)

	_, err = wait(t, square.Call(p, 1))
	assert.ErrorIs(t, err, remote.ErrUnroutable)
	assert.Zero(t, p.Stats().InFlight)
}

// TestWorkerAcksOnlyAfterTheResultIsConfirmed: a worker whose result went
// out but whose confirm never came back has not acknowledged the task, so
// the broker delivers it again once that worker's connection is gone. A
// worker that acknowledged first would lose the task on a crash between
// its acknowledgement and its result.
func TestWorkerAcksOnlyAfterTheResultIsConfirmed(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	runWorker(t, purl, queue, remote.WithConcurrency(1))

	tag, g, d := holdRunning(t, p)
	px.freeze(false, true) // the worker hears nothing more from the broker
	close(g.release)
	assert.Equal(t, tag, must(t, d), "the result reached the caller")

	px.cut() // the worker's connection goes; the broker takes the task back
	g.waitStarted(t)
	eventually(t, func() bool { return p.Stats().Duplicates == 1 }, "the task runs again")
}

// TestNoAckWhenTheResultIsRefused: a result the broker refuses (its queue
// is full and refuses publishes) is not taken for sent: the task is handed
// back and runs again, and at its delivery limit it is dead-lettered,
// never acknowledged.
func TestNoAckWhenTheResultIsRefused(t *testing.T) {
	url, queue := broker(t)
	w, _, _ := runWorker(t, url, queue, remote.WithDeliveryLimit(2))

	ch := rawChannel(t, url)
	reply := queue + ".refusing"
	_, err := ch.QueueDeclare(reply, false, true, false, false, amqp.Table{"x-max-length": 0, "x-overflow": "reject-publish"})
	require.NoError(t, err)
	require.NoError(t, ch.PublishWithContext(context.Background(), "", queue, true, false, task("refused.1", reply, "rt.square", "func(int) (int, error)", gobInt(3))))

	dead := waitDead(t, url, queue, 1)
	assert.Equal(t, "refused.1", dead[0].ID)
	assert.Equal(t, "delivery_limit", dead[0].Reason)
	st := w.Stats()
	assert.Equal(t, int64(2), st.Ran, "it ran as many times as the limit allows")
	assert.Zero(t, st.Answered, "acknowledged although its result was refused")
	assert.Equal(t, int64(2), st.Requeued)
}

// TestPrefetchIsConcurrency: a worker is handed no more tasks than it runs
// at once, so that a second worker gets the task that the first has no
// room for, rather than waiting behind it.
func TestPrefetchIsConcurrency(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	w1, _, _ := runWorker(t, url, queue, remote.WithConcurrency(1))

	tag := uniqueTag(t)
	a, b := gateFor(tag+".a"), gateFor(tag+".b")
	da := hold.Call(p, tag+".a")
	db := hold.Call(p, tag+".b")
	var second *gate
	select {
	case <-a.started:
		second = b
	case <-b.started:
		second = a
	case <-time.After(waitLimit):
		require.FailNow(t, "no task started")
	}
	w2, _, _ := runWorker(t, url, queue, remote.WithConcurrency(1))
	second.waitStarted(t)
	assert.Equal(t, int64(1), w1.Stats().Received, "the first worker took more than it runs at once")
	assert.Equal(t, int64(1), w2.Stats().Received)
	close(a.release)
	close(b.release)
	must(t, da)
	must(t, db)
}

// TestCrashedWorkerTaskIsDeliveredAgain: the task of a worker process that
// is killed while it runs it is not left "active": the broker gives it to
// the next worker, and the caller gets its result.
func TestCrashedWorkerTaskIsDeliveredAgain(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	w1 := startWorker(t, url, queue)
	fifo := mkfifo(t, "hold")
	d := holdFifo.Call(p, fifo)
	w1.log.waitFor(t, "running "+fifo)
	w1.signal(t, syscall.SIGKILL)
	w1.wait(t)

	w2 := startWorker(t, url, queue)
	w2.log.waitFor(t, "running "+fifo)
	release(t, fifo)
	assert.Equal(t, w2.cmd.Process.Pid, must(t, d))
	assert.Equal(t, int64(1), p.Stats().Redelivered)
}

// TestPoisonTaskIsDeadLettered: a task that kills every worker it reaches
// stops at the delivery limit: the next worker does not run it, its caller
// fails with a DeadLetterError that says how often it was delivered, and
// it waits in the dead-letter queue, which lists it and replays it.
func TestPoisonTaskIsDeadLettered(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue, remote.WithDeliveryLimit(2))
	d := crash.Call(p, "poison")
	for range 2 {
		w := startWorker(t, url, queue, envCrash+"=1", envLimit+"=2")
		w.log.waitFor(t, "crashing on poison")
		assert.Equal(t, 99, w.wait(t))
	}
	w := startWorker(t, url, queue, envCrash+"=1", envLimit+"=2")
	_, err := wait(t, d)
	var dle *remote.DeadLetterError
	require.ErrorAs(t, err, &dle)
	assert.ErrorIs(t, err, remote.ErrDeadLettered)
	assert.Equal(t, 3, dle.Deliveries)
	assert.Equal(t, "rt.crash", dle.Func)
	assert.Equal(t, queue+".dead", dle.Queue)
	w.log.waitFor(t, "reached its delivery limit")

	dead := waitDead(t, url, queue, 1)
	assert.Equal(t, dle.ID, dead[0].ID)
	assert.Equal(t, "rt.crash", dead[0].Func)
	assert.Equal(t, "delivery_limit", dead[0].Reason)
	assert.False(t, dead[0].Time.IsZero())

	// Fixed: a worker it does not crash, and the task replayed.
	w.signal(t, syscall.SIGTERM)
	assert.Zero(t, w.wait(t))
	startWorker(t, url, queue, envLimit+"=2")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	n, err := remote.ReplayDead(ctx, func(d remote.DeadTask) bool { return d.ID == dle.ID }, remote.WithURL(url), remote.WithQueue(queue), quiet())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	eventually(t, func() bool { return p.Stats().Duplicates == 1 }, "the replayed task runs, and its caller drops the result")
	assert.Empty(t, listDead(t, url, queue))
}

// TestSigtermDrains: a worker told to stop (SIGTERM) takes no more tasks,
// finishes those it runs and answers them, and exits cleanly; the task it
// had no room for goes to another worker.
func TestSigtermDrains(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	w1 := startWorker(t, url, queue, envConcurrency+"=2")
	f1, f2 := mkfifo(t, "one"), mkfifo(t, "two")
	d1 := holdFifo.Call(p, f1)
	d2 := holdFifo.Call(p, f2)
	w1.log.waitFor(t, "running "+f1)
	w1.log.waitFor(t, "running "+f2)
	d3 := pid.Call(p, struct{}{})
	eventually(t, func() bool { return depth(t, url, queue) == 1 }, "the third task waits in the queue")

	w1.signal(t, syscall.SIGTERM)
	w1.log.waitFor(t, "worker draining")
	release(t, f1)
	release(t, f2)
	assert.Equal(t, w1.cmd.Process.Pid, must(t, d1))
	assert.Equal(t, w1.cmd.Process.Pid, must(t, d2))
	assert.Zero(t, w1.wait(t))
	assert.True(t, w1.log.has("worker drained"))

	w2 := startWorker(t, url, queue)
	assert.Equal(t, w2.cmd.Process.Pid, must(t, d3))
	assert.Zero(t, p.Stats().Redelivered, "the draining worker was given a task, and handed it back")
}

// TestDrainIsBounded: a worker told to stop waits for its tasks only as
// long as its drain bound, then leaves them to the broker, which gives them
// to another worker.
func TestDrainIsBounded(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	w1 := startWorker(t, url, queue, envDrain+"=200")
	fifo := mkfifo(t, "hold")
	d := holdFifo.Call(p, fifo)
	w1.log.waitFor(t, "running "+fifo)
	w1.signal(t, syscall.SIGTERM)
	assert.Equal(t, exitDrainTimeout, w1.wait(t))

	w2 := startWorker(t, url, queue)
	w2.log.waitFor(t, "running "+fifo)
	release(t, fifo)
	assert.Equal(t, w2.cmd.Process.Pid, must(t, d))
}

// TestHeartbeatsFindDeadConnections: connections that go silent (the
// network hangs, no error comes) are found dead by heartbeats; the pool
// and the worker connect again and the task sent into the silence
// completes.
func TestHeartbeatsFindDeadConnections(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, plogs := newPool(t, r, purl, queue, remote.WithHeartbeat(time.Second))
	_, wlogs, _ := runWorker(t, purl, queue, remote.WithHeartbeat(time.Second))
	assert.Equal(t, 4, must(t, square.Call(p, 2)))

	px.freeze(true, true)
	d := square.Call(p, 3)
	plogs.waitFor(t, "pool lost its connection")
	wlogs.waitFor(t, "worker lost its connection")
	plogs.waitFor(t, "pool reconnected")
	wlogs.waitFor(t, "worker reconnected")
	assert.Equal(t, 9, must(t, d))
}

// TestBrokerClosesConnections: the broker closes the connections of the
// pool and of the worker (as an operator or a failing node does); both
// connect again, declare their queues and consumers again, and go on: the
// task that was running is delivered again, and new tasks run.
func TestBrokerClosesConnections(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, plogs := newPool(t, r, url, queue)
	_, wlogs, _ := runWorker(t, url, queue)

	tag, g, d := holdRunning(t, p)
	assert.Equal(t, 2, brokertest.CloseConnections(t, "twine "+queue+" "))
	plogs.waitFor(t, "pool lost its connection", "CONNECTION_FORCED")
	wlogs.waitFor(t, "worker lost its connection", "CONNECTION_FORCED")
	wlogs.waitFor(t, "worker reconnected")
	close(g.release)
	g.waitStarted(t) // delivered again
	assert.Equal(t, tag, must(t, d))
	assert.Equal(t, 16, must(t, square.Call(p, 4)))
}

// TestBrokerRestart: the broker's application stops and starts again while
// tasks wait in the queue and one runs: the pool and the worker connect
// again once it is back, find the queues and the persistent tasks, and
// every call completes.
func TestBrokerRestart(t *testing.T) {
	url, queue := brokerAlone(t)
	r := startReactor(t)
	p, plogs := newPool(t, r, url, queue)
	_, wlogs, _ := runWorker(t, url, queue, remote.WithConcurrency(1))

	tag, g, running := holdRunning(t, p)
	var ds []*deferredInt
	for i := range 10 {
		ds = append(ds, &deferredInt{i, square.Call(p, i)})
	}
	eventually(t, func() bool { return depth(t, url, queue) == 10 }, "the tasks wait in the queue")

	brokertest.RestartApp(t)
	plogs.waitFor(t, "pool reconnected")
	wlogs.waitFor(t, "worker reconnected")
	close(g.release)
	assert.Equal(t, tag, must(t, running))
	for _, d := range ds {
		assert.Equal(t, d.n*d.n, must(t, d.d))
	}
}

// TestResultQueueExpires: a pool's result queue is durable, so that results
// wait for a pool that reconnects; once the pool is gone for longer than
// its expiry, the broker deletes it.
func TestResultQueueExpires(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, logs := newPool(t, r, purl, queue, remote.WithResultExpiry(time.Second))
	reply := queue + ".reply." + p.ID()
	ch := rawChannel(t, url)
	_, err := ch.QueueDeclarePassive(reply, true, false, false, false, nil)
	require.NoError(t, err)

	px.setRefuse(true)
	px.cut()
	logs.waitFor(t, "pool cannot reconnect")
	// Polled by publishing to it: a declaration or a get would keep it.
	eventually(t, func() bool { return !routable(t, url, reply) }, "the result queue %s expires", reply)
}

// TestLostResultQueueRepublishes: a pool that was away while its result
// queue was deleted (and a worker answered into nothing meanwhile) finds
// the queue gone when it comes back, and publishes its unanswered tasks
// again.
func TestLostResultQueueRepublishes(t *testing.T) {
	url, queue := broker(t)
	px, purl := newProxy(t, url)
	r := startReactor(t)
	p, logs := newPool(t, r, purl, queue)
	tag := uniqueTag(t)
	g := gateFor(tag)
	d := hold.Call(p, tag)
	eventually(t, func() bool { return depth(t, url, queue) == 1 }, "the task is in the queue")

	px.setRefuse(true)
	px.cut()
	logs.waitFor(t, "pool cannot reconnect")
	_, err := rawChannel(t, url).QueueDelete(queue+".reply."+p.ID(), false, false, false)
	require.NoError(t, err)
	_, wlogs, _ := runWorker(t, url, queue)
	g.waitStarted(t)
	close(g.release)
	// The broker returns the result; the worker names it by the task's id.
	wlogs.waitFor(t, "the caller's result queue is gone", "task="+p.ID()+".1")

	px.setRefuse(false)
	logs.waitFor(t, "result queue was gone; publishing its unanswered tasks again", "tasks=1")
	g.waitStarted(t)
	assert.Equal(t, tag, must(t, d))
	assert.Equal(t, int64(1), p.Stats().Republished)
}

// TestResultsGoToTheirCaller: two pools on one queue each get the results
// of their own calls, and no other.
func TestResultsGoToTheirCaller(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p1, _ := newPool(t, r, url, queue)
	p2, _ := newPool(t, r, url, queue)
	runWorker(t, url, queue)

	var d1, d2 []*deferredInt
	for i := range 50 {
		d1 = append(d1, &deferredInt{i, square.Call(p1, i)})
		d2 = append(d2, &deferredInt{i + 1000, square.Call(p2, i+1000)})
	}
	for _, d := range append(d1, d2...) {
		assert.Equal(t, d.n*d.n, must(t, d.d))
	}
	for _, p := range []*remote.Pool{p1, p2} {
		st := p.Stats()
		assert.Equal(t, int64(50), st.Results)
		assert.Zero(t, st.Duplicates)
	}
}

// waitDead waits until the dead-letter queue of queue holds n tasks, and
// returns them.
func waitDead(t *testing.T, url, queue string, n int) []remote.DeadTask {
	t.Helper()
	var dead []remote.DeadTask
	eventually(t, func() bool {
		dead = listDead(t, url, queue)
		return len(dead) == n
	}, "%d tasks dead-lettered", n)
	return dead
}

func listDead(t *testing.T, url, queue string) []remote.DeadTask {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	dead, err := remote.ListDead(ctx, remote.WithURL(url), remote.WithQueue(queue), quiet())
	require.NoError(t, err)
	return dead
}

// TestTasksBehindALongOneAreAcknowledged: a worker acknowledges its tasks
// several at once when they finish in a run, but not by waiting for a task
// that still runs: with room for two tasks, one held running, the others
// pass through the second place one after another. Were their
// acknowledgements held behind the long task, the second place would stay
// taken and the calls would wait.
func TestTasksBehindALongOneAreAcknowledged(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue)
	w, _, _ := runWorker(t, url, queue, remote.WithConcurrency(2))

	tag, g, long := holdRunning(t, p)
	for i := range 20 {
		assert.Equal(t, i*i, must(t, square.Call(p, i)))
	}
	close(g.release)
	assert.Equal(t, tag, must(t, long))
	eventually(t, func() bool { return w.Stats().Answered == 21 }, "every task acknowledged")
}

// TestDrainedWorkerLeavesNoTaskUnacknowledged: when a worker that ran many
// tasks at once drains, every task it answered is acknowledged before its
// connection closes: none goes back to the queue to run again on the next
// worker.
func TestDrainedWorkerLeavesNoTaskUnacknowledged(t *testing.T) {
	url, queue := broker(t)
	r := startReactor(t)
	p, _ := newPool(t, r, url, queue, remote.WithMaxInFlight(200))
	w1, _, stop := runWorker(t, url, queue, remote.WithConcurrency(100))
	const n = 2000
	for i := range n {
		square.Call(p, i)
	}
	eventually(t, func() bool { return p.Stats().Results == n }, "every call answered")
	require.NoError(t, stop())
	assert.Equal(t, int64(n), w1.Stats().Answered)

	// Tasks handed back go to the front of the queue: a task called now
	// comes after them.
	w2, _, _ := runWorker(t, url, queue)
	assert.Equal(t, 49, must(t, square.Call(p, 7)))
	assert.Equal(t, int64(1), w2.Stats().Received, "tasks answered by the first worker were delivered again")
	assert.Zero(t, p.Stats().Duplicates)
}
