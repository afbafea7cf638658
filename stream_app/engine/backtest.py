"""Offline backtest: an event log through the same core, with event time as the only clock.

Reads the ``replay`` JSONL envelope and writes, in the same envelope, every record the live
engine would have published: health scores, risk alerts and dead letters. Ticks happen every
``tick_seconds`` of event time, the way a live worker ticks every second of wall time while
events arrive in real time.
"""

from __future__ import annotations

import heapq
import multiprocessing
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

from stream_app.contracts.outputs import DeadLetter
from stream_app.engine.alerting import DictAlertStore
from stream_app.engine.core import DictStateStore, EngineCore, Published
from stream_app.envelope import read_envelopes, write_envelope
from stream_app.errors import InputFileError
from stream_app.ingest import Decoder, IngestLimits, Ingestor, IngestResult, Outcome, RawRecord
from stream_app.scoring import ScoringConfig
from stream_app.settings import Settings
from stream_app.state import WindowSpec

__all__ = ["BacktestReport", "run_backtest"]


@dataclass
class BacktestReport:
    records: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    scores: int = 0
    alerts: int = 0
    dead_letters: int = 0
    accounts: int = 0

    def count(self, outcome: Outcome) -> None:
        self.records += 1
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1

    @classmethod
    def combine(cls, reports: list[BacktestReport]) -> BacktestReport:
        total = cls()
        for report in reports:
            total.records += report.records
            for outcome, count in report.outcomes.items():
                total.outcomes[outcome] = total.outcomes.get(outcome, 0) + count
            total.scores += report.scores
            total.alerts += report.alerts
            total.dead_letters += report.dead_letters
            total.accounts += report.accounts
        return total


class WatermarkClock:
    """The backtest's wall clock: the newest event time the core has seen.

    Stamps (``computed_at``, ``rejected_at``) then depend only on the log, so two runs over
    the same file write identical output.
    """

    core: EngineCore | None = None

    def now(self) -> datetime:
        watermark = self.core.watermark if self.core is not None else 0.0
        return datetime.fromtimestamp(max(watermark, 0.0), UTC)


def build_core(settings: Settings, scoring: ScoringConfig, spec: WindowSpec) -> EngineCore:
    """A core over a dict store whose only clock is event time.

    The decoder's future-skew check is off: it judges arrival against the wall clock, and a log
    replayed later would otherwise see every event as "from the past" or "from the future".
    """
    clock = WatermarkClock()
    ingestor = Ingestor(
        Decoder(max_message_bytes=settings.max_message_bytes, max_future_skew=None),
        clock,
        IngestLimits(settings.grace, settings.dedupe_horizon, settings.dedupe_max_ids_per_account),
    )
    # no due budget: it spreads a live worker's midnight load; offline it would only make the
    # output depend on how accounts are split across shards
    clock.core = EngineCore(
        ingestor,
        scoring,
        spec,
        DictStateStore({}),
        DictAlertStore({}),
        clock,
        due_budget=sys.maxsize,
    )
    return clock.core


def run_backtest(
    settings: Settings,
    scoring: ScoringConfig,
    spec: WindowSpec,
    source: Path,
    out: IO[bytes],
    tick_seconds: float = 60.0,
    shards: int = 1,
) -> BacktestReport:
    """Run ``source`` through the engine and write what it would publish to ``out``.

    Accounts are independent, so with ``shards`` > 1 each process owns the accounts that hash
    to it (as a live worker owns partitions) while every process reads the whole log to keep
    the same event-time watermark and tick positions. The merged output is identical to a
    single process's, line for line; ``test_backtest`` checks that.
    """
    if shards == 1:
        return _run_shard(settings, scoring, spec, source, out, tick_seconds, 0, 1)
    shard_files = _shard_paths(source, shards)
    # fork, not spawn: the children inherit the validated configuration instead of pickling it
    context = multiprocessing.get_context("fork")
    reports: multiprocessing.SimpleQueue[BacktestReport | Exception] = context.SimpleQueue()
    children = [
        context.Process(
            target=_run_shard_to_file,
            args=(
                settings,
                scoring,
                spec,
                source,
                shard_files[i],
                tick_seconds,
                i,
                shards,
                reports,
            ),
            name=f"backtest-shard-{i}",
        )
        for i in range(shards)
    ]
    try:
        for child in children:
            child.start()
        results = [reports.get() for _ in children]
        for child in children:
            child.join()
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            raise failures[0]
        _merge_shards(shard_files, out)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
        for path in shard_files:
            path.unlink(missing_ok=True)
        shard_files[0].parent.rmdir()
    return BacktestReport.combine(results)  # type: ignore[arg-type]


