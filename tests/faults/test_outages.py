"""Dependency outages: Redis down for 30 s, and a Kafka broker restart, while events flow.

- Redis is only the serving copy of the scores. While it is down the stream keeps consuming
  and publishing; the score store keeps the latest score per account and retries, counting
  every failure in ``healthscore_redis_errors_total``; once Redis is back it catches up, so
  its sorted set and hashes equal the latest records on the scores topic.
- A broker restart drops every connection of the worker. It reconnects on its own and ends
  with the uninterrupted run's state: nothing lost, nothing applied twice. Records it reads
  again count as ``duplicate``, separately from ``processed``.

The Redis here is persistent (AOF), as a Redis node with durable storage is: a Redis that
comes back *empty* is refilled only as accounts are re-scored (docs/decisions.md §23).
"""

from __future__ import annotations

import time

import orjson
import pytest

from tests.faults.runs import assert_same_outcome, collect, event_counts, wait_drained
from tests.faults.workload import feed, latest_by_key, produce, read_to_end
from tests.integration.fixtures import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

OUTAGE_SECONDS = 30
RATE = 60  # records/s: the log (~2800 records) keeps arriving through the whole outage


def seen(worker: Worker, deployment) -> int:
    return sum(event_counts(worker, deployment).values())


def scores_on_topic(deployment) -> int:
    return len(read_to_end(deployment.kafka_bootstrap, deployment.topics.health_scores))


def test_redis_down_for_30_seconds(
    private_kafka, private_redis, fault_log, new_deployment, workers, fault_report
):
    deployment = new_deployment()
    worker = workers(deployment)
    worker.wait_ready()
    feeder = feed(
        private_kafka.bootstrap, deployment.topics, fault_log.records, deployment.partitions, RATE
    )
    client = private_redis.client()
    prefix = deployment.redis_prefix
    wait_for(lambda: client.zcard(f"{prefix}scores") > 0, 120, "scores in Redis")

    down_at = time.monotonic()
    private_redis.stop()
    time.sleep(3)
    events_early, scores_early = seen(worker, deployment), scores_on_topic(deployment)
    assert worker.get("/accounts/at-risk")[0] == 503
    time.sleep(max(0.0, down_at + OUTAGE_SECONDS - 2 - time.monotonic()))
    events_late, scores_late = seen(worker, deployment), scores_on_topic(deployment)
    errors_during = worker.metric("healthscore_redis_errors_total")
    time.sleep(max(0.0, down_at + OUTAGE_SECONDS - time.monotonic()))
    down_for = time.monotonic() - down_at
    private_redis.start()

    assert events_late > events_early, "the stream stalled while Redis was down"
    assert scores_late > scores_early, "no scores published while Redis was down"
    assert errors_during > 0
    feeder.join(timeout=180)
    wait_drained(deployment, worker)

    latest = latest_by_key(read_to_end(private_kafka.bootstrap, deployment.topics.health_scores))

    def caught_up() -> bool:
        members = client.zrange(f"{prefix}scores", 0, -1, withscores=True)
        return {m.decode(): s for m, s in members} == {a: s["score"] for a, s in latest.items()}

    wait_for(caught_up, 60, "Redis to equal the latest scores on the topic")
    for account, score in latest.items():
        stored = client.hget(f"{prefix}account:{account}", "json")
        assert orjson.loads(stored) == score, account
    assert worker.get("/accounts/at-risk")[0] == 200
    client.close()
    fault_report(
        f"redis-server stopped for {down_for:.0f} s while {RATE} records/s arrived: events "
        f"seen {events_early} -> {events_late} and scores published {scores_early} -> "
        f"{scores_late} during the outage; healthscore_redis_errors_total "
        f"{errors_during:.0f}; /accounts 503 while down; afterwards hs:scores and all "
        f"{len(latest)} account hashes equal the topic's latest scores"
    )


def test_broker_restart_mid_stream(
    private_kafka, fault_log, reference, new_deployment, workers, fault_report
):
    deployment = new_deployment()
    worker = workers(deployment)
    worker.wait_ready()
    pid = worker.process.pid
    half = len(fault_log) // 2
    produce(private_kafka.bootstrap, deployment.topics, fault_log.records[:half], 4)
    wait_for(lambda: seen(worker, deployment) >= half // 2, 180, "a quarter of the log")

    before = seen(worker, deployment)
    started = time.monotonic()
    private_kafka.restart(down_for=2)
    outage = time.monotonic() - started
    produce(private_kafka.bootstrap, deployment.topics, fault_log.records[half:], 4)
    wait_drained(deployment, worker, timeout=300)
    assert worker.process.poll() is None and worker.process.pid == pid, "the worker restarted"
    counts = event_counts(worker, deployment)
    worker.stop()

    run = collect(deployment, fault_log.as_of)
    assert_same_outcome(reference, run, fault_log)
    applied = counts["processed"] + counts["late"]
    assert applied == reference.counts["processed"] + reference.counts["late"], counts
    reread = counts["duplicate"] - reference.counts["duplicate"]
    fault_report(
        f"broker stopped (SIGTERM) and started again after {before} records seen, unavailable "
        f"{outage:.0f} s; same worker process throughout: {dict(counts)} vs uninterrupted "
        f"{dict(reference.counts)} -> applied {applied} (equal), {reread} records read again "
        f"and counted as duplicates; state, final-state scores and dead-letter sources equal"
    )
