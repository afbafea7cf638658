"""``produce-demo`` and ``replay``: put records on the input topics with kafka-python."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import orjson
from kafka import KafkaProducer

from stream_app.clock import Clock
from stream_app.connections import kafka_client_options
from stream_app.demo.generator import DemoGenerator, DemoRecord
from stream_app.envelope import Envelope, read_envelopes
from stream_app.errors import InputFileError
from stream_app.settings import Settings

__all__ = ["produce_demo", "replay"]


def _producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        **kafka_client_options(settings),
        client_id="healthstream-cli",
        acks="all",
        linger_ms=20,
        max_request_size=4 * settings.max_message_bytes,
    )


def _kind_topics(settings: Settings) -> dict[str, str]:
    return {kind: topic for topic, kind in settings.topics.inputs().items()}


def produce_demo(
    settings: Settings, clock: Clock, *, accounts: int, rate: float, count: int | None, seed: int
) -> int:
    """Send profiles, then ``count`` events (forever if None) at ``rate`` events/s, event time
    = the clock. Returns how many records were sent."""
    generator = DemoGenerator(accounts, seed=seed)
    topics = _kind_topics(settings)
    producer = _producer(settings)
    sent = 0

    def send(record: DemoRecord) -> None:
        producer.send(
            topics[record.kind], key=record.key.encode(), value=orjson.dumps(record.value)
        )

    try:
        for profile in generator.profiles(clock.now()):
            send(profile)
            sent += 1
        started = time.monotonic()
        produced = 0
        while count is None or produced < count:
            send(generator.record_at(clock.now()))
            produced += 1
            ahead = produced / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        return sent + produced
    finally:
        producer.flush(timeout=30)
        producer.close(timeout=10)


def replay(settings: Settings, path: Path) -> dict[str, int]:
    """Validate the whole file first (nothing is sent if any line is malformed), then send."""
    envelopes = list(read_envelopes(path))
    known = {*settings.topics.inputs(), *settings.topics.outputs()}
    unknown = sorted({e.topic for e in envelopes} - known)
    if unknown:
        raise InputFileError(
            f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return _send_all(settings, envelopes)


def _send_all(settings: Settings, envelopes: Iterable[Envelope]) -> dict[str, int]:
    producer = _producer(settings)
    counts: dict[str, int] = {}
    try:
        for envelope in envelopes:
            producer.send(envelope.topic, key=envelope.key, value=envelope.value)
            counts[envelope.topic] = counts.get(envelope.topic, 0) + 1
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)
    return counts
