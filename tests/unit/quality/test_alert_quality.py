"""The alert-quality evaluator: recall, delay and false alerts against ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stream_app.quality import measure_alert_quality

START = datetime(2026, 1, 5, tzinfo=UTC)


def truth(scenario: str, onset_day: int | None, users: int = 20) -> dict:
    return {
        "scenario": scenario,
        "segment": "smb",
        "users": users,
        "onset_day": onset_day,
        "drop": 0.5,
        "start": START.isoformat(),
        "days": 70,
    }


def alert(account: str, day: float, rule: str = "nsm_decline", alert_id: str | None = None):
    started = START + timedelta(days=day)
    return {
        "alert_id": alert_id or f"{account}@{day}",
        "rule": rule,
        "account_id": account,
        "started_at": started.isoformat(),
    }


def test_recall_delay_and_false_alerts():
    facts = {
        "a": truth("decline", 50),
        "b": truth("decline", 45, users=3),
        "c": truth("steady", None),
        "d": truth("silent", 60),
    }
    alerts = [
        alert("a", 52.5),
        alert("a", 52.5, alert_id="a@52.5"),  # a re-notification of the same incident
        alert("a", 53.0, rule="score_drop"),
        alert("c", 40.0),  # false: steady
        alert("c", 10.0),  # during warm-up: not counted
        alert("d", 55.0),  # false: before the onset
        alert("d", 61.0),
    ]
    quality = measure_alert_quality(alerts, facts)

    assert (quality.declines, quality.detected) == (3, 2)
    assert quality.delays_days == [2.5, 1.0]
    assert quality.median_delay_days == pytest.approx(1.75)
    assert quality.recall_by_size == {"1-4 users": (0, 1), "15+ users": (2, 2)}
    assert quality.false_alerts == {"steady": 1, "silent": 1}
    assert quality.account_weeks["steady"] == pytest.approx(6.0)  # days 28..70
    assert quality.false_per_1000_weeks(["steady"]) == pytest.approx(1000 / 6)
    assert quality.incidents_by_rule == {"nsm_decline": 5, "score_drop": 1}
    assert "recall 0.667" in quality.report()
