// Command bench measures twine, side by side with plain Go and, on request,
// with Twisted, and writes what it found as a table, as JSON for tools and as
// an HTML report with charts.
//
// It runs scenario suites:
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
//   - net: an echo server over loopback TCP (against a goroutine per
//     connection and Twisted's), bulk transfer (against io.Copy) and idle
//     connections, on the reactor's network engine;
//   - framing: LineReceiver and Int32StringReceiver cutting a stream that
//     comes in 4 KiB chunks into messages, against bufio.Scanner;
//   - parallel: loops over many elements in two worker processes: tiny
//     elements mapped in chunks (process.MapFunc.Map), with a Deferred per
//     element (cooperate.Parallel over CallChunked) and with a frame per
//     element, against Python's multiprocessing; and elements of 200 µs of
//     CPU mapped over two worker processes (MapFunc.Map) and through
//     cooperate.Parallel over two goroutine lanes (cooperate.Run), against
//     cooperate.Each on the reactor, with the reactor's lag while they run,
//     and over the processes in chunks and a call per element against
//     their floor, plain Go driving two child processes with the same
//     messages;
//   - remote: scheduler/remote through the RabbitMQ broker (TWINE_AMQP_URL,
//     or the local one): tiny calls with many in flight and the round trip,
//     against a bare amqp091-go program that pays only for the same
//     delivery guarantees, and, where Debian's python3-celery is
//     installed, against Celery (bench/celery). Without a broker the
//     suite is left out with a note. Its sides take the broker as its
//     tests do, so that a test that restarts the broker waits for them.
//     The long runs under faults are a command of their own, go run
//     ./bench/remotefaults.
//
// # Rounds, spread and rank
//
// A scenario has up to three sides: twine's way of doing it, plain Go's way
// where Go has one (the baseline), and a script that measures the same
// outside Go (Twisted's, with -compare twisted). Each side is set up once
// per scenario (a reactor, a pool of workers, a child process), then the
// command makes -runs rounds of each, interleaved: round i of every side
// before round i+1 of any, the side that starts a turn rotating. A change in
// the machine's load during the scenario so hits every side alike.
//
// A side's first round calibrates it, as testing.B does: it finds how many
// operations last -time, and every later round runs exactly that many, so
// that all the rounds of a side measure the same work. The first round of
// one operation only warms up, and a round that reaches -time only because
// it stalled does not end the calibration; a stall then adds to one round
// no more than its length over -time.
//
// The table shows, for each side, the median of its rounds and their
// spread (±: half their range, in percent of the median), and the ratios
// between twine's median and the others'. A ratio is marked "?", too noisy
// to rank, when the two sides' rounds overlap (some round of the side that
// does worse did better than some round of the other), or when either side
// has fewer than three rounds: that run cannot say which side does better.
// The command also reads the machine's load average before the first
// scenario and after each one, shows it per scenario, and says loudly when
// it was above the number of processors: other programs then took
// processor time from the rounds.
//
// The command starts itself again as the pools' worker processes, so it
// calls process.Main first thing.
//
// # Comparisons
//
// With -compare twisted it also runs the scripts under bench/twisted, which
// measure the same scenarios in Twisted (they need Python 3 with Twisted,
// Debian's python3-twisted, found at /usr/bin/python3 or -python). Without
// Twisted it says why and goes on without that column. The pools have no
// Twisted column: bench/python/multiprocessing_bench.py measures their
// round trip and throughput in Python's multiprocessing instead, beside
// scheduler/process's own benchmarks, when run by hand with python3.
//
// The parallel suite's baselines are Python's multiprocessing too, without
// -compare: bench/python/parallel_bench.py, which the command runs
// ($PYTHON, or python3 on the PATH) as a round of the baseline, in turn
// with twine's rounds; without python3 it says so in one line and leaves
// those baselines out.
//
// # Adding a suite
//
// A suite is a function returning a suite value, in a file of its own
// (suite_NAME.go), listed in allSuites. Each scenario names its metrics
// (timeMetric for the usual time per unit of work) and its sides:
//
//   - twine, and baseline with baselineName: starters, which set the side
//     up for the scenario's rounds and return its round function and, if
//     something must be stopped, its close function. micro(op) is the
//     usual one: it times op, a function doing n operations, with a meter
//     that calibrates on the first round. withReactor(body) starts a
//     reactor for the rounds and gives body a meter. A baseline may start
//     any program (a bare client, a child process) as long as it is
//     stopped in close.
//   - other: a round of a script that measures the same outside Go, in the
//     language and library twine is compared with.
//
// A scenario with a script beside it reads:
//
//	twisted := &script{comparison: "twisted", file: "twisted/echo_bench.py"}
//	scenario{
//		name:         "echo",
//		doc:          "a line echoed over loopback TCP, one at a time",
//		metrics:      []metric{timeMetric("op", "echo_roundtrip")},
//		twine:        withReactor(echoRoundTrip),
//		baseline:     micro(perOp(1, netEcho)),
//		baselineName: "net.Conn",
//		other:        twisted.round("echo_roundtrip"),
//	}
//
// The script lives under bench/ in the directory of its comparison, which
// the scripts variable embeds, and imports bench_rounds
// (bench/python/bench_rounds.py, written beside it and put on PYTHONPATH).
// It names a function that makes one round of a scenario and returns its
// figures, a list of (name, value, unit) such as
// ("echo_roundtrip", 41000.0, "ns/op"), and passes it to
// bench_rounds.serve when run with --serve, or to bench_rounds.report when
// run by hand. The function warms a scenario up before its first round and
// makes every round of it measure the same work. The units are "ns",
// "us", "ms" or "s", per the metric's unit of work ("ms/op"), or "%"; the
// command converts them. Under --serve the script answers the rounds the
// command asks for, one at a time, between twine's and plain Go's: the
// protocol is in bench_rounds.py's doc.
//
// A comparison with another library beside Twisted is an entry
// in the comparisons list of compare.go: the name -compare takes, the
// column's title, the Python module its scripts need and how to install it.
// Its scripts then name it in their script value. A scenario runs without
// its other side when the comparison was not asked for or cannot run, so
// the command and CI need none of them.
//
// # Usage
//
//	go run ./bench                      # every suite, 5 rounds of each side
//	go run ./bench -compare twisted     # and Twisted: minutes, more on a loaded machine
//	go run ./bench -quick               # short rounds, as CI makes them
//	go run ./bench -suite deferred,lag  # some suites only; -list names them
//	go run ./bench -suite parallel/cpu_processes  # one scenario of a suite
//	go run ./bench -out /tmp/bench      # where results.json and report.html go
//
// Progress goes to standard error, the table to standard output. A ratio
// says how many times better twine does than the other side: above 1 it is
// faster (or, for a throughput, gets more done), below 1 slower.
//
// This machine's figures are as noisy as its load: compare the ratios a run
// ranks, rather than figures of different runs. The command needs a Unix
// system (it reads processor time with getrusage), and reads the load
// average from Linux's /proc/loadavg.
package main
