"""Twisted side of the Deferred comparison (go run ./bench -compare twisted runs it).

Each scenario is timed timeit-style: the loop count is chosen once, on the
first round, so that a round takes about --target seconds, and every round
runs that count. Each round prints the time per operation:

    name ns_per_op ns/op

The scenarios mirror the Go benchmarks in deferred/bench_test.go:

    create_addcallback_callback  Deferred(), addCallback, callback
    chain10                      Deferred(), 10 x addCallback, callback
    errback_path                 Deferred(), addCallback (skipped), addErrback
                                 (handles), errback(failure) with one Failure
                                 built beforehand, as the Go side fires one
                                 error value made beforehand
    errback_path_new_failure     the same, building Failure(exc) inside the
                                 operation, as Twisted code does each time an
                                 exception is caught (for reference; the Go
                                 side has no counterpart)
    gather_results_1000          1,000 succeed() Deferreds (already fired),
                                 gatherResults over them, a callback on the
                                 result; creating the 1,000 is part of the op
    inline_callbacks_10_awaits   an inlineCallbacks function that yields 10
                                 already-fired Deferreds (succeed()), so it
                                 never suspends

The garbage collector stays enabled while timing (unlike timeit's default),
since Go's figures include its collector's cost; pass --no-gc to time with
it disabled.

With --serve it is a server of rounds for go run ./bench -compare twisted
(see bench/python/bench_rounds.py); by hand it makes --repeat rounds of
each scenario and prints their medians. Run it with Debian's interpreter,
which has python3-twisted, with bench/python on PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/deferred_bench.py [--repeat N] [--no-gc] [NAME...]
"""

import argparse
import gc
import os
import sys
import time

import bench_rounds

from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks, succeed
from twisted.python.failure import Failure


def _identity(value):
    return value


def _increment(value):
    return value + 1


def create_addcallback_callback():
    d = Deferred()
    d.addCallback(_identity)
    d.callback(1)
    return d


def chain10():
    d = Deferred()
    for _ in range(10):
        d.addCallback(_increment)
    d.callback(0)
    return d


class _BenchError(Exception):
    pass


_ERROR = _BenchError("bench: failure")


def _handled(failure):
    return 0


# A handled Failure is left untouched by the chain, so one can be fired again.
_FAILURE = Failure(_ERROR)


def errback_path():
    d = Deferred()
    d.addCallback(_increment)
    d.addErrback(_handled)
    d.errback(_FAILURE)
    return d


def errback_path_new_failure():
    d = Deferred()
    d.addCallback(_increment)
    d.addErrback(_handled)
    d.errback(Failure(_ERROR))
    return d


def gather_results_1000():
    ds = [succeed(i) for i in range(1000)]
    d = gatherResults(ds)
    d.addCallback(len)
    return d


@inlineCallbacks
def _ten_awaits():
    total = 0
    for i in range(10):
        total += yield succeed(i)
    return total


def inline_callbacks_10_awaits():
    d = _ten_awaits()
    d.addCallback(_identity)
    return d


# name, operation, the result its Deferred must hold (checked once before timing)
SCENARIOS = [
    ("create_addcallback_callback", create_addcallback_callback, 1),
    ("chain10", chain10, 10),
    ("errback_path", errback_path, 0),
    ("errback_path_new_failure", errback_path_new_failure, 0),
    ("gather_results_1000", gather_results_1000, 1000),
    ("inline_callbacks_10_awaits", inline_callbacks_10_awaits, 45),
]


def check(name, func, want):
    """Run func once and make sure its Deferred fired with want."""
    results = []
    func().addBoth(results.append)
    if results != [want]:
        raise ValueError("deferred_bench: %s: got %r, want %r" % (name, results, want))


def _run(func, number):
    loop = range(number)
    start = time.perf_counter()
    for _ in loop:
        func()
    return time.perf_counter() - start


def calibrate(func, target):
    """Return the loop count that makes a round last about target seconds."""
    number = 1
    while True:  # as timeit.Timer.autorange: grow the loop until it is long enough
        if _run(func, number) >= target / 5:
            break
        number *= 2
    return max(1, int(number * (target / max(_run(func, number), 1e-9))))


class Scenario:
    """A scenario's rounds: the first checks its result, which warms it up,
    and finds the loop count that every round runs."""

    def __init__(self, name, func, want, target, no_gc):
        self.name, self.func, self.want = name, func, want
        self.target, self.no_gc = target, no_gc
        self.number = None

    def round(self):
        if self.number is None:
            check(self.name, self.func, self.want)
            self.number = calibrate(self.func, self.target)
        gc.collect()
        if self.no_gc:
            gc.disable()
        try:
            seconds = _run(self.func, self.number) / self.number
        finally:
            gc.enable()
        return [(self.name, seconds * 1e9, "ns/op")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "7")),
        help="rounds per scenario, the median is printed (default: $BENCH_REPEAT or 7)",
    )
    parser.add_argument("--target", type=float, default=0.2, help="seconds per round")
    parser.add_argument("--no-gc", action="store_true", help="disable the garbage collector while timing")
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    known = [s[0] for s in SCENARIOS]
    for name in args.names:
        if name not in known:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(known)))
    scenarios = {name: Scenario(name, func, want, args.target, args.no_gc) for name, func, want in SCENARIOS}

    def make_round(name):
        if name not in scenarios:
            raise KeyError("unknown scenario %r (known: %s)" % (name, ", ".join(known)))
        return scenarios[name].round()

    if args.serve:
        bench_rounds.serve(make_round)
    else:
        bench_rounds.report(make_round, args.names or known, args.repeat)


if __name__ == "__main__":
    main()
