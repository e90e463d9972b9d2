"""Celery's side of twine's remote bench suite.

Celery 5 with RabbitMQ as the broker and the RPC result backend, one worker
process started here (--concurrency 1 --pool prefork), and a tiny task,
add(x, y). Run as

    python3 celery_bench.py ROUNDS CALLS WINDOW TRIPS

from this file's directory (the worker imports it as the app). It starts
the worker once, then makes ROUNDS rounds, each of CALLS calls with WINDOW
in flight and of TRIPS calls one at a time, and prints two lines a round,
"throughput NANOSECONDS" (the time per call) and "round_trip NANOSECONDS"
(the median call). The broker is at TWINE_AMQP_URL; TWINE_CELERY_QUEUE
names the queue, deleted at the end.
"""

import collections
import os
import statistics
import subprocess
import sys
import time

from celery import Celery

QUEUE = os.environ.get("TWINE_CELERY_QUEUE", "twine-bench-celery")
URL = os.environ.get("TWINE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

app = Celery("celery_bench", broker=URL, backend="rpc://")
app.conf.task_default_queue = QUEUE
app.conf.broker_connection_retry_on_startup = True
app.conf.worker_hijack_root_logger = False


@app.task
def add(x, y):
    return x + y


def throughput(calls, window):
    pending = collections.deque()
    start = time.perf_counter_ns()
    for i in range(calls):
        pending.append(add.delay(i, 1))
        if len(pending) >= window:
            pending.popleft().get(timeout=120)
    while pending:
        pending.popleft().get(timeout=120)
    return (time.perf_counter_ns() - start) / calls


def round_trip(calls):
    rts = []
    for i in range(calls):
        start = time.perf_counter_ns()
        if add.delay(i, 1).get(timeout=120) != i + 1:
            raise SystemExit("wrong sum")
        rts.append(time.perf_counter_ns() - start)
    return statistics.median(rts)


def main():
    rounds, calls, window, trips = (int(a) for a in sys.argv[1:5])
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_bench", "worker",
         "--concurrency", "1", "--pool", "prefork", "-Q", QUEUE,
         "--without-heartbeat", "--without-gossip", "--without-mingle",
         "--loglevel", "WARNING"],
        cwd=os.path.dirname(os.path.abspath(__file__)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for i in range(20):  # the worker is up, and warm
            add.delay(i, 1).get(timeout=120)
        for _ in range(rounds):
            print("throughput %.0f" % throughput(calls, window), flush=True)
            print("round_trip %.0f" % round_trip(trips), flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(QUEUE)


if __name__ == "__main__":
    main()
