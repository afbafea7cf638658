"""A guard for faust-streaming's standby recovery across a quick second rebalance.

When a rebalance lands while recovery is still reading the actives of the previous one (two
workers starting together, a scale-out during start-up), faust-streaming 0.15.3 registers the
new standby partitions with no offset (``None``: the in-memory store persists none) and the
running pass then seeks them before it has looked their offsets up. aiokafka refuses
``seek(tp, None)`` with ``ValueError: Offset must be a positive integer``, the recovery service
crashes and takes the worker down (seen in ``make bench``'s scale-out phase, 2 of 4 starts).

``None`` there means what Faust's own ``-1`` means: no offset known, read the changelog from
its start. :func:`seekable` says so before the seek; decisions §32.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Set
from typing import Any

from faust.tables.recovery import Recovery
from faust.types import TP

from stream_app.streaming.patching import wrap_once

__all__ = ["install", "seekable"]

NO_OFFSET = -1  # Faust's "nothing read yet": _seek_offsets turns it into 0


def seekable(tps: Set[TP], offsets: Mapping[TP, int | None]) -> Counter[TP]:
    """``offsets`` with every partition of ``tps`` that has none set to :data:`NO_OFFSET`."""
    fixed: Counter[TP] = Counter(offsets)
    for tp in tps:
        if fixed.get(tp) is None:
            fixed[tp] = NO_OFFSET
    return fixed


SeekOffsets = Callable[..., Coroutine[Any, Any, None]]


def guarded_seek_offsets(original: SeekOffsets) -> SeekOffsets:
    async def _seek_offsets(
        self: Recovery, consumer: Any, tps: Set[TP], offsets: Counter[TP], title: str
    ) -> None:
        await original(self, consumer, tps, seekable(tps, offsets), title)

    return _seek_offsets


def install() -> None:
    """Wrap Faust's ``Recovery._seek_offsets`` once per process."""
    wrap_once(Recovery, "_seek_offsets", guarded_seek_offsets)
