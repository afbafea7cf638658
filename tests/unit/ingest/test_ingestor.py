"""Ingestor: outcomes and dead letters for each kind of input."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson

from stream_app.clock import FixedClock
from stream_app.ingest import Decoder, EventLedger, IngestLimits, Ingestor, Outcome, RawRecord

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
USAGE = {
    "event_id": "e-1",
    "account_id": "acme",
    "occurred_at": "2026-11-01T11:00:00Z",
    "user_id": "u",
    "event_type": "login",
}


class OneAccount:
    """An ingestor and the ledger of the one account these tests use."""

    def __init__(self, max_ids: int = 1000) -> None:
        self.ledger = EventLedger()
        self.ingestor = Ingestor(
            Decoder(max_message_bytes=256 * 1024, max_future_skew=timedelta(minutes=5)),
            FixedClock(NOW),
            IngestLimits(timedelta(hours=1), timedelta(days=7), max_ids),
        )

    def ingest(self, kind, raw):
        return self.ingestor.ingest(kind, raw, self.ledger)


def make_ingestor(max_ids=1000):
    return OneAccount(max_ids)


def record(value, offset=0, key=b"acme") -> RawRecord:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    return RawRecord("cs.product-usage.v1", 2, offset, key, raw)


def test_valid_event_is_processed_and_returned():
    result = make_ingestor().ingest("usage", record(USAGE))
    assert result.outcome is Outcome.PROCESSED
    assert result.record.event_id == "e-1"
    assert result.dead_letter is None


def test_exact_duplicate_is_counted_once():
    ingestor = make_ingestor()
    first = ingestor.ingest("usage", record(USAGE, offset=1))
    again = ingestor.ingest("usage", record(USAGE, offset=2))
    assert (first.outcome, again.outcome) == (Outcome.PROCESSED, Outcome.DUPLICATE)


def test_events_beyond_grace_are_late_but_applied():
    ingestor = make_ingestor()
    ingestor.ingest("usage", record(USAGE))
    late = USAGE | {"event_id": "e-2", "occurred_at": "2026-11-01T08:00:00Z"}
    result = ingestor.ingest("usage", record(late))
    assert result.outcome is Outcome.LATE
    assert result.record is not None


def test_events_older_than_the_ledger_are_dead_lettered_as_too_late():
    strict = make_ingestor(max_ids=16)
    for i in range(40):
        strict.ingest(
            "usage",
            record(USAGE | {"event_id": f"n{i}", "occurred_at": f"2026-11-01T11:{i:02d}:00Z"}),
        )
    dropped = strict.ingest(
        "usage",
        record(USAGE | {"event_id": "n0-redelivered", "occurred_at": "2026-11-01T11:00:00Z"}),
    )
    assert dropped.outcome is Outcome.INVALID
    assert dropped.dead_letter.error_class == "too_late"
    assert "count it twice" in dropped.dead_letter.reason


def test_dead_letter_carries_source_coordinates_and_the_payload():
    raw = b'{"event_id": broken'
    result = make_ingestor().ingest("usage", RawRecord("cs.product-usage.v1", 3, 41, b"k\xff", raw))
    letter = result.dead_letter
    assert result.outcome is Outcome.INVALID
    assert (letter.source_topic, letter.partition, letter.offset) == ("cs.product-usage.v1", 3, 41)
    assert letter.key == "k\ufffd"
    assert base64.b64decode(letter.payload_base64) == raw
    assert (letter.payload_size, letter.payload_truncated) == (len(raw), False)
    assert letter.error_class == "not_json"
    assert letter.rejected_at == NOW


def test_oversize_payload_is_kept_truncated_in_the_dead_letter():
    raw = b"x" * (300 * 1024)
    letter = make_ingestor().ingest("usage", record(raw)).dead_letter
    assert letter.error_class == "oversize"
    assert letter.payload_truncated and letter.payload_size == len(raw)
    assert len(base64.b64decode(letter.payload_base64)) == 256 * 1024


def test_profiles_are_processed_without_deduplication():
    ingestor = make_ingestor()
    profile = {"account_id": "acme", "segment": "smb"}
    raw = RawRecord("cs.accounts.v1", 0, 0, b"acme", orjson.dumps(profile))
    assert ingestor.ingest("account", raw).outcome is Outcome.PROCESSED
    assert ingestor.ingest("account", raw).outcome is Outcome.PROCESSED


def test_admission_updates_the_given_ledger():
    account = make_ingestor()
    account.ingest("usage", record(USAGE))
    assert len(account.ledger) == 1
