"""Table-driven valid/invalid cases for every input contract (strict JSON mode, as the engine)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from stream_app.contracts import AccountProfile, ProductUsageEvent, SurveyEvent, TicketEvent

COMMON = {"event_id": "e-1", "account_id": "acme-01", "occurred_at": "2026-11-01T10:00:00+01:00"}
USAGE = COMMON | {"user_id": "u-1", "event_type": "report.created"}
TICKET = COMMON | {"ticket_id": "t-1", "action": "opened", "priority": "urgent"}
SURVEY = COMMON | {"user_id": "u-1", "survey": "nps", "score": 9}
PROFILE = {"account_id": "acme-01", "segment": "enterprise", "seats": 40}


def validate(model, value):
    # stdlib json so that out-of-range integers can be written at all
    return model.model_validate_json(json.dumps(value), strict=True)


VALID = [
    (ProductUsageEvent, USAGE),
    (ProductUsageEvent, USAGE | {"quantity": 0}),
    (ProductUsageEvent, USAGE | {"quantity": 2.5, "properties": {"client": "web", "n": [1, 2]}}),
    (ProductUsageEvent, USAGE | {"occurred_at": "2026-11-01T09:00:00Z"}),
    (ProductUsageEvent, USAGE | {"occurred_at": "1970-01-01T00:00:00Z"}),
    (ProductUsageEvent, USAGE | {"occurred_at": "2999-12-31T23:59:59Z"}),
    (ProductUsageEvent, USAGE | {"future_field": {"added": "later"}}),
    (ProductUsageEvent, USAGE | {"account_id": "a.b_c:d@e-f", "schema_version": 2}),
    (TicketEvent, TICKET),
    (TicketEvent, TICKET | {"action": "reopened", "priority": "low", "category": "billing"}),
    (TicketEvent, TICKET | {"first_response_minutes": 12.5}),
    (SurveyEvent, SURVEY),
    (SurveyEvent, SURVEY | {"score": 0}),
    (SurveyEvent, SURVEY | {"survey": "csat", "score": 5, "comment": "great"}),
    (AccountProfile, PROFILE),
    (AccountProfile, {"account_id": "x"}),
    (AccountProfile, PROFILE | {"renewal_date": "2027-01-31", "arr": 12000.5, "plan": "growth"}),
]

INVALID = [
    (ProductUsageEvent, {k: v for k, v in USAGE.items() if k != "event_id"}, "event_id"),
    (ProductUsageEvent, USAGE | {"event_id": ""}, "event_id"),
    (ProductUsageEvent, USAGE | {"event_id": "x" * 129}, "event_id"),
    (ProductUsageEvent, USAGE | {"account_id": "acme 01"}, "account_id"),
    (ProductUsageEvent, USAGE | {"account_id": "hs:account:*\n"}, "account_id"),
    (ProductUsageEvent, USAGE | {"occurred_at": "2026-11-01T10:00:00"}, "occurred_at"),
    (ProductUsageEvent, USAGE | {"occurred_at": 1762000000}, "occurred_at"),
    (ProductUsageEvent, USAGE | {"occurred_at": "yesterday"}, "occurred_at"),
    # year 0 in UTC: once accepted, it crashed the worker's score tick (tests/faults)
    (ProductUsageEvent, USAGE | {"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
    (ProductUsageEvent, USAGE | {"occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at"),
    (TicketEvent, TICKET | {"occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
    (AccountProfile, PROFILE | {"updated_at": "0001-01-01T00:00:00+01:00"}, "updated_at"),
    (ProductUsageEvent, USAGE | {"quantity": -1}, "quantity"),
    (ProductUsageEvent, USAGE | {"quantity": "3"}, "quantity"),
    (ProductUsageEvent, USAGE | {"user_id": 7}, "user_id"),
    (ProductUsageEvent, USAGE | {"event_type": "bad\u0000type"}, "event_type"),
    (ProductUsageEvent, USAGE | {"properties": {f"k{i}": i for i in range(65)}}, "properties"),
    (ProductUsageEvent, USAGE | {"properties": {"blob": "x" * 9000}}, "properties"),
    (ProductUsageEvent, USAGE | {"properties": []}, "properties"),
    (ProductUsageEvent, USAGE | {"properties": {"n": 2**64}}, "properties"),
    (ProductUsageEvent, USAGE | {"schema_version": 0}, "schema_version"),
    (TicketEvent, TICKET | {"action": "deleted"}, "action"),
    (TicketEvent, TICKET | {"priority": "URGENT"}, "priority"),
    (TicketEvent, {k: v for k, v in TICKET.items() if k != "ticket_id"}, "ticket_id"),
    (TicketEvent, TICKET | {"first_response_minutes": -5}, "first_response_minutes"),
    (SurveyEvent, SURVEY | {"score": 11}, "score in 0..10"),
    (SurveyEvent, SURVEY | {"survey": "csat", "score": 0}, "score in 1..5"),
    (SurveyEvent, SURVEY | {"score": 8.5}, "score"),
    (SurveyEvent, SURVEY | {"survey": "ces"}, "survey"),
    (AccountProfile, {"segment": "smb"}, "account_id"),
    (AccountProfile, PROFILE | {"seats": -1}, "seats"),
    (AccountProfile, PROFILE | {"renewal_date": "soon"}, "renewal_date"),
]


@pytest.mark.parametrize(("model", "value"), VALID, ids=lambda v: getattr(v, "__name__", None))
def test_valid_records_are_accepted(model, value):
    record = validate(model, value)
    assert record.account_id == value["account_id"]


@pytest.mark.parametrize(("model", "value", "expected"), INVALID)
def test_invalid_records_are_rejected_naming_the_field(model, value, expected):
    with pytest.raises(ValidationError) as caught:
        validate(model, value)
    assert expected.split()[0] in str(caught.value)


def test_unknown_fields_are_ignored_not_kept():
    record = validate(ProductUsageEvent, USAGE | {"future_field": 1})
    assert "future_field" not in record.model_dump()


def test_defaults_follow_the_contract():
    record = validate(ProductUsageEvent, USAGE)
    assert (record.quantity, record.properties, record.schema_version) == (1.0, {}, 1)
