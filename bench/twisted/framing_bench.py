"""Twisted side of the framing comparison (go run ./bench -compare twisted runs it).

It feeds Twisted's framing protocols the stream that the bench command's
framing suite feeds twine's (bench/suite_framing.go), and prints one line
per scenario, "name value unit", a cost per message (lower is better):

    line_receiver    ns/msg  LineReceiver: 1,000 lines of 40 bytes, CRLF
                             ended, fed in 4 KiB chunks; per line
    int32_receiver   ns/msg  Int32StringReceiver: 1,000 strings of 60 bytes,
                             fed in 4 KiB chunks; per string

The loop count of a scenario is found on its first round, so that a round
lasts about --target seconds, and every round runs that count. With
--serve it is a server of rounds for go run ./bench -compare twisted (see
bench/python/bench_rounds.py); by hand it makes --repeat rounds (or
$BENCH_REPEAT) of each scenario and prints their medians. Run it with
Debian's interpreter, which has python3-twisted, with bench/python on
PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/framing_bench.py [--repeat N] [--target S] [NAME...]
"""

import argparse
import os
import struct
import time

from twisted.internet.testing import StringTransport
from twisted.protocols import basic

import bench_rounds

MESSAGES = 1000
CHUNK = 4096


def chunks(stream):
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


class CountLines(basic.LineReceiver):
    n = 0

    def lineReceived(self, line):
        self.n += 1


class CountStrings(basic.Int32StringReceiver):
    n = 0

    def stringReceived(self, string):
        self.n += 1


def line_stream():
    return b"".join(b"PRIVMSG #twine :message number %08d\r\n" % i for i in range(MESSAGES))


def string_stream():
    payload = b"x" * 60
    return b"".join(struct.pack("!I", len(payload)) + payload for _ in range(MESSAGES))


def feeder(protocol_class, stream):
    """Return a function that feeds the stream once, and checks the count."""
    parts = chunks(stream)
    p = protocol_class()
    p.makeConnection(StringTransport())

    def feed():
        p.n = 0
        for c in parts:
            p.dataReceived(c)
        if p.n != MESSAGES:
            raise AssertionError("%s delivered %d messages, want %d" % (protocol_class.__name__, p.n, MESSAGES))

    return feed


SCENARIOS = [
    ("line_receiver", lambda: feeder(CountLines, line_stream())),
    ("int32_receiver", lambda: feeder(CountStrings, string_stream())),
]


def _run(func, number):
    start = time.perf_counter()
    for _ in range(number):
        func()
    return time.perf_counter() - start


def calibrate(func, target):
    """Return the loop count that makes a round last about target seconds."""
    number = 1
    while _run(func, number) < target / 5:
        number *= 2
    return max(1, int(number * (target / max(_run(func, number), 1e-9))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "7")),
        help="rounds per scenario, the median is printed (default: $BENCH_REPEAT or 7)",
    )
    parser.add_argument("--target", type=float, default=0.2, help="seconds per round")
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    makers = dict(SCENARIOS)
    for name in args.names:
        if name not in makers:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(makers)))
    feeds, counts = {}, {}

    def make_round(name):
        if name not in makers:
            raise KeyError("unknown scenario %r (known: %s)" % (name, ", ".join(makers)))
        if name not in feeds:
            feeds[name] = makers[name]()
            feeds[name]()  # checks the count, and warms up
            counts[name] = calibrate(feeds[name], args.target)
        seconds = _run(feeds[name], counts[name]) / counts[name]
        return [(name, seconds * 1e9 / MESSAGES, "ns/msg")]

    if args.serve:
        bench_rounds.serve(make_round)
    else:
        bench_rounds.report(make_round, args.names or list(makers), args.repeat)


if __name__ == "__main__":
    main()
