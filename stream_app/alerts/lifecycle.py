"""Alert lifecycle per dedup key (DESIGN §2): firing -> (re-notified) -> resolved.

Alertmanager/PagerDuty semantics: at most one firing alert per ``dedup_key``; while it fires
it is published again only when its severity rises or after ``renotify_after`` of event time;
it is published once more, ``resolved``, when the rule clears. All times are event time, so
the live engine and the backtest publish the same alerts for the same log.

:class:`AlertState` is exactly what the last published record says about its key, nothing
more: the live engine rebuilds it from the alerts topic itself after a restart (the topic is
the alert table's changelog), so what was published and what is remembered cannot disagree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import orjson

from stream_app.alerts.verdict import SEVERITY_RANK, Condition, Severity, Verdict
from stream_app.contracts.outputs import AlertMetric, RiskAlert

__all__ = ["AlertState", "dedup_key", "next_alert"]

_ALERT_NAMESPACE = uuid.UUID("5b1e3c57-9a3f-4c2e-8d0a-6f0e1b7c2a91")


def dedup_key(account_id: str, rule: str) -> str:
    return f"{account_id}:{rule}"


@dataclass(frozen=True, slots=True)
class AlertState:
    account_id: str
    rule: str
    alert_id: str
    status: Literal["firing", "resolved"]
    severity: Severity
    started_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, alert: RiskAlert) -> AlertState:
        return cls(
            alert.account_id,
            alert.rule,
            alert.alert_id,
            alert.status,
            alert.severity,
            alert.started_at,
            alert.updated_at,
        )

    @classmethod
    def from_json(cls, raw: bytes) -> AlertState:
        """The state a published record implies, reading only the fields it needs."""
        data = orjson.loads(raw)
        return cls(
            data["account_id"],
            data["rule"],
            data["alert_id"],
            data["status"],
            data["severity"],
            datetime.fromisoformat(data["started_at"]),
            datetime.fromisoformat(data["updated_at"]),
        )

    @property
    def firing(self) -> bool:
        return self.status == "firing"


def next_alert(
    previous: AlertState | None,
    verdict: Verdict,
    *,
    account_id: str,
    now: datetime,
    renotify_after_seconds: float,
    health_score: float | None,
    labels: dict[str, str],
) -> RiskAlert | None:
    """The record to publish for ``verdict`` given the key's last published state, or None.

    A verdict at an event time the key's last record has already passed is a replay, not
    news: after a restart the table is rebuilt from the alerts topic, which can be ahead of
    the replayed inputs, and re-deciding the past would publish its records again (an
    incident's id derives from its start, so a re-fired one is the same alert). Likewise a
    new incident cannot start at the very moment the last one resolved: it would get the
    resolved one's id.
    """
    if previous is not None and (
        now < previous.updated_at or (now == previous.updated_at and not previous.firing)
    ):
        return None
    firing = previous is not None and previous.firing
    condition = verdict.condition
    if not firing:
        if condition is not Condition.FIRING:
            return None
        started_at, severity = now, verdict.severity
    else:
        assert previous is not None
        started_at = previous.started_at
        if condition is Condition.CLEAR:
            severity = previous.severity
        else:
            escalated = (
                condition is Condition.FIRING
                and SEVERITY_RANK[verdict.severity] > SEVERITY_RANK[previous.severity]
            )
            due = (now - previous.updated_at).total_seconds() >= renotify_after_seconds
            if not (escalated or due):
                return None
            severity = verdict.severity if condition is Condition.FIRING else previous.severity
    key = dedup_key(account_id, verdict.rule)
    return RiskAlert(
        alert_id=str(uuid.uuid5(_ALERT_NAMESPACE, f"{key}@{started_at.isoformat()}")),
        dedup_key=key,
        account_id=account_id,
        rule=verdict.rule,
        severity=severity,
        status="resolved" if condition is Condition.CLEAR else "firing",
        title=verdict.title,
        summary=verdict.summary,
        metric=AlertMetric(
            name=verdict.metric.name,
            current=verdict.metric.current,
            baseline=verdict.metric.baseline,
            change_pct=verdict.metric.change_pct,
            window=verdict.metric.window,
        ),
        health_score=health_score,
        started_at=started_at,
        updated_at=now,
        labels=labels,
    )
