"""Python's multiprocessing side of the process pool comparison.

It measures, on this machine, what scheduler/process/bench_test.go measures
for twine's process pool, and prints one line per scenario, "name value
unit", each figure the median of --repeat runs (or BENCH_REPEAT), and a cost
(lower is better):

    apply_roundtrip        us/task  one tiny task at a time: pool.apply(square,
                                    (7,)) N times in a row, with one worker
                                    process (twine: BenchmarkRoundTrip and
                                    BenchmarkRoundTripWait)
    map_chunksize1_w1      us/task  many tiny tasks in flight: pool.map(square,
                                    range(N), chunksize=1), one task per
                                    message as twine sends them, with 1 worker
                                    (BenchmarkThroughput/workers=1)
    map_chunksize1_w2      us/task  the same with 2 workers (workers=2)
    map_chunksize1_w4      us/task  the same with 4 workers (workers=4)

The pools are started, and their workers warmed up, before the clock starts.
The start method is the platform's default (fork on Linux). Name scenarios
on the command line to run only those.

Plain python3 does: multiprocessing is in the standard library.

    python3 bench/python/multiprocessing_bench.py [--repeat N] [--calls N] [--tasks N] [NAME...]
"""

import argparse
import multiprocessing
import os
import statistics
import time


def square(n):
    return n * n


def apply_roundtrip(calls):
    """Return microseconds per pool.apply round trip, one worker."""
    with multiprocessing.Pool(1) as pool:
        for i in range(100):
            pool.apply(square, (i,))
        start = time.perf_counter_ns()
        for _ in range(calls):
            pool.apply(square, (7,))
        elapsed = time.perf_counter_ns() - start
    return elapsed / calls / 1e3


def map_chunksize1(tasks, workers):
    """Return microseconds per task of pool.map with chunksize 1."""
    with multiprocessing.Pool(workers) as pool:
        pool.map(square, range(1000), chunksize=1)
        start = time.perf_counter_ns()
        result = pool.map(square, range(tasks), chunksize=1)
        elapsed = time.perf_counter_ns() - start
    assert result[-1] == (tasks - 1) ** 2
    return elapsed / tasks / 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "7")))
    parser.add_argument("--calls", type=int, default=20000, help="round trips per apply run")
    parser.add_argument("--tasks", type=int, default=100000, help="tasks per map run")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()

    scenarios = {
        "apply_roundtrip": lambda: apply_roundtrip(args.calls),
        "map_chunksize1_w1": lambda: map_chunksize1(args.tasks, 1),
        "map_chunksize1_w2": lambda: map_chunksize1(args.tasks, 2),
        "map_chunksize1_w4": lambda: map_chunksize1(args.tasks, 4),
    }
    for name in args.names:
        if name not in scenarios:
            parser.error(f"unknown scenario {name!r}; known: {', '.join(scenarios)}")
    for name, run in scenarios.items():
        if args.names and name not in args.names:
            continue
        runs = [run() for _ in range(args.repeat)]
        print(f"{name} {statistics.median(runs):.2f} us/task", flush=True)


if __name__ == "__main__":
    main()
