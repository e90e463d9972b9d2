// Package cooperate runs long loops in small time slices on an event loop, so
// that they never starve it: Twisted's twisted.internet.task module
// (Cooperator, cooperate, coiterate, CooperativeTask, LoopingCall,
// deferLater), on Go iterators.
//
// Use it when a loop on the reactor's goroutine would take too long to run in
// one go — walking a large data set, generating a long response, crunching
// numbers between network events — and you want timers and I/O callbacks to
// keep their pace while it runs, without moving the work to another
// goroutine (and its state behind locks).
//
// A [Cooperator] runs on any [scheduler.Loop]: the reactor, or a
// [scheduler.ManualClock] in tests. Its tasks are iterators. [Each] is the
// everyday entry point: it wraps a `for v := range seq { ... }` loop body.
// [Cooperator.Cooperate] and [Coiterate] take an iter.Seq[any] whose yielded
// Deferreds, of any element type, pause the task until they fire, as in
// Twisted. Tasks take turns
// round-robin within each slice; between slices the loop runs everything
// else. Each step costs a few nanoseconds: the Cooperator reads no clock and
// switches no coroutine per step, but suspends a task's iterator only when
// its slice or its turn ends.
//
// Beyond Twisted: tasks can be weighted ([Task.SetWeight]), slices can be
// sized to keep the loop's lag under a target ([WithAdaptive]), a slice on
// a loop that says other work waits for it (the reactor, with socket data
// ready, calls queued or timers due: a [scheduler.Yielder]) ends early,
// from 1 ms into it ([WithStrictSlices] keeps whole slices), Deferreds a
// task waits on may fire on any goroutine, and the steps can run on worker
// goroutines ([WithLanes]; see Lanes below).
//
// Where it differs from Twisted, on purpose: under a wall-time slice a turn
// lasts 100 µs to 1 ms of steps rather than one step, since switching tasks
// costs a coroutine switch ([WithTurnSteps](1) restores strict alternation;
// with [WithTerminator] turns are one step, as in Twisted). A task resumes
// from a Deferred it waited on at the loop's next turn rather than inside the
// Deferred's callback, so that it is safe whichever goroutine fires it.
// [Cooperator.Stop] fails paused and waiting tasks at once, not when they
// would next be resumed, and releases their iterators.
//
// # Lanes
//
// [WithLanes] moves the steps off the loop onto worker goroutines, the
// lanes (one per processor by default), for CPU-bound tasks that should use
// every core. Each lane runs slices of its own tasks exactly as the loop
// would: turns, weights and waits on Deferreds work the same, so a short
// task takes turns with long ones at once instead of waiting for them as in
// a first-in first-out pool. A new task goes to the least loaded lane, and a
// lane left with nothing to run takes a task from the busiest one, between
// two of its slices. The API does not change, and what the Cooperator hands
// out stays on the loop: Task methods are called there, and Done Deferreds
// fire there once the task's iterator has been released, so their callbacks
// may read what the steps wrote.
//
// The one thing to mind: with lanes, a task's iterator and step function run
// on a lane's goroutine, concurrently with the loop and with other tasks, so
// they must not touch state that belongs to the loop, nor call methods of
// the Cooperator or of a Task. One task's steps never run concurrently with
// each other, so what a single task owns needs no lock:
//
//	c := cooperate.New(r, cooperate.WithLanes(0)) // one lane per processor
//	sums := make([]uint32, len(files))
//	for i, data := range files {
//		task := cooperate.Each(c, chunks(data), func(b []byte) error {
//			sums[i] = crc32.Update(sums[i], crc32.IEEETable, b) // on a lane
//			return nil
//		})
//		task.Done().AddCallback(func(v struct{}) (struct{}, error) {
//			fmt.Println(i, sums[i]) // on the reactor: sums[i] is final
//			return v, nil
//		})
//	}
//	// ... and c.Stop() stops the lanes and waits for them.
//
// # Parallel loops
//
// [Parallel] and [Map] are Twisted's parallel(iterable, count, callable)
// idiom: a loop whose body hands each element to work done elsewhere (a
// worker process, a goroutine, a network call) and returns the Deferred of
// its result, with at most n elements in flight. The iterator is advanced by
// a task of the Cooperator, so a slow one takes turns with the loop's other
// work; results are handed over on the loop as they arrive ([Parallel]) or
// gathered in input order ([Map]). The first failure cancels what is in
// flight and releases the iterator, unless [CollectErrors] says to go on;
// cancelling the returned Deferred does the same; a [Progress] counts the
// elements for a progress bar:
//
//	c := cooperate.New(r)
//	sizes := cooperate.Map(c, slices.Values(urls), 8, func(url string) *deferred.Deferred[int] {
//		return reactor.DeferToGoroutine(r, func() (int, error) { return fetchSize(url) })
//	})
//
// For CPU work, [Run] is the body that hands each element to the lanes of a
// second Cooperator, a fixed set of goroutines, rather than a goroutine of
// its own:
//
//	lanes := cooperate.New(r, cooperate.WithLanes(0))
//	sums := cooperate.Map(c, slices.Values(blocks), 2*runtime.NumCPU(), func(b []byte) *deferred.Deferred[uint32] {
//		return cooperate.Run(lanes, func() (uint32, error) { return crc32.ChecksumIEEE(b), nil })
//	})
//
// [LoopingCall] calls a function every interval of a [scheduler.Clock];
// [DeferLater] calls one after a delay and hands its result in a Deferred.
//
// Nothing the package hands out is left waiting for ever: when the loop
// stops for good (the reactor's Run returns), unfinished tasks, LoopingCalls,
// DeferLaters and parallel loops fail with an error wrapping
// [scheduler.ErrLoopStopped]; and a function of yours that ends its
// goroutine with [runtime.Goexit] (as t.FailNow does) fails what it was
// doing with an error wrapping [ErrGoexit] before the goroutine ends. A step
// on a lane that does so ends no goroutine at all (see [Task]).
//
// Porting from Twisted:
//
//	Cooperator(terminationPredicateFactory, scheduler)  New(loop, WithTerminator(f), WithScheduler(s))
//	cooperate(iterator) / coiterate(iterator)           c.Cooperate(seq) / Coiterate(c, seq)
//	for x in xs: work(x); yield                         Each(c, xs, work)
//	parallel(iterable, count, callable)                 Parallel(c, seq, n, body, each) / Map(c, seq, n, body)
//	task.pause() / resume() / stop() / whenDone()       t.Pause() / Resume() / Stop() / Done()
//	TaskDone, TaskStopped, TaskFailed, NotPaused        ErrTaskDone, ErrTaskStopped, ErrTaskFailed, ErrNotPaused
//	SchedulerStopped                                    ErrSchedulerStopped
//	LoopingCall(f); lc.clock = clock; lc.start(i, now)  NewLoopingCall(clock, f).Start(i, now)
//	LoopingCall.withCount(f)                            NewLoopingCallWithCount(clock, f)
//	deferLater(clock, delay, f)                         DeferLater(clock, delay, f)
//
// An example, on a ManualClock so that it is deterministic; with the reactor,
// pass it instead of the clock and run the reactor:
//
//	clock := scheduler.NewManualClock()
//	c := cooperate.New(clock)
//	sum := 0
//	task := cooperate.Each(c, slices.Values(numbers), func(n int) error {
//		sum += n
//		return nil
//	})
//	task.Done().AddCallback(func(struct{}) (struct{}, error) {
//		fmt.Println("sum:", sum)
//		return struct{}{}, nil
//	})
//	clock.Advance(time.Millisecond) // one slice: 10 ms of wall time at most
package cooperate
