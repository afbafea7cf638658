from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from stream_app.streaming.routing import AccountPartitioner


def test_home_partition_matches_the_partitioner_faust_produces_with():
    """aiokafka routes our re-keyed records; our murmur2 (kafka-python) must agree with it."""
    partitioner = AccountPartitioner(partitions=6)
    partitions = list(range(6))
    for account in ["acme", "a", "acct-00042", "x" * 128, "ü-not-allowed-but-hashable"]:
        expected = DefaultPartitioner()(account.encode(), partitions, partitions)
        assert partitioner.partition_of(account) == expected
        assert partitioner.is_home(account, expected)
        assert not partitioner.is_home(account, (expected + 1) % 6)
