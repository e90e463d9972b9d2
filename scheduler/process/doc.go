// Package process runs Go functions in worker processes and hands their
// results back as Deferreds: Twisted's ampoule (a pool of child processes
// that a reactor sends work to) and Python's multiprocessing, done the Go
// way.
//
// Use it for what a goroutine cannot give: a hard kill for a task that hangs
// (a per-task timeout kills its worker), isolation from code that crashes or
// leaks (cgo, a third-party parser, a library that calls os.Exit), and a
// fresh process every N tasks. For parallelism alone, goroutines are
// cheaper: see reactor.DeferToGoroutine.
//
// A function is registered once, by name, with its argument and result
// types, in a package variable, so that every start of the executable
// registers it:
//
//	var square = process.Register("square", func(ctx context.Context, n int) (int, error) {
//		return n * n, nil
//	})
//
//	func main() {
//		process.Main() // in a worker, serves tasks and never returns
//		reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
//			pool, err := process.NewPool(r, process.WithMaxWorkers(4))
//			if err != nil {
//				return deferred.Fail[struct{}](err)
//			}
//			d := square.Call(pool, 7) // fires on the reactor with 49
//			return deferred.Then(d, func(n int) (struct{}, error) {
//				fmt.Println(n)
//				return struct{}{}, pool.Close(context.Background())
//			})
//		})
//	}
//
// Workers are this same executable started again, with a mark in their
// environment that makes [Main] serve instead of returning; so Main comes
// first in main (and in TestMain, for tests that use pools: the test binary
// is then its own worker). A handshake checks that the worker speaks the
// same protocol version, has the same functions with the same types and
// has the pool's codec; a worker that does not (a different build put in
// place of the executable, say) is not used, and the tasks that wait for it
// fail with an error wrapping [ErrHandshake].
//
// Results come back in the order they are ready, each fired on the pool's
// loop, so their callbacks run on the reactor goroutine. A [StreamFunc]
// yields many values for one call, delivered in order on the loop, with
// flow control: a worker runs only a window of values ahead of the caller.
//
// To map a function over many elements, register it with [RegisterMap],
// which registers its chunked form beside it. [MapFunc.Map] sends the
// elements many to a task, as multiprocessing's Pool.map does, sized from
// the time they take or as [WithChunkSize] says, and gathers the results
// in order; [MapFunc.CallChunked] gives each element a Deferred of its own
// while the calls made in one turn of the loop share a task, the body for a
// cooperate.Parallel loop over tiny elements. A Call per element, given to
// cooperate.Parallel or cooperate.Map, suits elements whose work outweighs
// a round trip.
//
// The wire is a pair of pipes per worker (its stdin and stdout; its stderr
// goes to the pool's logger, line by line) carrying length-prefixed frames
// of bounded size ([WithMaxFrame]). Each frame carries a request id, so that
// many tasks are in flight on one worker at once ([WithMaxInFlight]): that
// pipelining gives the throughput, a few microseconds per tiny task.
// Arguments and results are encoded with encoding/gob by default, one
// stream per direction so that type descriptions cross once; [WithCodec]
// plugs in another [Codec]. Where each message must decode alone, as
// through a broker (scheduler/remote), the gob codec's [MessageCodec] side
// keeps a stream per type behind the messages, so that describing the types
// in each costs little. A worker protects the stream from the code it
// runs: what a function prints on os.Stdout goes to stderr.
//
// Faults stay with the worker they happen in. A worker that dies fails the
// tasks it was running with a [*WorkerError] carrying its exit status and
// the tail of its stderr, and is replaced; queued tasks go to other workers.
// A worker that dies before its handshake had no task, so it fails none:
// the queue waits for the next one. Only starts that keep failing for a
// reason of the executable's own ([MaxStartFailures] in a row: it cannot be
// run, exits, crashes, refuses the handshake or does not answer) fail the
// queued tasks, with an error wrapping [ErrStart] that says so; a worker
// killed from outside before its handshake does not count.
// A worker that sends a malformed or oversized frame is killed ([ErrProtocol],
// [ErrFrameTooLarge]). A task that outlives its timeout has its worker
// killed ([ErrTimeout]); the other tasks running on that worker fail too
// ([ErrKilled]) rather than being run again, since a task may not be safe
// to repeat. A panic in a registered function fails only its task, with a
// *deferred.PanicError carrying the panic's text and the worker's stack.
// Cancelling a task's Deferred cancels the context its function receives,
// in the worker; a function that ignores it holds its worker only for a
// grace period ([WithCancelGrace]), after which the worker is stopped once
// its other tasks are done. [Pool.Close] drains the work it has accepted,
// within its context's deadline, then leaves no process and no goroutine
// behind. Task timeouts and cancel graces run on timers of the pool's own,
// not the loop's, so that a Close called on the loop, which then waits,
// does not wait for them in vain.
//
// Close the pool before its loop stops: with a reactor, from a
// before-shutdown trigger (see [Pool.Close]), so that every result reaches
// the loop. A pool refuses a loop that has stopped for good; if the loop
// stops while tasks run, their results cannot be delivered there, and
// Close fails their Deferreds with an error wrapping
// scheduler.ErrLoopStopped and says how many there were.
//
// Porting from ampoule and multiprocessing:
//
//	class C(child.AMPChild) with @Cmd.responder    process.Register(name, fn) in a package variable
//	ProcessPool(C, min, max, maxIdle, recycleAfter) NewPool(loop, WithMinWorkers(min), WithMaxWorkers(max),
//	                                                        WithIdleTimeout(maxIdle), WithRecycleAfter(n))
//	ProcessPool(..., timeout=t)                     WithTaskTimeout(t)
//	pp.start()                                      NewPool starts the minimum of workers
//	pp.doWork(Cmd, **kw)                            f.Call(pool, arg), a *deferred.Deferred[R]
//	pp.stop()                                       pool.Close(ctx), from a before-shutdown trigger
//	ProcessStarter(env=..., path=...)               WithEnv(kv...), WithDir(dir)
//	multiprocessing.Pool(n, maxtasksperchild=k)     NewPool(loop, WithMaxWorkers(n), WithRecycleAfter(k))
//	pool.apply_async(f, (x,))                       f.Call(pool, x)
//	pool.map(f, xs, chunksize=n)                    RegisterMap(name, fn) in a package variable, then
//	                                                m.Map(pool, seq, WithChunkSize(n)) (chunks sized for you without it)
//	pool.imap(f, xs, chunksize=n)                   cooperate.Parallel(c, seq, count, func(x A) *deferred.Deferred[R] {
//	                                                        return m.CallChunked(pool, x) }, each)
//	pool.map(f, xs, chunksize=1)                    f.Map(pool, seq): one element per task, a few per worker in flight
//	                                                (cooperate.Map(c, seq, count, func(x A) *deferred.Deferred[R] {
//	                                                        return f.Call(pool, x) }) to choose count yourself)
//	Celery's f.chunks(zip(xs), n)                   m.Map(remotePool, seq, WithLoop(loop), WithChunkSize(n)): Map takes any Runner
//	a generator, consumed with imap                 process.RegisterStream and StreamFunc.Stream
//
// Where it differs: the functions are registered Go functions, not classes
// of commands, and each worker runs its tasks concurrently, on goroutines,
// up to [WithMaxInFlight] at a time (use 1 for one task at a time per
// process, as multiprocessing does). Each worker runs with GOMAXPROCS 1 by
// default ([WithWorkerProcs]): parallelism comes from the number of workers.
// On Linux the workers run at the lowest priority, nice 19, by default
// ([WithWorkerNice]), so that workers busy on every processor do not hold
// the loop back when it wakes: the loop's own work comes first.
//
// Speed: with many calls in flight a worker answers each in a few
// microseconds. A lone call's round trip costs a pipe write and read each
// way. A worker with no task in flight, whose calls come close together,
// waits for the next one in a blocking read, as a plain program would,
// rather than in Go's poller, which costs more than a tiny call, and first
// spins for it, for up to 50 microseconds, reading and yielding its
// processor, when the parent has said that it will come at once (a call
// made by the loop's reading chain, below); a goroutine that a finished
// task left running may wait meanwhile until the runtime hands the worker's
// processor on (tens of microseconds to some milliseconds). Values of basic
// types cross without reflection (see [Gob]).
//
// In the parent, each worker's answers are read by a goroutine of its own,
// which hands them to the loop. On a machine with few cores that hand-off
// can cost more than the whole round trip: readying the loop's goroutine
// while a processor is idle makes the runtime wake another OS thread. So
// when the loop lends its idle time ([scheduler.IdleLoop]: the reactor
// does, on Linux), the calls made from the pool's own callbacks on the loop
// (a callback that makes the next call, the Twisted way) have their answers
// read by the loop's goroutine itself: when it has nothing else to do, it
// spins for the answer as the worker does for calls, then waits in the
// kernel for the worker's pipe, for at most 200 microseconds in all, and
// fires the Deferred as soon as the answer is in. When the loop is about
// to run other work, when the answers are slow, and when the pool closes,
// the reading goes back to the worker's goroutine; calls made from other
// goroutines are answered through it too. (The callbacks of the answers
// the loop reads run while it still reads: one that holds the loop for
// long holds back the answers of the calls it made, which could not run
// their callbacks before it returned anyway.) Neither side spins on a machine with one processor,
// after a wait longer than the spin, or for a while once their yields have
// found the processor busy with other threads. Compare BenchmarkRoundTrip,
// BenchmarkRoundTripWait and BenchmarkPipeEcho, and see
// BenchmarkRoundTripCPU for the processor time each side spends on a call.
package process
