"""Risk alerts through the real broker: an NSM decline injected through the topics raises one
firing alert and its recovery one resolved alert; a team that loses some of its regular users
is named by the lost-regulars test; a worker killed with SIGKILL mid-stream and restarted
publishes exactly the NSM alerts the offline backtest computes for the same log."""

from __future__ import annotations

import io
import signal
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from stream_app.app import window_spec
from stream_app.engine.backtest import run_backtest
from stream_app.scoring import load_scoring_config
from tests.integration.fixtures import (
    Deployment,
    Worker,
    nsm_alerts,
    producer,
    read_topic,
    send_json,
    wait_for,
)

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DECLINER, STEADY, TEAM = "decliner-1", "steady-1", "team-1"
USERS, DECLINED_USERS = 30, 6
DAYS = 60  # 35 days before the onset: four full baseline weeks
DECLINE_DAYS = range(25, 15, -1)  # days before today with 6 of the 30 users active


def event_log() -> list[dict]:
    """Usage of two accounts, day by day in event-time order; DECLINER loses 80% of its users
    for ten days, then recovers."""
    log = []
    for days_ago in range(DAYS, 0, -1):
        day = TODAY - timedelta(days=days_ago)
        for account in (DECLINER, STEADY):
            users = DECLINED_USERS if account == DECLINER and days_ago in DECLINE_DAYS else USERS
            for user in range(users):
                at = day + timedelta(hours=9, minutes=user)
                log.append(
                    {
                        "event_id": f"{account}-{days_ago}-{user}",
                        "account_id": account,
                        "occurred_at": at.isoformat(),
                        "user_id": f"u{user}",
                        "event_type": "report.created",
                    }
                )
    return log


