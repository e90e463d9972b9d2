"""Twisted side of the net suite's echo (go run ./bench -compare twisted runs it).

It serves an echo on loopback TCP with Twisted's default reactor (epoll on
Linux): a Protocol whose dataReceived writes back what it reads. The load
is the bench command's own Go load client, started as a child process
(--client, the bench executable, with TWINE_BENCH_NET_CHILD=echo), the same
client that drives twine's echo and the plain Go one: --conns connections,
each with one 64-byte message in flight, for --duration seconds. A round,
"echo", prints:

    echo_msg   ns/msg  wall time per message over all connections
                       (messages per second = 1e9 / echo_msg)
    echo_p99   ns      99th percentile of a message's round trip
    echo_p50   ns      median round trip

The first round starts listening and warms up with a short load first.
With --serve it is a server of rounds for go run ./bench -compare twisted
(see bench/python/bench_rounds.py): the reactor runs on the main thread,
and a thread reads the rounds asked for and runs the load client for each.
By hand it makes --repeat rounds (or $BENCH_REPEAT) and prints their
medians. Run it with Debian's interpreter, which has python3-twisted, with
bench/python on PYTHONPATH:

    PYTHONPATH=bench/python /usr/bin/python3 bench/twisted/net_bench.py --client PATH [--conns N] [--duration S] [--repeat N]
"""

import argparse
import os
import subprocess
import sys
import threading

from twisted.internet import protocol, reactor, threads

import bench_rounds


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def load(client, addr, conns, duration):
    """Run the Go load client against addr; return its figures."""
    env = dict(os.environ)
    env["TWINE_BENCH_NET_CHILD"] = "echo"
    env["TWINE_BENCH_NET_ARGS"] = "%s %d %gs" % (addr, conns, duration)
    out = subprocess.run([client], env=env, stdout=subprocess.PIPE, check=True, timeout=120).stdout
    figures = {}
    for line in out.decode().splitlines():
        name, _, value = line.partition(" ")
        figures[name] = float(value)
    return figures


def rounds(args):
    """Return make_round(name) for bench_rounds, called from a thread other
    than the reactor's: the reactor serves the echo meanwhile."""
    state = {}

    def listen():
        factory = protocol.Factory.forProtocol(Echo)
        return reactor.listenTCP(0, factory, backlog=1024, interface="127.0.0.1")

    def make_round(name):
        if name != "echo":
            raise KeyError("unknown scenario %r (known: echo)" % name)
        if "addr" not in state:
            port = threads.blockingCallFromThread(reactor, listen)
            state["addr"] = "127.0.0.1:%d" % port.getHost().port
            load(args.client, state["addr"], args.conns, min(args.duration, 0.2))  # warm up
        r = load(args.client, state["addr"], args.conns, args.duration)
        return [("echo_msg", r["time"], "ns/msg"), ("echo_p99", r["p99"], "ns"), ("echo_p50", r["p50"], "ns")]

    return make_round


failed = False


def drive(args):
    """On a thread of its own: serve or report the rounds, then stop the reactor."""
    global failed
    try:
        make_round = rounds(args)
        if args.serve:
            bench_rounds.serve(make_round)
        else:
            bench_rounds.report(make_round, ["echo"], args.repeat)
    except BaseException as e:
        print(f"net_bench: {e!r}", file=sys.stderr, flush=True)
        failed = True
    finally:
        reactor.callFromThread(reactor.stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "5")))
    parser.add_argument("--client", required=True, help="the bench executable, which is the load client")
    parser.add_argument("--conns", type=int, default=50)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per round")
    parser.add_argument("--serve", action="store_true", help="answer the rounds named on standard input")
    args = parser.parse_args()
    driver = threading.Thread(target=drive, args=(args,), name="bench-rounds", daemon=True)
    reactor.callWhenRunning(driver.start)
    reactor.run(installSignalHandlers=False)
    sys.exit(1 if failed else 0)
