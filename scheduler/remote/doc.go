// Package remote runs the functions registered with scheduler/process on
// workers anywhere, through a RabbitMQ broker, and hands their results back
// as Deferreds fired on the caller's loop: Celery's tasks, workers and
// result backend, done the Twisted way. It speaks AMQP 0-9-1 through
// github.com/rabbitmq/amqp091-go.
//
// Use it when one machine's cores are not enough, or when the work must
// outlive the process that asks for it: the broker keeps the tasks, and
// workers on other machines take them. For work that stays on this machine,
// a process.Pool is faster and simpler.
//
// The unit of work is a function registered with process.Register. A
// [Pool] is a [process.Runner], so the same call runs on a local pool or a
// remote one, and the code built on its Deferreds (a cooperative parallel
// loop, say) takes either:
//
//	var square = process.Register("square", func(ctx context.Context, n int) (int, error) {
//		return n * n, nil
//	})
//
//	// The caller, on its reactor:
//	pool, err := remote.NewPool(ctx, r, remote.WithQueue("squares"))
//	d := square.Call(pool, 7) // fires on r with 49
//
//	// A worker, in any process that registers the same functions:
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
//	defer stop()
//	err := remote.NewWorker(remote.WithQueue("squares"), remote.WithConcurrency(8)).Run(ctx)
//
// The broker's address comes from [WithURL], or the environment variable
// TWINE_AMQP_URL, or is [DefaultURL].
//
// Delivery is at least once, and each guarantee is kept against the
// failures that peers are known for. A task is published persistent and
// mandatory, with publisher confirms: a task that no queue takes fails its
// Deferred, and one unconfirmed when the connection drops is published again,
// under the same id. Tasks live in a quorum queue with a delivery limit and
// at-least-once dead-lettering. A worker acknowledges a task only once its
// result is confirmed by the broker, so a task whose worker crashes, or whose
// connection drops, is delivered again rather than left "active"; a task that
// kills every worker it reaches stops at the delivery limit and fails its
// caller with a [*DeadLetterError], and the dead-letter queue can be listed
// ([ListDead]) and replayed ([ReplayDead]). Results go to a durable queue of
// each caller's own, matched by task id, which the broker deletes when the
// caller has been gone for a while; a task run twice fires its Deferred once.
// Heartbeats find dead connections; both sides connect again with backoff
// and jitter, declare their queues, prefetch and consumers again, and go on.
// A worker whose context ends (SIGTERM) stops taking tasks, finishes those it
// runs within a bound, and leaves the rest to the broker.
//
// Since a task may run more than once, its function should be safe to
// repeat: it writes results it can write again, or checks for its own
// earlier effects.
//
// Callers and workers speak one version of twine's message protocol, named
// in each message's content type ("application/x-twine-task; version=2"):
// a worker answers a task of another version as malformed and rejects it
// to the dead-letter queue, so callers and workers are deployed from one
// release of twine. The function's name is in each task's type property,
// so that the broker's management pages show it.
//
// Porting from Celery:
//
//	app = Celery(broker=url, backend="rpc://")   remote.NewPool(ctx, loop, remote.WithURL(url))
//	@app.task def add(x, y)                       var add = process.Register("add", func(ctx, args Args) (int, error))
//	add.delay(2, 3), add.apply_async(...)         add.Call(pool, Args{2, 3}), a *deferred.Deferred[int]
//	AsyncResult.get(timeout=t)                    the Deferred's callbacks; remote.WithTaskTimeout(t), or d.AddTimeout
//	AsyncResult.revoke(terminate=True)            d.Cancel(): dropped if not started, its context cancelled if running
//	task_acks_late=True                           always: a task is acknowledged after its result is confirmed
//	worker_prefetch_multiplier=1                  always: a worker's prefetch is its concurrency
//	celery worker --concurrency=N                 remote.NewWorker(remote.WithConcurrency(N)).Run(ctx)
//	task_queues, task_default_queue               remote.WithQueue(name)
//	broker_heartbeat                              remote.WithHeartbeat(d)
//	task_reject_on_worker_lost                    always, with a delivery limit: remote.WithDeliveryLimit(n)
//
// Where it differs: the functions are Go functions registered by name with
// their types, not Python callables found by import path; the results come
// back as Deferreds on the caller's loop, not through a polled AsyncResult;
// and a worker runs its tasks on goroutines, not in a pool of processes (a
// task's time limit cancels its context but cannot kill it).
package remote