def mid_decline() -> datetime:
    return TODAY - timedelta(days=(max(DECLINE_DAYS) + min(DECLINE_DAYS)) // 2)


def produce(deployment: Deployment, events: list[dict]) -> None:
    kafka = producer(deployment.kafka_bootstrap)
    for event in events:
        send_json(kafka, deployment.topics.usage, event["account_id"], event)
    kafka.flush()
    kafka.close()


def published_alerts(deployment: Deployment, minimum: int) -> list[dict]:
    return read_topic(deployment.kafka_bootstrap, deployment.topics.risk_alerts, minimum, 10)


def wait_for_resolution(deployment: Deployment) -> list[dict]:
    def resolved() -> list[dict] | None:
        records = published_alerts(deployment, 1_000_000)
        done = any(r["rule"] == "nsm_decline" and r["status"] == "resolved" for r in records)
        return records if done else None

    return wait_for(resolved, 180, "a resolved nsm_decline alert", interval=2)


def offline_alerts(deployment: Deployment, events: list[dict], tmp_path) -> list[tuple]:
    settings = deployment.settings()
    scoring = load_scoring_config(settings.scoring_config)
    log = tmp_path / "log.jsonl"
    log.write_bytes(
        b"".join(
            orjson.dumps({"topic": settings.topics.usage, "key": e["account_id"], "value": e})
            + b"\n"
            for e in events
        )
    )
    out = io.BytesIO()
    run_backtest(settings, scoring, window_spec(scoring, settings), log, out, tick_seconds=1)
    return nsm_alerts(
        [
            orjson.loads(line)["value"]
            for line in out.getvalue().splitlines()
            if orjson.loads(line)["topic"] == settings.topics.risk_alerts
        ]
    )


def assert_one_incident(alerts: list[tuple]) -> None:
    """One alert id, firing first and resolved last, no notification published twice."""
    assert {a[0] for a in alerts} == {f"{DECLINER}:nsm_decline"}
    assert len({a[1] for a in alerts}) == 1
    statuses = [a[2] for a in alerts]
    assert statuses[0] == "firing" and statuses[-1] == "resolved"
    assert statuses.count("resolved") == 1
    assert len({a[5] for a in alerts}) == len(alerts), "a notification was published twice"


def test_a_decline_fires_once_and_resolves_once(deployment, start_worker):
    events = event_log()
    worker = start_worker()
    produce(deployment, events)
    alerts = nsm_alerts(wait_for_resolution(deployment))

    assert_one_incident(alerts)
    counted = {
        status: worker.metric("healthscore_alerts_total", rule="nsm_decline", status=status)
        for status in ("firing", "resolved")
    }
    assert counted == {"firing": len(alerts) - 1, "resolved": 1}
    first = orjson.loads(alerts[0][6])
    assert first["name"] == "weekly_active_users" and first["change_pct"] <= -60
    assert alerts[0][3] == "critical"
    fired_at = datetime.fromisoformat(alerts[0][5])
    onset = TODAY - timedelta(days=max(DECLINE_DAYS))
    assert fired_at - onset <= timedelta(days=2), "detected more than two days after onset"


def team_log() -> tuple[list[dict], datetime]:
    """A team of 10 with habits (each on about 4 of 5 weekdays, now and then at a weekend); 5
    of them stop from a Monday on. Anchored to weekdays, so the test is the same on any day."""
    last_friday = TODAY - timedelta(days=(TODAY.weekday() - 4) % 7 or 7)
    onset = last_friday - timedelta(days=4)
    first = onset - timedelta(days=38)  # over four full weeks of habits before the onset
    log = []
    for n in range((TODAY - first).days):
        day = first + timedelta(days=n)
        for user in range(10):
            if user < 5 and day >= onset:
                continue
            weekday = day.weekday() < 5
            if (user * 7 + n * 3) % 5 != 0 if weekday else (user + n) % 4 == 0:
                log.append(
                    {
                        "event_id": f"{TEAM}-{n}-{user}",
                        "account_id": TEAM,
                        "occurred_at": (day + timedelta(hours=9, minutes=user)).isoformat(),
                        "user_id": f"u{user}",
                        "event_type": "report.created",
                    }
                )
    return log, onset


def test_a_team_losing_regulars_fires_and_says_who_went_quiet(deployment, start_worker):
    # the count test alone never fires on this log (a backtest with regulars_test = false);
    # the users' active days kept in the worker's state do. A worker that reads a new
    # account's whole history at once starts judging at its newest closed day, so the span
    # named is that day's, not the Thursday on which a backtest fires
    events, onset = team_log()
    start_worker()
    produce(deployment, events)

    def fired() -> dict | None:
        return next(
            (
                r
                for r in published_alerts(deployment, 1)
                if r["account_id"] == TEAM and r["rule"] == "nsm_decline"
            ),
            None,
        )

    alert = wait_for(fired, 120, "an nsm_decline alert for the team")
    assert alert["status"] == "firing"
    assert "; 5 of 10 regular users not seen over the last" in alert["summary"]
    assert datetime.fromisoformat(alert["started_at"]) >= onset + timedelta(days=3, hours=1)


def test_sigkill_mid_stream_publishes_exactly_the_alerts_of_the_backtest(deployment, tmp_path):
    events = event_log()
    expected = offline_alerts(deployment, events, tmp_path)
    assert_one_incident(expected)

    # the crash falls inside the decline, after it fired and before it resolves
    split = next(i for i, e in enumerate(events) if e["occurred_at"] >= mid_decline().isoformat())
    first = Worker(deployment)
    first.wait_ready()
    produce(deployment, events[:split])
    wait_for(
        lambda: any(a[2] == "firing" for a in nsm_alerts(published_alerts(deployment, 1))),
        120,
        "the decline to fire",
    )
    first.stop(signal.SIGKILL)
    produce(deployment, events[split:])
    second = Worker(deployment)
    second.wait_ready(timeout=120)
    try:
        live = nsm_alerts(wait_for_resolution(deployment))
    finally:
        second.stop()

    assert live == expected
