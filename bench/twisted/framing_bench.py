"""Twisted side of the framing comparison (go run ./bench -compare twisted runs it).

It feeds Twisted's framing protocols the stream that the bench command's
framing suite feeds twine's (bench/suite_framing.go), and prints one line
per scenario, "name value unit", each figure the median of --repeat runs
(or BENCH_REPEAT), as a cost per message (lower is better):

    line_receiver    ns/msg  LineReceiver: 1,000 lines of 40 bytes, CRLF
                             ended, fed in 4 KiB chunks; per line
    int32_receiver   ns/msg  Int32StringReceiver: 1,000 strings of 60 bytes,
                             fed in 4 KiB chunks; per string

Run it with Debian's interpreter, which has python3-twisted:

    /usr/bin/python3 bench/twisted/framing_bench.py [--repeat N] [--target S] [NAME...]
"""

import argparse
import os
import statistics
import struct
import sys
import time

from twisted.internet.testing import StringTransport
from twisted.protocols import basic

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


def measure(func, repeat, target):
    """Return the median seconds per call over repeat runs of about target seconds."""
    number = 1
    while _run(func, number) < target / 5:
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
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)

    known = [name for name, _ in SCENARIOS]
    for name in args.names:
        if name not in known:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(known)))
    for name, make in SCENARIOS:
        if args.names and name not in args.names:
            continue
        seconds = measure(make(), args.repeat, args.target)
        print("%s %.1f ns/msg" % (name, seconds * 1e9 / MESSAGES))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
