"""Which partition an account belongs to, so badly keyed records can be re-keyed.

All our topics and table changelogs share one partition count, and the worker that owns
partition ``p`` of any of them owns ``p`` of all (Faust co-partitioning). An event is processed
where it arrived only if that is its account's partition under Kafka's default partitioner
(murmur2, as in the Java client, aiokafka and kafka-python); otherwise it is forwarded.
"""

from __future__ import annotations

from functools import lru_cache

from kafka.partitioner.default import murmur2

__all__ = ["AccountPartitioner"]


class AccountPartitioner:
    def __init__(self, partitions: int, cache_size: int = 200_000) -> None:
        self.partitions = partitions
        self.partition_of = lru_cache(maxsize=cache_size)(self._partition_of)

    def _partition_of(self, account_id: str) -> int:
        return (murmur2(account_id.encode()) & 0x7FFFFFFF) % self.partitions

    def is_home(self, account_id: str, partition: int) -> bool:
        return self.partition_of(account_id) == partition
