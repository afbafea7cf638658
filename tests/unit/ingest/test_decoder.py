"""Decoder: every rejection class, and a fuzz proving only clean results ever come out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from stream_app.contracts import ProductUsageEvent
from stream_app.ingest import Decoder, Rejection

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
USAGE = {
    "event_id": "e-1",
    "account_id": "acme",
    "occurred_at": "2026-11-01T11:00:00Z",
    "user_id": "u",
    "event_type": "login",
}
decoder = Decoder(max_message_bytes=256 * 1024, max_future_skew=timedelta(minutes=5))


def decode(raw: bytes | None, kind: str = "usage"):
    return decoder.decode(kind, raw, NOW)


def test_valid_usage_event_decodes_to_the_model():
    assert isinstance(decode(orjson.dumps(USAGE)), ProductUsageEvent)


@pytest.mark.parametrize(
    ("raw", "error_class", "reason_part"),
    [
        (b"not json at all", "not_json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not_utf8", "UTF-8"),
        (b"", "not_json", "not JSON"),
        (None, "not_json", "null record"),
        (b"[1, 2, 3]", "not_object", "not an object"),
        (b'"just a string"', "not_object", "not an object"),
        (b"[" * 10_000 + b"]" * 10_000, "not_json", "recursion"),
        (
            orjson.dumps({k: v for k, v in USAGE.items() if k != "user_id"}),
            "validation",
            "user_id: Field required",
        ),
        (orjson.dumps(USAGE | {"quantity": "many"}), "validation", "quantity"),
        (
            orjson.dumps(USAGE | {"occurred_at": "2026-11-01T12:06:00Z"}),
            "future_timestamp",
            "ahead",
        ),
        (orjson.dumps(USAGE | {"pad": "x" * 300_000}), "oversize", "limit is 262144 bytes"),
    ],
)
def test_rejections_name_a_class_and_a_readable_reason(raw, error_class, reason_part):
    result = decode(raw)
    assert isinstance(result, Rejection)
    assert result.error_class == error_class
    assert reason_part in result.reason


def test_future_skew_is_a_tolerance_not_a_cliff():
    within = orjson.dumps(USAGE | {"occurred_at": "2026-11-01T12:04:59Z"})
    assert isinstance(decode(within), ProductUsageEvent)


def test_reasons_are_bounded_and_never_echo_the_payload():
    secret = "s3cr3t-" * 50
    result = decode(orjson.dumps(USAGE | {"quantity": secret}))
    assert isinstance(result, Rejection)
    assert secret[:20] not in result.reason
    assert len(result.reason) <= 1000


def _clean(result) -> bool:
    if isinstance(result, Rejection):
        return bool(result.reason) and result.error_class in {
            "oversize",
            "not_utf8",
            "not_json",
            "not_object",
            "validation",
            "future_timestamp",
        }
    return isinstance(result, BaseModel)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


@FUZZ
@given(raw=st.binary(max_size=2048), kind=st.sampled_from(["usage", "ticket", "survey", "account"]))
def test_fuzz_arbitrary_bytes_only_ever_reject_cleanly(raw, kind):
    assert _clean(decode(raw, kind))


@FUZZ
@given(value=json_values, kind=st.sampled_from(["usage", "ticket", "survey", "account"]))
def test_fuzz_arbitrary_json_only_ever_reject_cleanly(value, kind):
    # stdlib json: it also writes big integers and NaN, which strict JSON parsers must refuse
    assert _clean(decode(json.dumps(value).encode(), kind))


@FUZZ
@given(
    overrides=st.dictionaries(
        st.sampled_from([*sorted(USAGE), "quantity", "properties", "schema_version"]),
        json_values,
        max_size=4,
    )
)
def test_fuzz_mutated_events_only_ever_decode_or_reject_cleanly(overrides):
    assert _clean(decode(json.dumps(USAGE | overrides).encode()))


def test_an_instant_before_the_epoch_is_a_validation_rejection_not_a_crash_later():
    # 0001-01-01T00:00:00+14:00 is year 0 in UTC: accepted, it made every score tick raise
    decoder = Decoder(max_message_bytes=4096, max_future_skew=None)
    raw = (
        b'{"event_id":"e","account_id":"a","user_id":"u","event_type":"x",'
        b'"occurred_at":"0001-01-01T00:00:00+14:00"}'
    )
    rejection = decoder.decode("usage", raw, datetime.now(UTC))
    assert isinstance(rejection, Rejection)
    assert rejection.error_class == "validation" and "occurred_at" in rejection.reason
