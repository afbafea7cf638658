"""A guard between faust-streaming's fetcher and its offset bookkeeping.

faust-streaming 0.15.3 drops records it has fetched when a fetch is cut short (a consumer
generation change, flow control) or skips a partition's records for a moment: the Kafka
client's position has already moved past them, so the next fetch starts after them. The drain
loop then sees the partition's offsets jump, takes the jump for a legitimate gap (transaction
markers, compaction), and the next commit covers the records that were never processed: lost
events after a restart. The fault suite saw it on about one SIGKILL run in five
(``tests/faults/test_crash.py``; docs/decisions.md §28).

:func:`guarded_getmany` wraps the consumer's ``getmany``. When a partition's first record in a
batch is not the one after the last record read, its records are held back and the partition
is rewound to the first missing offset, so the next fetch reads them. If the same jump comes
back after the rewind, the offsets really hold no records and the batch goes through.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from faust.transport.consumer import Consumer
from faust.types import TP

from stream_app.streaming.patching import wrap_once

__all__ = ["find_holes", "guarded_getmany", "install"]

log = logging.getLogger(__name__)

Hole = tuple[int, int]  # (first missing offset, first offset fetched after it)


def find_holes(
    batch: list[tuple[TP, int]], last_read: Callable[[TP], int | None]
) -> dict[TP, Hole]:
    """Partitions whose first offset in ``batch`` skips records after the last one read
    (the drain loop's own test for a gap, on the same ``_read_offset`` bookkeeping)."""
    holes: dict[TP, Hole] = {}
    seen: set[TP] = set()
    for tp, offset in batch:
        if tp in seen:
            continue
        seen.add(tp)
        read = last_read(tp)
        if read is not None and offset - read > 1:
            holes[tp] = (read + 1, offset)
    return holes


def guarded_getmany(
    original: Callable[[Consumer, float], AsyncIterator[tuple[TP, Any]]],
) -> Callable[[Consumer, float], AsyncIterator[tuple[TP, Any]]]:
    async def getmany(self: Consumer, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        batch = [(tp, message) async for tp, message in original(self, timeout)]
        holes = find_holes([(tp, m.offset) for tp, m in batch], self._read_offset.get)
        retried: dict[TP, Hole] = self.__dict__.setdefault("_hs_rewound", {})
        rewind: dict[TP, int] = {}
        for tp, hole in holes.items():
            if retried.get(tp) == hole:
                continue  # the same jump after a rewind: nothing is stored there
            rewind[tp] = hole[0]
            retried[tp] = hole
        for tp, message in batch:
            if tp not in rewind:
                retried.pop(tp, None)
                yield tp, message
        assigned = self.assignment()
        for tp, offset in rewind.items():
            if tp in assigned:
                log.warning("re-reading %s from offset %d: the fetch skipped records", tp, offset)
                await self._seek(tp, offset)

    return getmany


def install() -> None:
    """Wrap Faust's ``Consumer.getmany`` once per process."""
    wrap_once(Consumer, "getmany", guarded_getmany)
