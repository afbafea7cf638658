from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson

from stream_app.contracts.inputs import INPUT_MODELS
from stream_app.demo.generator import DemoGenerator

START = datetime(2026, 11, 1, tzinfo=UTC)


def test_same_seed_same_traffic():
    first = list(DemoGenerator(20, seed=3).records(START, 300, timedelta(seconds=1)))
    again = list(DemoGenerator(20, seed=3).records(START, 300, timedelta(seconds=1)))
    assert first == again


def test_every_record_satisfies_the_contract_and_is_keyed_by_account():
    generator = DemoGenerator(30, seed=1)
    records = [*generator.profiles(START), *generator.records(START, 2000, timedelta(seconds=2))]
    for record in records:
        model = INPUT_MODELS[record.kind].model_validate_json(
            orjson.dumps(record.value), strict=True
        )
        assert model.account_id == record.key
    mix = Counter(r.kind for r in records)
    assert mix["usage"] > mix["ticket"] > mix["survey"] > 0
    assert mix["account"] == 30


def test_event_ids_are_unique():
    records = list(DemoGenerator(10).records(START, 1000, timedelta(seconds=1)))
    assert len({r.value["event_id"] for r in records}) == 1000
