"""The Faust tables as the core's :class:`StateStore` and :class:`AlertStore`.

The core is synchronous, so a store's ``put`` only changes the table in memory and notes the
changelog record to send; the agent awaits :meth:`flush` before the event it is handling is
acknowledged. Faust's own ``send_changelog`` hands records to a buffer whose flush before an
offset commit gives up after 0.1 s without progress (``ProducerBuffer.flush_atmost``), so on a
busy event loop offsets could be committed ahead of the state they produced, and a crash at
that moment would lose events (docs/decisions.md §27). An awaited ``send`` (alerts) or
``send_batch`` (states, :mod:`stream_app.streaming.batched_send`) puts the record in the Kafka
client's own accumulator, which the commit's flush does wait for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import faust
from faust.serializers import codecs

from stream_app.alerts import AlertState
from stream_app.contracts.outputs import RiskAlert
from stream_app.state import AccountState
from stream_app.streaming.batched_send import send_in_batches
from stream_app.streaming.codecs import LaneMark
from stream_app.streaming.routing import AccountPartitioner

__all__ = ["LANE_KEY_PREFIX", "TableAlertStore", "TableStateStore"]


async def _send(table: faust.Table, partition: int, key: str, value: object) -> Awaitable[Any]:
    """Hand a changelog record to the Kafka client; returns its delivery future."""
    return await table.changelog_topic.send(
        key=key,
        value=value,
        partition=partition,
        key_serializer=table.key_serializer,
        value_serializer=table.value_serializer,
    )


LANE_KEY_PREFIX = "#lane-"  # a partition's lane mark; no account id has a "#"


def _lane_key(partition: int) -> str:
    return f"{LANE_KEY_PREFIX}{partition}"


class TableStateStore:
    """Writes go to the changelog partition of the account, explicitly.

    Faust's ``table[key] = value`` takes the changelog partition from the event being
    processed, so it fails in a timer (where scores are emitted). Every account's home
    partition is known (:class:`AccountPartitioner`), so we write there from anywhere.

    Unsent writes are coalesced per account: the changelog needs an account's latest state,
    not every step to it.

    Each partition also holds a :class:`LaneMark` under ``#lane-<partition>`` (no account id
    has a ``#``): the engine's lane clock, written after the states, so that a restarted
    worker knows how far each partition's event time had got even when the replay from the
    committed offset reads none of its usage (docs/decisions.md §29).
    """

    def __init__(self, app: faust.App, table: faust.Table, partitioner: AccountPartitioner) -> None:
        self.app = app
        self.table = table
        self.partitioner = partitioner
        self._active: set[int] = set()
        self._active_generation: int | None = None
        self._unsent: dict[str, None] = {}  # accounts whose latest state is not yet sent

    def get(self, account_id: str) -> AccountState | None:
        return self.table.data.get(account_id)

    def put(self, account_id: str, state: AccountState) -> None:
        """In the table now; to the changelog on the next :meth:`flush`."""
        self.table.data[account_id] = state
        self._unsent[account_id] = None

    async def flush(self, lane_clocks: Mapping[int, float]) -> None:
        """One changelog record per account written since the last flush: its latest state;
        then a lane mark on each owned partition whose clock moved.

        ``lane_clocks`` must be the engine's at the call, when the unsent states are taken:
        every state their usage produced is then among those sent here or before, ahead of
        the mark in the same partition. The agents flush after each input batch, before its
        events are acked, and the timer after each tick. Encoding the state and its ledger
        once per batch instead of once per event is the point.
        """
        unsent, self._unsent = self._unsent, {}
        records: list[tuple[int, str, AccountState | LaneMark]] = []
        for account_id in unsent:
            state = self.table.data.get(account_id)
            if state is not None:  # gone if its partition was revoked meanwhile
                records.append((self.partitioner.partition_of(account_id), account_id, state))
        for partition, usage_time in lane_clocks.items():
            key = _lane_key(partition)
            mark = self.table.data.get(key)
            if partition in self._active_partitions() and (
                mark is None or mark.usage_time < usage_time
            ):
                self.table.data[key] = mark = LaneMark(usage_time)
                records.append((partition, key, mark))
        codec = codecs.get_codec(self.table.value_serializer)
        await send_in_batches(
            self.app,
            self.table.changelog_topic,
            ((partition, key.encode(), codec.dumps(value)) for partition, key, value in records),
        )

    def lane_clocks(self) -> dict[int, float]:
        """The lane marks of the partitions this worker owns (read back by a recovery)."""
        marks = {p: self.table.data.get(_lane_key(p)) for p in self._active_partitions()}
        return {p: mark.usage_time for p, mark in marks.items() if mark is not None}

    def keys(self) -> list[str]:
        active = self._active_partitions()
        return [
            key
            for key in self.table.data
            if not key.startswith(LANE_KEY_PREFIX) and self.partitioner.partition_of(key) in active
        ]

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
        self._unsent: list[tuple[int, RiskAlert]] = []  # every record, in order: each one
        # is a notification to subscribers, never coalesced

    def get(self, key: str) -> AlertState | None:
        return self.table.data.get(key)

    def put(self, account_id: str, alert: RiskAlert) -> None:
        self.table.data[alert.dedup_key] = AlertState.of(alert)
        self._unsent.append((self.partitioner.partition_of(account_id), alert))

    async def flush(self) -> None:
        """Send the unsent alerts and wait until the broker has them all."""
        unsent, self._unsent = self._unsent, []
        deliveries = [
            await _send(self.table, partition, alert.dedup_key, alert)
            for partition, alert in unsent
        ]
        for delivery in deliveries:
            await delivery

    def firing_counts(self) -> Counter[tuple[str, str]]:
        """Firing alerts by (rule, severity) on the partitions this worker owns."""
        return Counter(
            (state.rule, state.severity)
            for state in self.table.data.values()
            if state.firing and self.owns(state.account_id)
        )
