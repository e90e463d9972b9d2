"""Twisted side of the Cooperator lag comparison (go run ./bench -compare twisted runs it).

Four tasks whose steps compute for 20 us run on Twisted's reactor for
--duration seconds (default 3), beside a 1 ms callLater probe that re-arms
itself; how late the probe runs is the reactor's lag. Two modes, named on
the command line (default: cooperate):

    cooperate  the tasks are cooperative, under Twisted's default
               Cooperator: 10 ms slices, time.time() asked after every step.
               Mirrors BenchmarkLagDefault in cooperate/lag_bench_test.go
               and the bench command's lag/cooperate.
    blocking   without cooperation: each task is one plain loop of steps
               that lasts a quarter of --duration, run in one reactor
               callback; the next task's loop is scheduled when one ends,
               so the probe runs between two loops. Mirrors the bench
               command's lag/blocking.

It prints, one per line, "name value unit", for each mode MODE:

    MODE_lag_p50         median lag of the probe, ms
    MODE_lag_p99         99th percentile lag, ms
    MODE_lag_max         largest lag, ms
    MODE_lag_throughput  the tasks' steps per second against one blocking
                         loop running the same steps (measured just before
                         and after), both counted in processor time so that
                         a loaded machine does not skew it, %
    MODE_lag_overhead    100 minus the throughput, % (a cost)

Each round needs a fresh reactor, so rounds are separate processes. With
--serve it is a server of rounds, one a mode, for go run ./bench -compare
twisted (see bench/python/bench_rounds.py); by hand, with --repeat N (or
$BENCH_REPEAT), it makes N rounds of each mode and prints the medians. Run
it with Debian's interpreter, which has python3-twisted, with bench/python
on PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/cooperate_lag.py [--duration S] [--repeat N] [MODE...]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import bench_rounds

STEP = 20e-6
PROBE = 1e-3
TASKS = 4


def calibrate(seconds):
    """Rounds of busy() that take about the given seconds."""
    rounds = 100000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        busy(rounds)
        best = min(best, time.perf_counter() - start)
    return max(1, int(rounds * seconds / best))


def busy(rounds):
    x = 1
    for _ in range(rounds):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def blocking_cpu(rounds, seconds):
    """Processor seconds a step takes in one blocking loop run for seconds."""
    start, cpu0 = time.perf_counter(), time.process_time()
    n = 0
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            busy(rounds)
        n += 100
    return (time.process_time() - cpu0) / n


MODES = ("cooperate", "blocking")


def run_once(duration, mode):
    """One run on a fresh reactor in the given mode; returns a dict of figures."""
    from twisted.internet import reactor
    from twisted.internet.task import cooperate

    rounds = calibrate(STEP)
    lags = []
    state = {"steps": 0}
    clock = time.perf_counter

    def task():
        while True:
            busy(rounds)
            state["steps"] += 1
            yield None

    def arm():
        due = clock() + PROBE

        def probe():
            lags.append(clock() - due)
            arm()

        reactor.callLater(PROBE, probe)

    def start():
        state["cpu0"] = time.process_time()
        arm()

        def finish():
            state["cpu"] = time.process_time() - state["cpu0"]
            reactor.stop()

        if mode == "blocking":
            # Each loop lasts a quarter of the run by the clock, asked every
            # 100 steps, as the bench command's lag/blocking does: at a count
            # of steps fixed beforehand, how long a loop holds the reactor
            # would hang on how loaded the machine was at calibration.
            per_task = duration / TASKS

            def loop(i):
                end = clock() + per_task
                while clock() < end:
                    for _ in range(100):
                        busy(rounds)
                    state["steps"] += 100
                if i + 1 == TASKS:
                    finish()
                else:
                    reactor.callLater(0, loop, i + 1)

            reactor.callLater(0, loop, 0)
            return

        tasks = [cooperate(task()) for _ in range(TASKS)]

        def stop():
            for t in tasks:
                t.stop()
            finish()

        reactor.callLater(duration, stop)

    before = blocking_cpu(rounds, duration / 6)
    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    after = blocking_cpu(rounds, duration / 6)
    lags.sort()

    def pct(p):
        return lags[(len(lags) - 1) * p // 100] * 1e3

    throughput = 100 * state["steps"] * (before + after) / 2 / state["cpu"]
    return {
        "lag_p50": pct(50),
        "lag_p99": pct(99),
        "lag_max": pct(100),
        "lag_throughput": throughput,
        "lag_overhead": 100 - throughput,
    }


UNITS = {
    "lag_p50": "ms",
    "lag_p99": "ms",
    "lag_max": "ms",
    "lag_throughput": "%",
    "lag_overhead": "%",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per round (default 3)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "1")),
        help="rounds, the medians are printed (default: $BENCH_REPEAT or 1)",
    )
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("modes", nargs="*", metavar="MODE", help="cooperate or blocking (default: cooperate)")
    args = parser.parse_args(argv)

    for mode in args.modes:
        if mode not in MODES:
            parser.error("unknown mode %r (known: %s)" % (mode, ", ".join(MODES)))
    modes = args.modes or ["cooperate"]
    if args.once:
        print(json.dumps(run_once(args.duration, modes[0])))
        return

    def make_round(mode):
        if mode not in MODES:
            raise KeyError("unknown mode %r (known: %s)" % (mode, ", ".join(MODES)))
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--once", "--duration", str(args.duration), mode],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        run = json.loads(out.strip().splitlines()[-1])
        # Progress, on stderr: a round takes --duration and more.
        print("%s round: p99 lag %.2f ms" % (mode, run["lag_p99"]), file=sys.stderr, flush=True)
        return [("%s_%s" % (mode, name), run[name], unit) for name, unit in UNITS.items()]

    if args.serve:
        bench_rounds.serve(make_round)
    else:
        bench_rounds.report(make_round, modes, args.repeat)


if __name__ == "__main__":
    main()
