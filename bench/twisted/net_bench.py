"""Twisted side of the net suite's echo (go run ./bench -compare twisted runs it).

It serves an echo on loopback TCP with Twisted's default reactor (epoll on
Linux): a Protocol whose dataReceived writes back what it reads. The load
is the bench command's own Go load client, started as a child process
(--client, the bench executable, with TWINE_BENCH_NET_CHILD=echo), the same
client that drives twine's echo and the plain Go one: --conns connections,
each with one 64-byte message in flight, for --duration seconds. It prints,
each the median of --repeat runs (or BENCH_REPEAT):

    echo_msg   ns/msg  wall time per message over all connections
                       (messages per second = 1e9 / echo_msg)
    echo_p99   ns      99th percentile of a message's round trip
    echo_p50   ns      median round trip

Run it with Debian's interpreter, which has python3-twisted:

    /usr/bin/python3 bench/twisted/net_bench.py --client PATH [--conns N] [--duration S] [--repeat N]
"""

import argparse
import os
import statistics
import subprocess
import sys

from twisted.internet import protocol, reactor, threads
from twisted.internet.defer import inlineCallbacks


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def load(client, addr, conns, duration):
    """Run the Go load client against addr, in a thread; return its figures."""
    env = dict(os.environ)
    env["TWINE_BENCH_NET_CHILD"] = "echo"
    env["TWINE_BENCH_NET_ARGS"] = "%s %d %gs" % (addr, conns, duration)
    out = subprocess.run([client], env=env, stdout=subprocess.PIPE, check=True, timeout=120).stdout
    figures = {}
    for line in out.decode().splitlines():
        name, _, value = line.partition(" ")
        figures[name] = float(value)
    return figures


@inlineCallbacks
def main(args):
    try:
        factory = protocol.Factory.forProtocol(Echo)
        port = reactor.listenTCP(0, factory, backlog=1024, interface="127.0.0.1")
        addr = "127.0.0.1:%d" % port.getHost().port
        yield threads.deferToThread(load, args.client, addr, args.conns, min(args.duration, 0.2))  # warm up
        runs = []
        for _ in range(args.repeat):
            runs.append((yield threads.deferToThread(load, args.client, addr, args.conns, args.duration)))
        for figure, key, unit in (("echo_msg", "time", "ns/msg"), ("echo_p99", "p99", "ns"), ("echo_p50", "p50", "ns")):
            print(f"{figure} {statistics.median(r[key] for r in runs):.1f} {unit}", flush=True)
        yield port.stopListening()
    except BaseException as e:
        print(f"net_bench: {e!r}", file=sys.stderr, flush=True)
        global failed
        failed = True
    finally:
        reactor.stop()


failed = False

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "5")))
    parser.add_argument("--client", required=True, help="the bench executable, which is the load client")
    parser.add_argument("--conns", type=int, default=50)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per run")
    args = parser.parse_args()
    reactor.callWhenRunning(main, args)
    reactor.run()
    sys.exit(1 if failed else 0)