def shard_of(account_id: str, shards: int) -> int:
    """A stable shard for an account (CRC-32: the same in every process and Python run)."""
    return zlib.crc32(account_id.encode()) % shards


def _shard_paths(source: Path, shards: int) -> list[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hs-backtest-"))
    return [folder / f"{source.stem}.shard-{i}.jsonl" for i in range(shards)]


def _run_shard_to_file(
    settings: Settings,
    scoring: ScoringConfig,
    spec: WindowSpec,
    source: Path,
    target: Path,
    tick_seconds: float,
    shard: int,
    shards: int,
    reports: multiprocessing.SimpleQueue[BacktestReport | Exception],
) -> None:
    try:
        with target.open("wb") as out:
            reports.put(
                _run_shard(settings, scoring, spec, source, out, tick_seconds, shard, shards)
            )
    except Exception as exc:  # the parent re-raises it: a bad log fails the same either way
        reports.put(exc)


def _run_shard(
    settings: Settings,
    scoring: ScoringConfig,
    spec: WindowSpec,
    source: Path,
    out: IO[bytes],
    tick_seconds: float,
    shard: int,
    shards: int,
) -> BacktestReport:
    """One shard's pass; with ``shards`` > 1 every output line is prefixed by its merge key."""
    kinds = settings.topics.inputs()
    core = build_core(settings, scoring, spec)
    report = BacktestReport()
    next_tick = float("-inf")
    sharded = shards > 1

    def emit(order: tuple[int, int, str, int], topic: str, key: str | None, value: dict) -> None:
        if sharded:
            out.write(orjson.dumps(order) + b"\t")
        write_envelope(out, topic, key, value)

    def publish(position: int, published: Published) -> None:
        """Scores, then alerts (keyed by dedup key, in each account's order), of one tick."""
        for score in published.scores:
            value = score.model_dump(mode="json")
            emit(
                (position, 1, score.account_id, 0),
                settings.topics.health_scores,
                score.account_id,
                value,
            )
        for n, alert in enumerate(published.alerts):
            emit(
                (position, 2, alert.account_id, n),
                settings.topics.risk_alerts,
                alert.dedup_key,
                alert.model_dump(mode="json"),
            )
        report.scores += len(published.scores)
        report.alerts += len(published.alerts)

    offset = -1
    for offset, envelope in enumerate(read_envelopes(source)):
        kind = kinds.get(envelope.topic)
        if kind is None:
            raise InputFileError(
                f"record {offset + 1}: topic {envelope.topic!r} is not an input topic"
            )
        record = RawRecord(envelope.topic, 0, offset, envelope.key, envelope.value)
        validated = core.validate(kind, record)
        if isinstance(validated, DeadLetter):
            result = IngestResult(Outcome.INVALID, dead_letter=validated)
            owned = offset % shards == shard
        else:
            owned = shard_of(validated.account_id, shards) == shard  # type: ignore[attr-defined]
            if owned:
                result = core.apply(kind, record, validated)
            else:
                # another shard applies it; event time still moves here, as it would in one process
                core.observe(validated)
        if owned:
            report.count(result.outcome)
            if result.dead_letter is not None:
                letter = result.dead_letter
                emit(
                    (offset, 0, "", 0),
                    settings.topics.dlq,
                    letter.key,
                    letter.model_dump(mode="json"),
                )
                report.dead_letters += 1
        if core.watermark >= next_tick:
            publish(offset, core.tick())
            next_tick = core.watermark + tick_seconds
    while core.has_work:
        offset += 1
        publish(offset, core.tick())
    report.accounts = len(list(core.store.keys()))
    return report


def _merge_shards(paths: list[Path], out: IO[bytes]) -> None:
    """Interleave the shards' lines by their merge keys (each shard's file is already sorted)."""

    def keyed(path: Path) -> Iterator[tuple[list[object], bytes]]:
        with path.open("rb") as lines:
            for line in lines:
                order, _, envelope = line.partition(b"\t")
                yield orjson.loads(order), envelope

    for _, envelope in heapq.merge(*(keyed(path) for path in paths), key=lambda item: item[0]):
        out.write(envelope)
