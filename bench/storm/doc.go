// Command storm runs the long storm: a worker-process pool of
// scheduler/process under a steady rain of SIGKILLs, with worker recycling,
// and it counts what became of every task. It is the pool's reliability
// check at a scale that CI cannot afford (the package's TestChaos is its
// small, CI-sized sibling).
//
// It calls a tiny registered function (a square) once per task, from the
// reactor, keeping a window of calls outstanding, while a killer goroutine
// kills one of every -early workers as soon as it shows up in the pool
// (which is most often before its handshake) and, every -every, a random
// worker that has answered tasks. It then closes the pool, stops the
// reactor and prints the tallies:
//
//   - tasks, and kills, split by when they landed as the pool saw it (its
//     log says whether a worker ended before or after its handshake), and
//     those that found the worker already gone;
//   - fired once, lost (never fired), fired twice (a callback run twice,
//     or a second firing that the reactor caught as a panic);
//   - succeeded and failed, and why they failed: a task may fail only with
//     the *process.WorkerError of a worker that the storm killed while the
//     task was on it.
//
// It exits with status 1 if any task was lost or fired twice, if any task
// failed for another reason (a task never sent to a dying worker must
// succeed), or if Close failed; with status 2 for bad flags.
//
// Usage:
//
//	go run ./bench/storm                  # 100,000 tasks, 8 workers, a kill every 2 ms, 1 start in 2 killed
//	go run ./bench/storm -tasks 1000000 -every 1ms -early 3
//	go run ./bench/storm -h                       # the flags
//
// The command starts itself again as the pool's workers, so it calls
// process.Main first thing. It needs a Unix system (it sends signals).
package main
