"""Records faust-streaming skipped, found by their offsets and read straight from the broker.

faust-streaming 0.15.3 can lose records between its fetcher and the agents (decisions §28): a
block of a partition's offsets never reaches a stream, the drain loop takes the jump for a
legitimate gap (transaction markers, compaction) and the next commit covers records nobody
processed. The fetch guard (``fetch_guard``) stops the fetcher-side cases; this is the last
line, in the agent itself, where a jump is seen before the record after it is acknowledged,
so no commit can have covered the hole yet. The agent reads the skipped offsets with a plain
Kafka client and handles what it finds first, in order; a real gap reads back empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from stream_app.ingest import RawRecord

__all__ = ["Fetched", "OffsetTracker", "SkippedRecordReader"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """A consumed record, whether Faust delivered it or the reader fetched it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)

    def raw(self) -> RawRecord:
        """The record under its own coordinates, as the ingestor takes it."""
        return RawRecord(self.topic, self.partition, self.offset, self.key, self.value)


class OffsetTracker:
    """The next offset the agent expects per partition, within one consumer generation.

    The first record of a partition in a generation is checked against the group's committed
    offset (where Faust seeks after an assignment), later ones against the record before.
    """

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], int] = {}
        self._generation: int | None = None

    def hole(
        self,
        topic: str,
        partition: int,
        offset: int,
        generation: int,
        committed: Callable[[], int | None],
    ) -> tuple[int, int] | None:
        """``(first skipped, offset)`` if records before ``offset`` were never delivered."""
        expected = self.expected(topic, partition, generation, committed)
        self.advance(topic, partition, offset + 1)
        if expected is not None and offset > expected:
            return expected, offset
        return None

    def expected(
        self, topic: str, partition: int, generation: int, committed: Callable[[], int | None]
    ) -> int | None:
        """The next offset of the partition the agent has not seen (None: nothing known)."""
        if generation != self._generation:
            self._next.clear()
            self._generation = generation
        expected = self._next.get((topic, partition))
        return committed() if expected is None else expected

    def advance(self, topic: str, partition: int, next_offset: int) -> None:
        """The agent has seen (or is handling) every record before ``next_offset``."""
        key = (topic, partition)
        self._next[key] = max(next_offset, self._next.get(key, 0))


class SkippedRecordReader:
    """Reads a range of offsets with kafka-python (blocking: call it from an executor).

    One client, one read at a time: both agents may find a hole at once, from executor
    threads, and a kafka-python consumer is not safe to share between threads.
    """

    def __init__(self, client_options: dict[str, Any], timeout: float = 30.0) -> None:
        self._options = client_options
        self._timeout = timeout
        self._consumer: KafkaConsumer | None = None
        self._lock = threading.Lock()

    def read(self, topic: str, partition: int, start: int, end: int) -> list[Fetched]:
        """Every record stored at offsets ``start`` up to ``end`` (exclusive)."""
        with self._lock:
            return self._read(topic, partition, start, end)

    def _read(self, topic: str, partition: int, start: int, end: int) -> list[Fetched]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **self._options)
        consumer = self._consumer
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        found: list[Fetched] = []
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                if record.offset >= end:
                    return found
                found.append(
                    Fetched(
                        topic,
                        partition,
                        record.offset,
                        record.key,
                        record.value,
                        {name: value for name, value in record.headers or ()},
                    )
                )
            if consumer.position(tp) >= end:
                return found
        raise TimeoutError(f"could not read {topic}[{partition}] {start}..{end - 1}")
