"""Bytes of state per account, by encoding the table the engine builds from the preload.

The preloaded records are replayed in-process through the engine's own core (``replay``) and
every account's state is encoded with the changelog codec: exactly the bytes the worker
persists per account and a recovering worker reads back. Deterministic, and independent of how
far a time-boxed live worker got through the preload.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench.replay import replay
from stream_app.demo.generator import DemoRecord
from stream_app.state import encode_state

__all__ = ["StateSize", "encoded_state_sizes"]


@dataclass(frozen=True)
class StateSize:
    accounts: int
    mean_bytes: float
    p99_bytes: int
    max_bytes: int


def encoded_state_sizes(records: Iterable[DemoRecord]) -> StateSize:
    states = replay(records).core.store.data.values()  # type: ignore[attr-defined]
    sizes = sorted(len(encode_state(state)) for state in states)
    return StateSize(
        accounts=len(sizes),
        mean_bytes=statistics.mean(sizes),
        p99_bytes=sizes[int(0.99 * (len(sizes) - 1))],
        max_bytes=sizes[-1],
    )
