"""Per-account event ledger: exact ``event_id`` de-duplication in bounded memory.

The ledger remembers fingerprints of the account's recent event ids. Two bounds keep it small:
ids older than ``horizon`` behind the account's event-time watermark are forgotten, and at most
``max_ids`` are kept (the oldest go first). Either way the ledger raises its ``floor``: an event
at or below the floor could be a forgotten duplicate, so it is reported ``too_late`` instead of
being counted twice. Exactness is the invariant; the late-acceptance horizon is what gives.

Fingerprints are 64-bit BLAKE2b digests: with 10^4 ids per account the chance of a collision is
about 10^-11 per account.

The ledger is encoded with its account's state on every state write, so it keeps its encoded
ids and times alongside the dict and appends to them as ids arrive: ``to_bytes`` is then two
buffer copies instead of re-packing every id (it was most of the state codec's time).
"""

from __future__ import annotations

import hashlib
import struct
from enum import StrEnum

__all__ = ["Admission", "EventLedger", "fingerprint"]

_HEADER = struct.Struct("<dd")
# the body: all ids, then all times, in machine order (the layout ``array("q"/"d")`` wrote)
_ID = struct.Struct("=q")
_TIME = struct.Struct("=d")
_EVICT_FRACTION = 0.125


class Admission(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"


def fingerprint(event_id: str) -> int:
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class EventLedger:
    __slots__ = ("_ids", "_seen", "_times", "floor", "watermark")

    def __init__(
        self,
        watermark: float = float("-inf"),
        floor: float = float("-inf"),
        seen: dict[int, float] | None = None,
    ) -> None:
        self.watermark = watermark
        self.floor = floor
        self._seen: dict[int, float] = seen if seen is not None else {}
        self._pack()

    def __len__(self) -> int:
        return len(self._seen)

    def admit(
        self, event_id: str, occurred_at: float, *, horizon: float, max_ids: int
    ) -> Admission:
        """Record ``event_id`` if it is new; say why not otherwise. ``occurred_at`` in epoch s."""
        key = fingerprint(event_id)
        if key in self._seen:
            return Admission.DUPLICATE
        if occurred_at <= self.floor:
            return Admission.TOO_LATE
        self._seen[key] = occurred_at
        self._ids += _ID.pack(key)
        self._times += _TIME.pack(occurred_at)
        if occurred_at > self.watermark:
            self.watermark = occurred_at
            # Amortised: expire only once the horizon has moved a sixteenth past the floor.
            if self.watermark - horizon > self.floor + horizon / 16:
                self._raise_floor(self.watermark - horizon)
        if len(self._seen) > max_ids:
            self._evict_oldest(max_ids)
        return Admission.NEW

    def _raise_floor(self, floor: float) -> None:
        self.floor = max(self.floor, floor)
        self._seen = {key: ts for key, ts in self._seen.items() if ts > self.floor}
        self._pack()

    def _evict_oldest(self, max_ids: int) -> None:
        keep = int(max_ids * (1 - _EVICT_FRACTION))
        times = sorted(self._seen.values())
        self._raise_floor(times[len(times) - keep - 1])

    def _pack(self) -> None:
        """Re-encode the ids and times from the dict (when it was built or rebuilt)."""
        n = len(self._seen)
        self._ids = bytearray(struct.pack(f"={n}q", *self._seen))
        self._times = bytearray(struct.pack(f"={n}d", *self._seen.values()))

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.watermark, self.floor) + self._ids + self._times

    @classmethod
    def from_bytes(cls, data: bytes) -> EventLedger:
        watermark, floor = _HEADER.unpack_from(data)
        body = memoryview(data)[_HEADER.size :]
        n = len(body) // (_ID.size + _TIME.size)
        keys = struct.unpack_from(f"={n}q", body)
        times = struct.unpack_from(f"={n}d", body, _ID.size * n)
        return cls(watermark, floor, dict(zip(keys, times, strict=True)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EventLedger) and (self.watermark, self.floor, self._seen) == (
            other.watermark,
            other.floor,
            other._seen,
        )

    def __repr__(self) -> str:
        return f"EventLedger(watermark={self.watermark}, floor={self.floor}, ids={len(self)})"
