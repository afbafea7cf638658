"""The standby seek guard: partitions a rebalance registered without an offset read from the
changelog's start instead of crashing the recovery service."""

from __future__ import annotations

from collections import Counter

import pytest
from faust.tables.recovery import Recovery
from faust.types import TP

from stream_app.streaming import standby_seek

CHANGELOG = "healthstream-account-state-changelog"


def test_partitions_without_an_offset_read_from_the_start():
    known, added = TP(CHANGELOG, 0), TP(CHANGELOG, 1)
    offsets: Counter[TP] = Counter({known: 41})
    offsets[added] = None  # type: ignore[assignment]  # what Recovery.add_standby leaves
    assert standby_seek.seekable({known, added}, offsets) == {known: 41, added: -1}
    assert offsets[added] is None  # Faust's own bookkeeping is left as it is


class RecordingConsumer:
    """Records the seek Faust asks for: this test is about the offsets handed to the Kafka
    client, which a real consumer would only reveal by raising."""

    def __init__(self) -> None:
        self.seeks: dict[TP, int] = {}

    async def seek_wait(self, offsets: dict[TP, int]) -> None:
        self.seeks.update(offsets)


@pytest.mark.asyncio
async def test_the_installed_guard_hands_the_kafka_client_only_valid_offsets():
    standby_seek.install()
    standby_seek.install()  # idempotent: one wrapper however many engines a process builds
    known, added = TP(CHANGELOG, 0), TP(CHANGELOG, 1)
    offsets: Counter[TP] = Counter({known: 41})
    offsets[added] = None  # type: ignore[assignment]
    consumer = RecordingConsumer()
    await Recovery._seek_offsets(object(), consumer, {known, added}, offsets, "standby")  # type: ignore[arg-type]
    assert consumer.seeks == {known: 41, added: 0}
    assert getattr(Recovery._seek_offsets, "_hs_guarded", False)
