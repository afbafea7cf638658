"""The alert lifecycle: one firing alert per key, escalation, cool-down, resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stream_app.alerts import AlertState, Condition, Verdict, next_alert
from stream_app.alerts.verdict import Metric

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
HOUR = 3600
METRIC = Metric(name="nsm", current=1, baseline=10, change_pct=-90, window="P1D")


def verdict(condition: Condition, severity="warning") -> Verdict:
    return Verdict("nsm_decline", condition, METRIC, "title", "summary", severity)


class Key:
    """One dedup key driven through the lifecycle, remembering what it published."""

    def __init__(self) -> None:
        self.state: AlertState | None = None
        self.published = []

    def see(self, condition: Condition, at: datetime, severity="warning"):
        alert = next_alert(
            self.state,
            verdict(condition, severity),
            account_id="acme",
            now=at,
            renotify_after_seconds=24 * HOUR,
            health_score=42.0,
            labels={"alertname": "nsm_decline"},
        )
        if alert is not None:
            self.state = AlertState.of(alert)
            self.published.append(alert)
        return alert


def test_fires_once_while_the_condition_holds_within_the_cool_down():
    key = Key()
    for hour in range(0, 23):
        key.see(Condition.FIRING, T0 + timedelta(hours=hour))
    assert [a.status for a in key.published] == ["firing"]
    first = key.published[0]
    assert first.dedup_key == "acme:nsm_decline" and first.started_at == T0


def test_re_notifies_after_the_cool_down_with_the_same_alert_id():
    key = Key()
    key.see(Condition.FIRING, T0)
    key.see(Condition.HOLDING, T0 + timedelta(hours=24))
    assert len(key.published) == 2
    assert key.published[1].alert_id == key.published[0].alert_id
    assert key.published[1].updated_at == T0 + timedelta(hours=24)
    assert key.published[1].started_at == T0


def test_an_escalation_is_published_at_once():
    key = Key()
    key.see(Condition.FIRING, T0)
    key.see(Condition.FIRING, T0 + timedelta(hours=1), "critical")
    key.see(Condition.FIRING, T0 + timedelta(hours=2), "critical")
    assert [a.severity for a in key.published] == ["warning", "critical"]


def test_resolves_once_and_a_new_incident_gets_a_new_id():
    key = Key()
    key.see(Condition.FIRING, T0)
    key.see(Condition.CLEAR, T0 + timedelta(hours=5))
    key.see(Condition.CLEAR, T0 + timedelta(hours=6))
    key.see(Condition.FIRING, T0 + timedelta(hours=7))
    statuses = [a.status for a in key.published]
    assert statuses == ["firing", "resolved", "firing"]
    assert key.published[0].alert_id == key.published[1].alert_id != key.published[2].alert_id


def test_holding_or_clear_without_a_firing_alert_publishes_nothing():
    key = Key()
    assert key.see(Condition.HOLDING, T0) is None
    assert key.see(Condition.CLEAR, T0) is None


def test_state_read_back_from_the_published_json_equals_the_state_kept():
    key = Key()
    alert = key.see(Condition.FIRING, T0, "critical")
    assert AlertState.from_json(alert.model_dump_json().encode()) == AlertState.of(alert)


def test_alert_ids_are_deterministic():
    assert Key().see(Condition.FIRING, T0).alert_id == Key().see(Condition.FIRING, T0).alert_id


def test_a_replay_behind_the_published_state_publishes_nothing():
    """After a restart the alert table comes back from the alerts topic, ahead of the inputs
    replayed from the committed offset: the replay re-judges moments already published."""
    original = Key()
    original.see(Condition.FIRING, T0)
    original.see(Condition.CLEAR, T0 + timedelta(hours=5))
    restarted = Key()
    restarted.state = original.state
    assert restarted.see(Condition.FIRING, T0) is None
    assert restarted.see(Condition.CLEAR, T0 + timedelta(hours=5)) is None
    assert restarted.see(Condition.FIRING, T0 + timedelta(hours=6)).alert_id not in {
        a.alert_id for a in original.published
    }


def test_a_replay_cannot_resolve_or_escalate_a_firing_alert_in_the_past():
    original = Key()
    original.see(Condition.FIRING, T0)
    original.see(Condition.HOLDING, T0 + timedelta(hours=24))
    restarted = Key()
    restarted.state = original.state
    assert restarted.see(Condition.CLEAR, T0 + timedelta(hours=1)) is None
    assert restarted.see(Condition.FIRING, T0 + timedelta(hours=2), "critical") is None
    resolved = restarted.see(Condition.CLEAR, T0 + timedelta(hours=25))
    assert resolved.status == "resolved" and resolved.alert_id == original.published[0].alert_id


def test_a_new_incident_never_starts_at_the_moment_the_last_one_resolved():
    key = Key()
    key.see(Condition.FIRING, T0)
    key.see(Condition.CLEAR, T0)
    assert key.see(Condition.FIRING, T0) is None
    assert key.see(Condition.FIRING, T0 + timedelta(seconds=1)).status == "firing"
    assert [a.status for a in key.published] == ["firing", "resolved", "firing"]
    assert len({a.alert_id for a in key.published}) == 2
