"""Twisted side of the Deferred comparison (go run ./bench -compare twisted runs it).

Each scenario is timed timeit-style: the loop count is chosen so that one
run takes about --target seconds, the run is repeated --repeat times, and
the median time per operation is printed, one line per scenario:

    name ns_per_op

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

Run it with Debian's interpreter, which has python3-twisted:

    /usr/bin/python3 bench/twisted/deferred_bench.py [--repeat N] [--no-gc] [NAME...]
"""

import argparse
import gc
import os
import statistics
import sys
import time

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
        raise SystemExit("deferred_bench: %s: got %r, want %r" % (name, results, want))


def _run(func, number):
    loop = range(number)
    start = time.perf_counter()
    for _ in loop:
        func()
    return time.perf_counter() - start


def measure(func, repeat, target):
    """Return the median seconds per call over repeat runs of about target seconds."""
    number = 1
    while True:  # as timeit.Timer.autorange: grow the loop until it is long enough
        if _run(func, number) >= target / 5:
            break
        number *= 2
    number = max(1, int(number * (target / max(_run(func, number), 1e-9))))
    return statistics.median(_run(func, number) / number for _ in range(repeat))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "7")),
        help="runs per scenario, the median is printed (default: $BENCH_REPEAT or 7)",
    )
    parser.add_argument("--target", type=float, default=0.2, help="seconds per run")
    parser.add_argument("--no-gc", action="store_true", help="disable the garbage collector while timing")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    known = [s[0] for s in SCENARIOS]
    for name in args.names:
        if name not in known:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(known)))
    selected = [s for s in SCENARIOS if not args.names or s[0] in args.names]

    for name, func, want in selected:
        check(name, func, want)  # also warms up
        gc.collect()
        if args.no_gc:
            gc.disable()
        try:
            seconds = measure(func, args.repeat, args.target)
        finally:
            gc.enable()
        print("%s %.1f" % (name, seconds * 1e9))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
