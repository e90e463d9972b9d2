// Package scheduler holds the contracts that the rest of twine runs on:
// [Clock] (Twisted's IReactorTime), [Call] (Twisted's IDelayedCall) and
// [Loop] (a Clock that also runs functions soon, one at a time).
//
// It is the lowest layer of twine and imports none of the others.
//
// Besides the contracts it holds the one timer queue of twine, [Timers],
// which the reactor and [ManualClock] share, and [ManualClock] itself:
// Twisted's task.Clock, a [Loop] whose time moves only when a test calls
// [ManualClock.Advance], so code that schedules calls can be tested without
// waiting and without flakiness:
//
//	clock := scheduler.NewManualClock()
//	clock.CallLater(time.Second, func() { fmt.Println("tick") })
//	clock.Advance(time.Second) // prints "tick"
//
// A loop may stop for good, as the reactor does when its Run returns: a
// [StoppableLoop] says so, and a [StopNotifier] tells the code bound to it,
// which then fails what it still owes with [ErrLoopStopped] rather than
// leave it waiting for ever.
//
// A loop may also lend its idle time: an [IdleLoop] (the reactor is one)
// lets an [Idler] wait for events of its own on the loop's goroutine, in
// place of the loop's sleep. The worker-process pools of scheduler/process
// use it to have the loop's thread read their workers' answers itself.
package scheduler
