"""Ingestion through the real broker: valid events counted, bad ones on the DLQ with reasons,
duplicates dropped, badly keyed events re-keyed, and the worker keeps consuming afterwards."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.fixtures import producer, read_topic, send_json, wait_for

pytestmark = pytest.mark.integration


def usage(event_id: str, account: str = "acme", at: datetime | None = None) -> dict:
    at = at or datetime.now(UTC) - timedelta(minutes=1)
    return {
        "event_id": event_id,
        "account_id": account,
        "occurred_at": at.isoformat(),
        "user_id": "u-1",
        "event_type": "report.created",
    }


def test_valid_invalid_duplicate_and_rekeyed_records(deployment, start_worker):
    worker = start_worker()
    topics = deployment.topics
    kafka = producer(deployment.kafka_bootstrap)

    for i in range(20):
        send_json(kafka, topics.usage, f"acct-{i % 5}", usage(f"ok-{i}", f"acct-{i % 5}"))
    send_json(kafka, topics.usage, "acct-0", usage("ok-0", "acct-0"))  # exact duplicate
    send_json(kafka, topics.usage, None, usage("unkeyed-1", "acct-7"))  # bad keying: re-keyed
    send_json(kafka, topics.usage, "wrong-key", usage("miskeyed-1", "acct-8"))
    bad = {
        "not_json": b"{this is not json",
        "missing": usage("m-1") | {"user_id": None},
        "wrong_type": usage("w-1") | {"quantity": "lots"},
        "oversize": usage("o-1") | {"padding": "x" * (300 * 1024)},
        "future": usage("f-1", at=datetime.now(UTC) + timedelta(days=30)),
    }
    for value in bad.values():
        send_json(kafka, topics.usage, "acme", value)
    send_json(
        kafka,
        topics.tickets,
        "acme",
        {
            "event_id": "t-1",
            "account_id": "acme",
            "occurred_at": datetime.now(UTC).isoformat(),
            "ticket_id": "T1",
            "action": "opened",
            "priority": "urgent",
        },
    )
    kafka.flush()

    def processed() -> float:
        return worker.metric("healthscore_events_total", topic=topics.usage, outcome="processed")

    wait_for(lambda: processed() >= 22, 60, "22 processed usage events")
    wait_for(
        lambda: (
            worker.metric("healthscore_events_total", topic=topics.usage, outcome="invalid") >= 5
        ),
        30,
        "5 invalid usage records",
    )
    # topics are fetched independently: the ticket can come after every usage record
    wait_for(
        lambda: (
            worker.metric("healthscore_events_total", topic=topics.tickets, outcome="processed")
            >= 1
        ),
        30,
        "the ticket processed",
    )
    assert processed() == 22
    assert worker.metric("healthscore_events_total", topic=topics.usage, outcome="duplicate") == 1
    assert worker.metric("healthscore_events_total", topic=topics.tickets, outcome="processed") == 1

    letters = read_topic(deployment.kafka_bootstrap, topics.dlq, expected=5)
    by_class = {letter["error_class"]: letter for letter in letters}
    assert sorted(letter["error_class"] for letter in letters) == [
        "future_timestamp",
        "not_json",
        "oversize",
        "validation",
        "validation",
    ]
    reasons = [letter["reason"] for letter in letters]
    assert any("user_id" in r for r in reasons), reasons
    assert any("quantity" in r for r in reasons), reasons
    assert "262144" in by_class["oversize"]["reason"]
    assert base64.b64decode(by_class["not_json"]["payload_base64"]) == bad["not_json"]
    assert all(letter["source_topic"] == topics.usage for letter in letters)
    assert worker.metric("healthscore_dlq_total", topic=topics.usage, reason="oversize") == 1

    # the worker keeps consuming after poison records
    for i in range(5):
        send_json(kafka, topics.usage, "acme", usage(f"after-{i}"))
    kafka.flush()
    wait_for(lambda: processed() >= 27, 30, "events after the poison records")
    kafka.close()
