"""Twisted side of the reactor comparison (go run ./bench -compare twisted runs it).

It measures, on this machine, what reactor/bench_test.go and the bench
command's timers and calls suites measure for twine, and prints one line per
figure, "name value unit", each a cost (lower is better):

    callfromthread            ns/call  one thread calls reactor.callFromThread
                                       N times; from the first call until the
                                       reactor has run the last (twine:
                                       BenchmarkCallSoon, metric ns/call)
    callfromthread_8threads   ns/call  the same, eight threads at once
                                       (BenchmarkCallSoon8Producers)
    defertothread_roundtrip   ns/op    from the reactor thread, deferToThread a
                                       function that returns at once and get its
                                       result back, one after the other
                                       (BenchmarkDeferToGoroutineRoundTrip)
    calllater_cancel          ns/op    on the reactor thread, callLater(1, f)
                                       and cancel() it (BenchmarkCallLaterCancel
                                       with pending=0)
    calllater_cancel_10k      ns/op    the same with 10,000 other calls pending,
                                       an hour away (pending=10000)
    timers_100k_cpu           ms/op    callLater 100,000 calls due at random in
                                       0-100 ms from the reactor thread, and run
                                       them all: processor time of the process
                                       per round (BenchmarkManyTimersCallLater,
                                       cpu-ms/op)
    timers_100k_wall          ms/op    the same round's wall time

Rates follow: calls/s = 1e9 / ns_per_call. Name scenarios on the command
line to run only those (timers_100k gives both of its figures). The first
round of a scenario follows an untimed one, which starts the thread pool
and warms the code up; the callLater scenarios find their loop count then,
and every round runs that count.

With --serve it is a server of rounds for go run ./bench -compare twisted
(see bench/python/bench_rounds.py): the reactor runs on the main thread,
and a thread reads the rounds asked for and has the reactor run each. By
hand it makes --repeat rounds (or $BENCH_REPEAT) of each scenario and
prints their medians. Run it with Debian's interpreter, which has
python3-twisted, with bench/python on PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/reactor_bench.py [--repeat N] [--calls N] [--trips N] [--target S] [NAME...]
"""

import argparse
import os
import random
import sys
import threading
import time

from twisted.internet import defer, reactor, threads

import bench_rounds


