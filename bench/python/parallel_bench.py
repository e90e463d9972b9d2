"""Python's multiprocessing side of the bench command's parallel suite.

`go run ./bench` runs this script, when python3 is there, once per run of
each scenario of the parallel suite that has a Python baseline, right after
twine's run of it, so that the two are measured in turns. It prints one line,
"name value unit": the cost per element of one scenario, with a pool of
--workers worker processes (2 by default) and a function that returns its
argument.

    map_auto   us/element  pool.map(f, range(N)): the automatic chunksize,
                           results gathered in order (twine: MapFunc.Map)
    imap_256   us/element  list(pool.imap(f, range(N), chunksize=256)):
                           results handed over one by one
    imap_1     us/element  the same with chunksize 1: a message per element
                           (twine: a Func.Call per element)

The pool is started, and its workers warmed up, before the clock starts;
the start method is the platform's default (fork on Linux). Plain python3
does: multiprocessing is in the standard library.

    python3 bench/python/parallel_bench.py NAME [--n N] [--workers W]
"""

import argparse
import multiprocessing
import time


def identity(x):
    return x


def map_auto(pool, n):
    return pool.map(identity, range(n))


def imap_256(pool, n):
    return list(pool.imap(identity, range(n), chunksize=256))


def imap_1(pool, n):
    return list(pool.imap(identity, range(n), chunksize=1))


SCENARIOS = {"map_auto": map_auto, "imap_256": imap_256, "imap_1": imap_1}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(SCENARIOS))
    parser.add_argument("--n", type=int, default=200_000, help="elements mapped")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    run = SCENARIOS[args.name]
    with multiprocessing.Pool(args.workers) as pool:
        # Every worker up and warm: more than one chunk per worker.
        run(pool, 4096)
        start = time.perf_counter_ns()
        result = run(pool, args.n)
        elapsed = time.perf_counter_ns() - start
    if len(result) != args.n or result[-1] != args.n - 1:
        raise SystemExit(f"{args.name}: wrong result")
    print(f"{args.name} {elapsed / args.n / 1e3:.4f} us/element", flush=True)


if __name__ == "__main__":
    main()
