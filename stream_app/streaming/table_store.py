"""The account-state table as the core's :class:`StateStore`."""

from __future__ import annotations

import faust

from stream_app.state import AccountState
from stream_app.streaming.routing import AccountPartitioner

__all__ = ["TableStateStore"]


class TableStateStore:
    """Writes go to the changelog partition of the account, explicitly.

    Faust's ``table[key] = value`` takes the changelog partition from the event being
    processed, so it fails in a timer (where scores are emitted). Every account's home
    partition is known (:class:`AccountPartitioner`), so we write there from anywhere.
    """

    def __init__(self, app: faust.App, table: faust.Table, partitioner: AccountPartitioner) -> None:
        self.app = app
        self.table = table
        self.partitioner = partitioner

    def get(self, account_id: str) -> AccountState | None:
        return self.table.data.get(account_id)

    def put(self, account_id: str, state: AccountState) -> None:
        self.table.data[account_id] = state
        self.table.send_changelog(self.partitioner.partition_of(account_id), account_id, state)

    def keys(self) -> list[str]:
        active = self._active_partitions()
        return [key for key in self.table.data if self.partitioner.partition_of(key) in active]

    def owns(self, account_id: str) -> bool:
        """Standby copies of other workers' partitions live here too; never score those."""
        return self.partitioner.partition_of(account_id) in self._active_partitions()

    def _active_partitions(self) -> set[int]:
        # only the table's own partitions: the group leader is also assigned partition 0 of
        # Faust's assignor topic, which made it score (and write back its stale standby copy
        # of) accounts of partition 0 that another worker owned
        changelog = self.table.changelog_topic.get_topic_name()
        actives = self.app.assignor.assigned_actives()
        return {tp.partition for tp in actives if tp.topic == changelog}
