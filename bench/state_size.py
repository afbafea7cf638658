"""Bytes of state per account, by encoding the table the engine builds from the preload.

The preloaded records are replayed in-process through the engine's own core (the backtest's
``EngineCore`` over a dict store; a final tick fills what scoring keeps), and every account's
state is encoded with the changelog codec: exactly the bytes the worker persists per account
and a recovering worker reads back. Deterministic, and independent of how far a time-boxed
live worker got through the preload.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from stream_app.demo.generator import DemoRecord
from stream_app.engine.backtest import build_core
from stream_app.ingest import RawRecord
from stream_app.scoring import load_scoring_config
from stream_app.settings import Settings
from stream_app.state import WindowSpec, encode_state

__all__ = ["StateSize", "encoded_state_sizes"]


@dataclass(frozen=True)
class StateSize:
    accounts: int
    mean_bytes: float
    p99_bytes: int
    max_bytes: int


def encoded_state_sizes(records: Iterable[DemoRecord]) -> StateSize:
    settings = Settings()
    scoring = load_scoring_config(settings.scoring_config)
    core = build_core(settings, scoring, WindowSpec(key_features=tuple(scoring.key_features)))
    for offset, record in enumerate(records):
        raw = RawRecord(record.kind, 0, offset, record.key.encode(), orjson.dumps(record.value))
        core.ingest(record.kind, raw)
    core.tick()
    sizes = sorted(len(encode_state(state)) for state in core.store.data.values())
    return StateSize(
        accounts=len(sizes),
        mean_bytes=statistics.mean(sizes),
        p99_bytes=sizes[int(0.99 * (len(sizes) - 1))],
        max_bytes=sizes[-1],
    )