def call_from_thread(calls, nthreads):
    """Return a Deferred firing with ns per call for one run."""
    done = defer.Deferred()
    counter = [0]
    total = calls - calls % nthreads

    def inc():
        counter[0] += 1
        if counter[0] == total:
            done.callback(time.perf_counter_ns() - start[0])

    def produce(n):
        cft = reactor.callFromThread
        for _ in range(n):
            cft(inc)

    start = [time.perf_counter_ns()]
    workers = [
        threading.Thread(target=produce, args=(total // nthreads,))
        for _ in range(nthreads)
    ]
    for w in workers:
        w.start()

    def joined(elapsed):
        for w in workers:
            w.join()
        return elapsed / total

    return done.addCallback(joined)


def defer_to_thread_round_trip(trips):
    """Return a Deferred firing with ns per round trip for one run."""
    done = defer.Deferred()
    left = [trips]

    def work():
        return 1

    def step(_=None):
        if left[0] == 0:
            done.callback((time.perf_counter_ns() - start) / trips)
            return
        left[0] -= 1
        threads.deferToThread(work).addCallback(step)

    start = time.perf_counter_ns()
    step()
    return done


def _nothing():
    pass


def call_later_cancel(pending, target, counts):
    """ns per callLater + cancel on the reactor thread, with pending calls
    waiting; the loop count is found on the first round and kept in counts."""
    others = [reactor.callLater(3600 + i * 1e-6, _nothing) for i in range(pending)]
    done = defer.Deferred()

    def measure():
        # A turn of the reactor later, the pending calls are in its heap.
        call_later = reactor.callLater

        def run(number):
            start = time.perf_counter_ns()
            for _ in range(number):
                call_later(1, _nothing).cancel()
            return time.perf_counter_ns() - start

        number = counts.get(pending)
        if number is None:
            number = 1
            while run(number) < target * 1e9 / 5:
                number *= 2
            number = max(1, int(number * target * 1e9 / max(run(number), 1)))
            counts[pending] = number
        elapsed = run(number)
        for c in others:
            c.cancel()
        done.callback(elapsed / number)

    reactor.callLater(0, measure)
    return done


def many_timers(count):
    """Schedule count calls due at random in 0-100 ms and run them all.

    Fires with (processor ms, wall ms) of the round."""
    rng = random.Random(7)
    delays = [rng.random() * 0.1 for _ in range(count)]
    done = defer.Deferred()
    state = {"left": count, "last": 0.0}

    def ran(call):
        # Due order, as the Go side checks it.
        when = call[0].getTime()
        if when < state["last"]:
            raise AssertionError("a call due at %r ran after one due at %r" % (when, state["last"]))
        state["last"] = when
        state["left"] -= 1
        if state["left"] == 0:
            done.callback(
                ((time.process_time() - cpu0) * 1e3, (time.perf_counter() - wall0) * 1e3)
            )

    wall0, cpu0 = time.perf_counter(), time.process_time()
    call_later = reactor.callLater
    for d in delays:
        box = [None]
        box[0] = call_later(d, ran, box)
    return done


def rounds(args):
    """Return make_round(name) for bench_rounds: called from a thread other
    than the reactor's, it has the reactor make the round and waits."""
    counts = {}
    scenarios = {
        "callfromthread": ([("callfromthread", "ns/call")], lambda: call_from_thread(args.calls, 1)),
        "callfromthread_8threads": (
            [("callfromthread_8threads", "ns/call")],
            lambda: call_from_thread(args.calls, 8),
        ),
        "defertothread_roundtrip": (
            [("defertothread_roundtrip", "ns/op")],
            lambda: defer_to_thread_round_trip(args.trips),
        ),
        "calllater_cancel": ([("calllater_cancel", "ns/op")], lambda: call_later_cancel(0, args.target, counts)),
        "calllater_cancel_10k": (
            [("calllater_cancel_10k", "ns/op")],
            lambda: call_later_cancel(10_000, args.target, counts),
        ),
        "timers_100k": (
            [("timers_100k_cpu", "ms/op"), ("timers_100k_wall", "ms/op")],
            lambda: many_timers(100_000),
        ),
    }
    warmed = set()

    def make_round(name):
        if name not in scenarios:
            raise KeyError("unknown scenario %r (known: %s)" % (name, ", ".join(scenarios)))
        figures, run = scenarios[name]
        if name not in warmed:
            threads.blockingCallFromThread(reactor, run)  # thread pool started, code paths hot
            warmed.add(name)
        result = threads.blockingCallFromThread(reactor, run)
        values = result if isinstance(result, tuple) else (result,)
        return [(figure, value, unit) for (figure, unit), value in zip(figures, values)]

    return make_round, list(scenarios)


failed = False


def drive(args):
    """On a thread of its own: serve or report the rounds, then stop the reactor."""
    global failed
    try:
        make_round, known = rounds(args)
        unknown = [name for name in args.names if name not in known]
        if unknown:
            raise SystemExit("reactor_bench: unknown scenario %s (known: %s)" % (", ".join(unknown), ", ".join(known)))
        if args.serve:
            bench_rounds.serve(make_round)
        else:
            bench_rounds.report(make_round, args.names or known, args.repeat)
    except BaseException as e:
        print(f"reactor_bench: {e!r}", file=sys.stderr, flush=True)
        failed = True
    finally:
        reactor.callFromThread(reactor.stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "7")))
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--trips", type=int, default=5_000)
    parser.add_argument("--target", type=float, default=0.2, help="seconds per round of the callLater scenarios")
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args()
    driver = threading.Thread(target=drive, args=(args,), name="bench-rounds", daemon=True)
    reactor.callWhenRunning(driver.start)
    reactor.run(installSignalHandlers=False)
    sys.exit(1 if failed else 0)
