"""Twisted side of the Cooperator per-step comparison (go run ./bench -compare twisted runs it).

Measures what one step of a cooperative task costs in Twisted's Cooperator:
tasks are endless generators that yield None, run by a Cooperator with its
default termination predicate (10 ms slices of wall time, time.time() asked
after every step) and a scheduler that runs each slice as soon as the last
one ends, with nothing in between, so that only the Cooperator is timed.
The time of a run of slices is divided by the number of steps taken.

Scenarios, mirroring BenchmarkCooperate1 and BenchmarkCooperate100 in
cooperate/bench_test.go and the bench command's cooperate suite:

    cooperate_1_task     one task
    cooperate_100_tasks  100 tasks taking turns
    coiterate_trivial    one task that walks a list of 2**20 values and calls
                         a function that adds each to a sum, yielding after
                         each call: Twisted's way of writing the loop that
                         cooperate.Each wraps (the bench command's
                         cooperate/each_trivial)

Each round runs --slices slices, after one untimed slice that warms the
tasks up, and prints one line:

    name ns_per_step ns/step

With --serve it is a server of rounds for go run ./bench -compare twisted
(see bench/python/bench_rounds.py); by hand it makes --repeat rounds of
each scenario and prints their medians. Run it with Debian's interpreter,
which has python3-twisted, with bench/python on PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/cooperate_bench.py [--repeat N] [--slices N] [NAME...]
"""

import argparse
import os
import time

from twisted.internet.task import Cooperator

import bench_rounds


class _Call:
    """The delayed call the scheduler hands back; cancelling drops the slice."""

    def __init__(self, func):
        self.func = func
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class _Scheduler:
    """Runs the slices the Cooperator asks for, one after the other."""

    def __init__(self):
        self.pending = []

    def __call__(self, func):
        call = _Call(func)
        self.pending.append(call)
        return call

    def run_one(self):
        while self.pending:
            call = self.pending.pop(0)
            if not call.cancelled:
                call.func()
                return


def _task(counter):
    while True:
        counter[0] += 1
        yield None


_VALUES = [0] * (1 << 20)
_SUM = [0]


def _add(value):
    _SUM[0] += value


def _each(counter):
    # The body of a "for value in values: f(value)" loop, one step a value.
    while True:
        for value in _VALUES:
            _add(value)
            counter[0] += 1
            yield None


def run(tasks, slices, make=_task):
    """Seconds per step over a run of slices with the given number of tasks."""
    scheduler = _Scheduler()
    coop = Cooperator(scheduler=scheduler)
    counter = [0]
    for _ in range(tasks):
        coop.cooperate(make(counter))
    scheduler.run_one()  # warm up
    counter[0] = 0
    start = time.perf_counter()
    for _ in range(slices):
        scheduler.run_one()
    elapsed = time.perf_counter() - start
    steps = counter[0]
    coop.stop()
    return elapsed / steps


SCENARIOS = [
    ("cooperate_1_task", 1, _task),
    ("cooperate_100_tasks", 100, _task),
    ("coiterate_trivial", 1, _each),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "7")),
        help="rounds per scenario, the median is printed (default: $BENCH_REPEAT or 7)",
    )
    parser.add_argument("--slices", type=int, default=20, help="10 ms slices per round (default 20)")
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    scenarios = {name: (tasks, make) for name, tasks, make in SCENARIOS}
    for name in args.names:
        if name not in scenarios:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(scenarios)))

    def make_round(name):
        if name not in scenarios:
            raise KeyError("unknown scenario %r (known: %s)" % (name, ", ".join(scenarios)))
        tasks, make = scenarios[name]
        return [(name, run(tasks, args.slices, make) * 1e9, "ns/step")]

    if args.serve:
        bench_rounds.serve(make_round)
    else:
        bench_rounds.report(make_round, args.names or list(scenarios), args.repeat)


if __name__ == "__main__":
    main()
