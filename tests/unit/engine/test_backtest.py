"""The offline backtest: deterministic, and the same output however many processes run it."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from stream_app.app import window_spec
from stream_app.cli.offline import write_cohort
from stream_app.engine.backtest import run_backtest
from stream_app.errors import InputFileError
from stream_app.scoring import load_scoring_config
from stream_app.settings import Settings

SETTINGS = Settings()
SCORING = load_scoring_config(SETTINGS.scoring_config)
SPEC = window_spec(SCORING, SETTINGS)


@pytest.fixture(scope="module")
def event_log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backtest") / "log.jsonl"
    write_cohort(SETTINGS, path, accounts=12, days=40, seed=3, truth=None)
    bad = [
        {"topic": SETTINGS.topics.usage, "key": "acme", "value": "not json at all"},
        {"topic": SETTINGS.topics.tickets, "key": None, "value": {"account_id": "x"}},
    ]
    with path.open("ab") as log:
        for line in bad:
            log.write(orjson.dumps(line) + b"\n")
    return path


def backtest(path: Path, shards: int) -> tuple[bytes, object]:
    out = io.BytesIO()
    report = run_backtest(SETTINGS, SCORING, SPEC, path, out, tick_seconds=600, shards=shards)
    return out.getvalue(), report


def test_sharded_backtest_writes_exactly_what_one_process_writes(event_log):
    single, single_report = backtest(event_log, 1)
    sharded, sharded_report = backtest(event_log, 3)

    assert single == sharded
    assert single_report == sharded_report
    assert single_report.dead_letters == 2
    assert single_report.scores > 12
    topics = {orjson.loads(line)["topic"] for line in single.splitlines()}
    assert topics == {
        SETTINGS.topics.health_scores,
        SETTINGS.topics.risk_alerts,
        SETTINGS.topics.dlq,
    }
    assert single_report.alerts > 0


def test_backtest_is_deterministic(event_log):
    assert backtest(event_log, 1)[0] == backtest(event_log, 1)[0]


@pytest.mark.parametrize("shards", [1, 2])
def test_a_record_for_an_unknown_topic_fails_the_run_with_its_line(tmp_path, shards):
    path = tmp_path / "log.jsonl"
    path.write_bytes(orjson.dumps({"topic": "nope", "key": None, "value": {}}) + b"\n")

    with pytest.raises(InputFileError, match="record 1: topic 'nope'"):
        backtest(path, shards)
