"""Tasks per second one Celery worker process drains, per broker (Redis, RabbitMQ) and pool.

The broker's own ceiling, under `bench_assessment.py` (which runs the real grading task with its
SQL writes): N no-op tasks are published up front to a queue of this run's own, then ONE
`celery worker` process starts and drains them; the clock runs from its first task to its last
(each task counts itself with one Redis INCR, the same on both brokers). Publishing is timed too.

    python benchmarks/bench_queues.py [--tasks 5000] [--brokers redis,rabbitmq] [--pools solo,threads]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from celery import Celery

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}
COUNTER_URL = os.environ.get("BENCH_COUNTER_URL", "redis://127.0.0.1:6379/0")
QUEUE = os.environ.get("BENCH_QUEUE", "bench-queues")
COUNTER = os.environ.get("BENCH_COUNTER", "bench-queues:done")

app = Celery("bench_queues", broker=os.environ.get("BENCH_BROKER", BROKERS["redis"]))
app.conf.update(task_default_queue=QUEUE, task_ignore_result=True, task_acks_late=True,
                worker_prefetch_multiplier=4, broker_connection_retry_on_startup=True)
_counter = redis.Redis.from_url(COUNTER_URL)


@app.task(name="bench_queues.noop")
def noop(_i: int) -> None:
    """Count one delivery (acks_late, as the assessment tasks are)."""
    _counter.incr(COUNTER)


def run(broker: str, pool: str, tasks: int) -> None:
    """Publish `tasks`, then time one worker process draining them."""
    tag = uuid.uuid4().hex[:8]
    queue, counter = f"bench-queues-{tag}", f"bench-queues:{tag}:done"
    env = {**os.environ, "BENCH_BROKER": BROKERS[broker], "BENCH_QUEUE": queue, "BENCH_COUNTER": counter}
    publisher = Celery("bench_queues", broker=BROKERS[broker])
    publisher.conf.update(task_default_queue=queue, task_ignore_result=True)
    start = time.perf_counter()
    with publisher.producer_or_acquire() as producer:
        for i in range(tasks):
            publisher.send_task("bench_queues.noop", args=[i], queue=queue, producer=producer)
    published = time.perf_counter() - start
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "bench_queues", "worker", "-Q", queue,
                               "--pool", pool, "--concurrency", "1" if pool == "solo" else "4",
                               "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                               "--without-heartbeat", "--hostname", f"bench-{tag}@%h"],
                              cwd=Path(__file__).resolve().parent, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while int(_counter.get(counter) or 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        first = time.perf_counter()
        while int(_counter.get(counter) or 0) < tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        drained = time.perf_counter() - first
        done = int(_counter.get(counter) or 0)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        _counter.delete(counter)
        if broker == "rabbitmq":
            with publisher.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        else:
            redis.Redis.from_url(BROKERS["redis"]).delete(queue)
    print(f"  {broker:<9} pool {pool:<8} {done}/{tasks} tasks: worker {(done - 1) / drained:8.0f} tasks/s, "
          f"publish {tasks / published:8.0f} tasks/s", flush=True)


def main() -> int:
    """Parse arguments and measure each broker and pool."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--brokers", default="redis,rabbitmq")
    parser.add_argument("--pools", default="solo,threads")
    args = parser.parse_args()
    print(f"one worker process, no-op tasks, cores: {os.cpu_count()}")
    for broker in args.brokers.split(","):
        for pool in args.pools.split(","):
            run(broker, pool, args.tasks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
