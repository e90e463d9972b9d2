// Command bench measures twine, side by side with plain Go and, on request,
// with Twisted, and writes what it found as a table, as JSON for tools and as
// an HTML report with charts.
//
// It runs scenario suites, each scenario several times (-runs, default 5),
// twine's way right before plain Go's way where Go has one, so that drift in
// the machine's speed hits both alike; the table shows the medians and the
// ratios between them:
//
//   - deferred: creating and firing a Deferred, a chain of 10 callbacks, the
//     errback path, All over 1,000 Deferreds, Async with 10 awaits;
//   - timers: CallLater and Cancel against time.AfterFunc and Stop, and
//     100,000 timers due at random;
//   - calls: CallSoon from one and from eight goroutines (Twisted's
//     callFromThread), DeferToGoroutine round trips (deferToThread);
//   - cooperate: a step of Each and of Cooperate against the plain loop;
//   - lag: how late the reactor runs a 1 ms timer while four tasks of 20 µs
//     steps share it: without cooperation, with cooperate.Each's default
//     10 ms slices, and with slices sized for a 1 ms lag;
//   - pools: a round trip to a worker process against a bare pipe echo,
//     tiny calls with many in flight, and CPU-bound tasks spread over two
//     workers against running them one after the other;
//   - parallel: loops over many elements in two worker processes: tiny
//     elements mapped in chunks (process.MapFunc.Map), with a Deferred per
//     element (cooperate.Parallel over CallChunked) and with a frame per
//     element, against Python's multiprocessing; and elements of 200 µs of
//     CPU through cooperate.Parallel over two worker processes and over
//     goroutines, against cooperate.Each on the reactor, with the reactor's
//     lag while they run;
//   - remote: scheduler/remote through the RabbitMQ broker (TWINE_AMQP_URL,
//     or the local one): tiny calls with many in flight and the round trip,
//     against a bare amqp091-go program that pays only for the same
//     delivery guarantees, and, where Debian's python3-celery is
//     installed, against Celery (bench/celery). Without a broker the
//     suite is left out with a note. The long runs under faults are a
//     command of their own, go run ./bench/remotefaults.
//
// The command starts itself again as the pools' worker processes, so it
// calls process.Main first thing.
//
// With -compare twisted it also runs the scripts under bench/twisted, which
// measure the same scenarios in Twisted (they need Python 3 with Twisted,
// Debian's python3-twisted, found at /usr/bin/python3 or -python), and puts
// Twisted's figure, twine's and their ratio side by side. Without Twisted it
// says why and goes on without that column.
//
// The pools have no Twisted column. bench/python/multiprocessing_bench.py
// measures their round trip and throughput in Python's multiprocessing
// instead, beside scheduler/process's own benchmarks; the command does not
// run it: run it with python3, whose standard library is all it needs. The
// parallel suite's baselines are Python's multiprocessing too:
// bench/python/parallel_bench.py, which the command runs ($PYTHON, or
// python3 on the PATH) right after each of twine's runs, so that both are
// measured in turns; without python3 it says so in one line and leaves
// those baselines out.
//
// Usage:
//
//	go run ./bench                      # every suite, 5 runs, about 2 minutes
//	go run ./bench -compare twisted     # and Twisted, about 3 minutes
//	go run ./bench -quick               # short runs for CI, under a minute
//	go run ./bench -suite deferred,lag  # some suites only; -list names them
//	go run ./bench -out /tmp/bench      # where results.json and report.html go
//
// Progress goes to standard error, the table to standard output. A ratio
// says how many times better twine does than the other side: above 1 it is
// faster (or, for a throughput, gets more done), below 1 slower.
//
// This machine's figures are as noisy as its load: compare ratios measured
// in one run rather than figures of different runs. The command needs a
// Unix system (it reads processor time with getrusage).
package main
