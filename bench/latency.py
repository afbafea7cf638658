"""End-to-end latency at a fixed offered load: event produced -> score on the scores topic.

The load is the demo mix on the preloaded accounts, with event time = now, paced at ``rate``
events/s. Not every event moves a score (the engine emits on a move of >= 1 point, a band or a
confidence change), so latency is measured on *probes*: a usage event for a brand-new account,
whose first score is always emitted. Both ends are Kafka CreateTime stamps taken on this
machine's clock: the probe's by our producer, the score's by the worker's. A probe never
scored counts as infinitely late, so losing more than 1 % of them shows as p99 = inf.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from kafka import KafkaConsumer, TopicPartition

from bench.preload import KIND_TOPIC, bench_producer
from stream_app.demo.generator import DemoGenerator
from stream_app.settings import TopicNames

__all__ = ["LatencyResult", "end_offsets", "offered_load", "probe_latencies"]


@dataclass(frozen=True)
class LatencyResult:
    offered_eps: float
    achieved_eps: float
    sent: int
    probes: int
    probes_scored: int
    p50_ms: float
    p99_ms: float


def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def offered_load(
    bootstrap: str,
    topics: TopicNames,
    *,
    run_id: str,
    accounts: int,
    seed: int,
    rate: float,
    seconds: float,
    probe_rate: float,
) -> tuple[int, float, dict[str, int]]:
    """Send the mix at ``rate`` for ``seconds``; return (sent, achieved rate, probe -> ms)."""
    names = {kind: getattr(topics, attr) for kind, attr in KIND_TOPIC.items()}
    generator = DemoGenerator(accounts, seed=seed + 1)
    producer = bench_producer(bootstrap)
    probes = {}
    sent = 0
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            now = datetime.now(UTC)
            if len(probes) < elapsed * probe_rate:
                account = f"probe-{run_id}-{len(probes):05d}"
                value = {
                    "event_id": f"{account}-e",
                    "account_id": account,
                    "occurred_at": now.isoformat(),
                    "user_id": "u1",
                    "event_type": "login",
                }
                probes[account] = producer.send(
                    topics.usage, key=account.encode(), value=orjson.dumps(value)
                )
            else:
                record = generator.record_at(now)
                value = record.value | {"event_id": f"{run_id}-{record.value['event_id']}"}
                producer.send(
                    names[record.kind], key=record.key.encode(), value=orjson.dumps(value)
                )
            sent += 1
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        producer.flush(timeout=60)
        achieved = sent / (time.monotonic() - started)
        return sent, achieved, {a: f.get(timeout=30).timestamp for a, f in probes.items()}
    finally:
        producer.close(timeout=30)


def probe_latencies(
    bootstrap: str,
    scores_topic: str,
    since: dict[TopicPartition, int],
    probes: dict[str, int],
    *,
    offered: float,
    achieved: float,
    sent: int,
) -> LatencyResult:
    """First score per probe account on ``scores_topic`` after the ``since`` offsets."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    first_score: dict[str, int] = {}
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        until = consumer.end_offsets(list(since))
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < until[tp] for tp in since):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {scores_topic} took over 120 s")
            for messages in consumer.poll(timeout_ms=500, max_records=10_000).values():
                for message in messages:
                    account = message.key.decode()
                    if account in probes and account not in first_score:
                        first_score[account] = message.timestamp
    finally:
        consumer.close()
    latencies = sorted(
        first_score[a] - ts if a in first_score else math.inf for a, ts in probes.items()
    )
    return LatencyResult(
        offered_eps=offered,
        achieved_eps=achieved,
        sent=sent,
        probes=len(probes),
        probes_scored=len(first_score),
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
    )


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return math.nan
    return float(values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))])
