"""The benchmark's input: the demo generator's realistic mix, preloaded onto fresh topics.

``DemoGenerator`` gives about 85 % usage, 10 % tickets and 5 % surveys over accounts of
log-normal sizes; event times run evenly over the last ``days`` days, so every account has a
month of history and the engine's windows, baselines and expiry all do real work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from kafka import KafkaProducer

from stream_app.demo.generator import DemoGenerator, DemoRecord
from stream_app.settings import TopicNames

__all__ = ["KIND_TOPIC", "Preload", "bench_producer", "default_end", "preload", "records"]

KIND_TOPIC = {"usage": "usage", "ticket": "tickets", "survey": "surveys"}


@dataclass(frozen=True)
class Preload:
    counts: dict[str, int]  # kind -> records
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bench_producer(bootstrap: str) -> KafkaProducer:
    # kafka-python hashes keys with murmur2, like the engine's AccountPartitioner: every record
    # lands on its account's home partition, so the worker re-keys nothing.
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="healthstream-bench",
        acks=1,
        linger_ms=20,
        batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


def records(
    accounts: int, events: int, days: int, seed: int, end: datetime
) -> Iterator[DemoRecord]:
    """``events`` records with event times spread evenly over the ``days`` before ``end``."""
    span = timedelta(days=days)
    return DemoGenerator(accounts, seed=seed).records(end - span, events, span / events)


def default_end() -> datetime:
    """Just behind the wall clock: the worker rejects events from its future."""
    return datetime.now(UTC) - timedelta(minutes=1)


def preload(
    bootstrap: str,
    topics: TopicNames,
    *,
    accounts: int,
    events: int,
    days: int,
    seed: int,
    end: datetime,
) -> Preload:
    names = {kind: getattr(topics, attr) for kind, attr in KIND_TOPIC.items()}
    counts = dict.fromkeys(names, 0)
    started = time.perf_counter()
    producer = bench_producer(bootstrap)
    try:
        for record in records(accounts, events, days, seed, end):
            producer.send(
                names[record.kind], key=record.key.encode(), value=orjson.dumps(record.value)
            )
            counts[record.kind] += 1
        producer.flush(timeout=300)
    finally:
        producer.close(timeout=30)
    return Preload(counts, time.perf_counter() - started)
