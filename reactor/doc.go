// Package reactor is twine's event loop: Twisted's reactor, for Go.
//
// A [Reactor] runs every callback on one goroutine, the reactor goroutine,
// which [Reactor.Run] starts and waits for, so the state that callbacks
// share needs no locks. Other
// goroutines hand it work with [Reactor.CallSoon] (Twisted's callFromThread)
// and [Reactor.CallLater] (callLater); [DeferToGoroutine] (deferToThread)
// runs a blocking function on a bounded set of goroutines and delivers its
// result on the reactor as a [deferred.Deferred]; [BlockingCall]
// (blockingCallFromThread) goes the other way, from a goroutine into the
// reactor and back. [React] (task.react) runs a reactor for the length of one
// task.
//
// Use it to write programs in Twisted's style: one goroutine owns the state,
// callbacks and Deferreds carry results that arrive later, and long loops
// run in slices through package cooperate, which runs on any
// [scheduler.Loop], the Reactor included.
//
//	err := reactor.React(func(r *reactor.Reactor) *deferred.Deferred[struct{}] {
//		d := reactor.DeferToGoroutine(r, fetch) // fetch blocks; the reactor does not
//		return deferred.Then(d, func(page string) (struct{}, error) {
//			fmt.Println(len(page)) // on the reactor goroutine
//			return struct{}{}, nil
//		})
//	}, reactor.WithSignals())
//
// Start-up and shutdown are orderly, as in Twisted: [Reactor.Run] fires the
// startup event and [Reactor.Stop] the shutdown event, each in three phases
// (before, during, after) of [Reactor.AddSystemEventTrigger] triggers;
// shutdown waits, within [WithShutdownTimeout], for the Deferreds that its
// before triggers return. A reactor with nothing to do waits until it is
// stopped, as Twisted's does.
//
// Unlike Twisted's reactor.run, a reactor does not catch SIGINT and SIGTERM
// unless asked: [WithSignals] turns them into Stop. Signal handling belongs
// to the whole process, and a library that took Ctrl-C over unasked would
// stop its reactor while the rest of the program ran on; signals also
// cannot reach the testing/synctest bubbles reactors are tested in. A
// program that lives for its reactor, as Twisted's do, passes WithSignals,
// as the example above does.
//
// Beyond Twisted, the reactor watches itself: a watchdog ([WithWatchdog])
// logs a callback that holds the loop too long, with the reactor goroutine's
// stack, while it still runs; [Reactor.Stats] reports the loop's lag,
// measured by the loop, and its queues. An idle reactor sleeps: nothing
// polls.
//
// It runs on real time or, in tests, inside a [testing/synctest] bubble,
// where time is fake and moves only when every goroutine waits: create and
// run the reactor inside the bubble. For code that needs only a
// [scheduler.Loop], [scheduler.ManualClock] is simpler still.
package reactor
