"""Which partitions the table store treats as this worker's own, across rebalances.

The app here is a stand-in with only the three attributes the store reads (``assignor``,
``rebalancing``, ``consumer_generation_id``): a real rebalance needs a broker and two workers,
which tests/integration covers end to end; this pins the caching rule itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faust.types import TP

from stream_app.streaming.routing import AccountPartitioner
from stream_app.streaming.table_store import TableStateStore


@dataclass
class Assignor:
    actives: set[TP]
    calls: int = 0

    def assigned_actives(self) -> set[TP]:
        self.calls += 1
        return set(self.actives)


@dataclass
class App:
    assignor: Assignor = field(default_factory=lambda: Assignor({TP("t", 0), TP("t", 1)}))
    rebalancing: bool = False
    consumer_generation_id: int = 1


def account_on(partition: int, partitioner: AccountPartitioner) -> str:
    return next(
        f"acct-{i}" for i in range(1000) if partitioner.partition_of(f"acct-{i}") == partition
    )


def test_ownership_follows_the_assignment_and_is_cached_within_a_generation():
    app, partitioner = App(), AccountPartitioner(4)
    store = TableStateStore(app, table=None, partitioner=partitioner)  # type: ignore[arg-type]
    assert store.owns(account_on(0, partitioner))
    assert not store.owns(account_on(2, partitioner))
    assert app.assignor.calls == 1

    app.rebalancing = True  # revoked: partition 0 goes, 2 comes, generation not yet bumped
    app.assignor.actives = {TP("t", 1), TP("t", 2)}
    assert not store.owns(account_on(0, partitioner))
    assert store.owns(account_on(2, partitioner))

    app.rebalancing, app.consumer_generation_id = False, 2
    calls = app.assignor.calls
    assert store.owns(account_on(2, partitioner)) and store.owns(account_on(1, partitioner))
    assert not store.owns(account_on(0, partitioner))
    assert app.assignor.calls == calls + 1
