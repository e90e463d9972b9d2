"""Twisted side of the reactor comparison.

It measures, on this machine, what reactor/bench_test.go measures for twine,
and prints one line per scenario, "name value unit", each figure the median
of --repeat runs (or BENCH_REPEAT), and a cost (lower is better):

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

Rates follow: calls/s = 1e9 / ns_per_call.

Run it with Debian's interpreter, which has python3-twisted:

    /usr/bin/python3 bench/twisted/reactor_bench.py [--repeat N] [--calls N] [--trips N]
"""

import argparse
import os
import statistics
import threading
import time

from twisted.internet import defer, reactor, threads


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


@defer.inlineCallbacks
def main(args):
    try:
        scenarios = [
            ("callfromthread", "ns/call", lambda: call_from_thread(args.calls, 1)),
            ("callfromthread_8threads", "ns/call", lambda: call_from_thread(args.calls, 8)),
            ("defertothread_roundtrip", "ns/op", lambda: defer_to_thread_round_trip(args.trips)),
        ]
        for name, unit, run in scenarios:
            yield run()  # warm up: thread pool started, code paths hot
            figures = []
            for _ in range(args.repeat):
                figures.append((yield run()))
            print(f"{name} {statistics.median(figures):.1f} {unit}", flush=True)
    finally:
        reactor.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "7")))
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--trips", type=int, default=5_000)
    args = parser.parse_args()
    reactor.callWhenRunning(main, args)
    reactor.run()
