"""The Faust tables as the core's :class:`StateStore` and :class:`AlertStore`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import faust

from stream_app.alerts import AlertState
from stream_app.contracts.outputs import RiskAlert
from stream_app.state import AccountState
from stream_app.streaming.routing import AccountPartitioner

__all__ = ["TableAlertStore", "TableStateStore"]


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
        self._active: set[int] = set()
        self._active_generation: int | None = None
        self._unsent: set[str] = set()

    def get(self, account_id: str) -> AccountState | None:
        return self.table.data.get(account_id)

    def put(self, account_id: str, state: AccountState) -> None:
        """In the table now; to the changelog on the next :meth:`flush`."""
        self.table.data[account_id] = state
        self._unsent.add(account_id)

    def flush(self) -> None:
        """One changelog record per account written since the last flush: its latest state.

        The agents flush after each input batch, before its events are acked, and the timer
        after each tick, so an offset is still committed only after the producer flushed the
        state its record caused (Faust's commit flushes the producer first). Encoding the state
        and its ledger once per batch instead of once per event is the point.
        """
        unsent, self._unsent = self._unsent, set()
        data, partition_of = self.table.data, self.partitioner.partition_of
        for account_id in unsent:
            state = data.get(account_id)
            if state is not None:
                self.table.send_changelog(partition_of(account_id), account_id, state)

    def keys(self) -> list[str]:
        active = self._active_partitions()
        return [key for key in self.table.data if self.partitioner.partition_of(key) in active]

    def owns(self, account_id: str) -> bool:
        """Standby copies of other workers' partitions live here too; never score those."""
        return self.partitioner.partition_of(account_id) in self._active_partitions()

    def _active_partitions(self) -> set[int]:
        """Cached per consumer generation: a tick asks once per account scored, and building
        the set from the assignor each time was 9 % of a worker's time (bench profile).

        Never cached while a rebalance is in progress: Faust raises ``rebalancing`` before the
        assignment can change (on revocation) and lowers it only once the new generation is
        set, so a cache outside that window always belongs to the current assignment.
        """
        app = self.app
        if app.rebalancing or app.consumer_generation_id != self._active_generation:
            # only the table's own partitions: the group leader is also assigned partition 0
            # of Faust's assignor topic, which made it score (and write back its stale standby
            # copy of) accounts of partition 0 that another worker owned
            changelog = self.table.changelog_topic.get_topic_name()
            active = {
                tp.partition for tp in app.assignor.assigned_actives() if tp.topic == changelog
            }
            if app.rebalancing:
                return active
            self._active, self._active_generation = active, app.consumer_generation_id
        return self._active


class TableAlertStore:
    """Alert states keyed by dedup key, in a table whose changelog is the alerts topic.

    Writing an alert's state *is* publishing it, in one Kafka write: after a crash the table
    is rebuilt from exactly what subscribers received, so an alert can be neither lost (state
    written, record not) nor fired twice (record written, state not). Records go to the
    account's partition, so an account's alerts stay in order.
    """

    def __init__(
        self,
        table: faust.Table,
        partitioner: AccountPartitioner,
        owns: Callable[[str], bool],
    ) -> None:
        self.table = table
        self.partitioner = partitioner
        self.owns = owns  # the state store's: is this account on a partition we own?

    def get(self, key: str) -> AlertState | None:
        return self.table.data.get(key)

    def put(self, account_id: str, alert: RiskAlert) -> None:
        self.table.data[alert.dedup_key] = AlertState.of(alert)
        self.table.send_changelog(self.partitioner.partition_of(account_id), alert.dedup_key, alert)

    def firing_counts(self) -> Counter[tuple[str, str]]:
        """Firing alerts by (rule, severity) on the partitions this worker owns."""
        return Counter(
            (state.rule, state.severity)
            for state in self.table.data.values()
            if state.firing and self.owns(state.account_id)
        )
