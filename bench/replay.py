"""The preload's records run through the engine's own core in-process (no Kafka, no Faust).

What the core does per event and per score, on the very records the live worker gets: used to
size the state (``state_size``) and to time hot functions on realistic accounts (``micro``,
``ab``, ``core``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from bench.preload import default_end, records
from stream_app.demo.generator import DemoRecord
from stream_app.engine.backtest import build_core
from stream_app.engine.core import EngineCore
from stream_app.ingest import RawRecord
from stream_app.scoring import ScoringConfig, load_scoring_config
from stream_app.settings import Settings
from stream_app.state import WindowSpec

__all__ = ["Replayed", "new_core", "raw_records", "replay"]


@dataclass(frozen=True)
class Replayed:
    core: EngineCore
    scoring: ScoringConfig
    spec: WindowSpec

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.core.watermark, UTC)


def new_core() -> Replayed:
    """The backtest's core (dict store, event time as its only clock), default settings."""
    settings = Settings()
    scoring = load_scoring_config(settings.scoring_config)
    spec = WindowSpec(key_features=tuple(scoring.key_features))
    return Replayed(build_core(settings, scoring, spec), scoring, spec)


def raw_records(demo: Iterable[DemoRecord]) -> Iterator[tuple[str, RawRecord]]:
    """(kind, record) as the worker sees them: JSON bytes, keyed by account."""
    for offset, r in enumerate(demo):
        yield r.kind, RawRecord(r.kind, 0, offset, r.key.encode(), orjson.dumps(r.value))


def replay(
    demo: Iterable[DemoRecord] | None = None, *, events: int = 60_000, accounts: int = 2_000
) -> Replayed:
    """A core fed ``demo`` (default: the benchmark mix) and ticked once at the end."""
    replayed = new_core()
    if demo is None:
        demo = records(accounts, events, 30, 7, default_end())
    for kind, record in raw_records(demo):
        replayed.core.ingest(kind, record)
    replayed.core.tick()
    return replayed
