"""``backtest`` and ``cohort``: the engine without a broker."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import orjson

from stream_app.app import window_spec
from stream_app.demo.cohort import Cohort
from stream_app.engine.backtest import run_backtest
from stream_app.envelope import read_envelopes, write_envelope
from stream_app.errors import HealthstreamError
from stream_app.quality import measure_alert_quality
from stream_app.scoring import load_scoring_config
from stream_app.settings import Settings

__all__ = ["alert_quality", "backtest", "write_cohort"]


def backtest(
    settings: Settings, source: Path, output: Path, tick_seconds: float, processes: int
) -> int:
    if not source.is_file():
        raise HealthstreamError(f"{source}: no such file")
    scoring = load_scoring_config(settings.scoring_config)
    started = time.perf_counter()
    with output.open("wb") as out:
        report = run_backtest(
            settings, scoring, window_spec(scoring, settings), source, out, tick_seconds, processes
        )
    seconds = time.perf_counter() - started
    peak_kib = max(
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    peak_mb = peak_kib / 1024
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    rate = report.records / seconds if seconds > 0 else float("inf")
    print(
        f"{report.records} records ({outcomes}) from {report.accounts} accounts "
        f"in {seconds:.1f} s = {rate:,.0f} records/s; "
        f"wrote {report.scores} health scores, {report.alerts} risk alerts and "
        f"{report.dead_letters} dead letters to {output}; "
        f"{processes} process(es), peak RSS {peak_mb:.0f} MiB in the largest"
    )
    return 0


def write_cohort(
    settings: Settings,
    path: Path,
    accounts: int,
    days: int,
    seed: int,
    truth: Path | None,
    holidays: float = 0.0,
) -> int:
    cohort = Cohort(accounts, days, seed=seed, holiday_chance=holidays)
    topics = {kind: topic for topic, kind in settings.topics.inputs().items()}
    count = 0
    with path.open("wb") as out:
        for record in cohort.records():
            write_envelope(out, topics[record.kind], record.key, record.value)
            count += 1
    if truth is not None:
        truth.write_bytes(orjson.dumps(cohort.ground_truth(), option=orjson.OPT_INDENT_2))
    print(f"wrote {count} records for {accounts} accounts over {days} days to {path}")
    return 0


def alert_quality(settings: Settings, output: Path, truth: Path) -> int:
    for path in (output, truth):
        if not path.is_file():
            raise HealthstreamError(f"{path}: no such file")
    try:
        facts = orjson.loads(truth.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise HealthstreamError(f"{truth}: not JSON ({exc})") from None
    alerts = (
        orjson.loads(envelope.value)
        for envelope in read_envelopes(output)
        if envelope.topic == settings.topics.risk_alerts and envelope.value is not None
    )
    print(measure_alert_quality(alerts, facts).report())
    return 0
