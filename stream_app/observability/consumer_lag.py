"""Consumer lag per assigned input partition, read from the worker's own Kafka consumer.

Lag is the Kafka convention (what ``kafka-consumer-groups.sh --describe`` shows): the
partition's high watermark minus the group's committed offset. The high watermark comes from
aiokafka's fetch responses; the committed offset is Faust's record of what this worker last
committed (``Consumer._committed_offset``, private: Faust has no public accessor, and asking
the broker with ``committed()`` would be a round trip per partition on every refresh). Before a
partition's first commit the fetch position stands in for it.
"""

from __future__ import annotations

from collections.abc import Collection

from faust.exceptions import ConsumerNotStarted
from faust.types import TP
from faust.types.transports import ConsumerT

__all__ = ["read_consumer_lag"]


async def read_consumer_lag(
    consumer: ConsumerT, topics: Collection[str]
) -> dict[tuple[str, int], int]:
    """(topic, partition) -> lag for the partitions of ``topics`` assigned to this worker."""
    try:
        assigned = [tp for tp in consumer.assignment() if tp.topic in topics]
    except ConsumerNotStarted:
        return {}
    committed_offsets: dict[TP, int | None] = getattr(consumer, "_committed_offset", {})
    lag: dict[tuple[str, int], int] = {}
    for tp in assigned:
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue  # nothing fetched from this partition yet
        committed = committed_offsets.get(tp)
        if committed is None:
            committed = await consumer.position(tp)
        if committed is not None:
            lag[(tp.topic, tp.partition)] = max(highwater - committed, 0)
    return lag
