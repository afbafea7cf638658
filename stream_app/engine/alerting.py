"""An account's state and score -> the risk alerts worth publishing (pure).

Gathers each rule's verdict from the account's windowed state and its current score, and runs
each through the lifecycle against the key's last published state (:class:`AlertStore`: a
table whose changelog is the alerts topic itself when live, a dict offline).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from stream_app.alerts import (
    AlertParams,
    AlertState,
    Verdict,
    assess_decline,
    band_critical,
    dedup_key,
    detractor_response,
    next_alert,
    score_drop,
    urgent_ticket_burst,
)
from stream_app.contracts.outputs import RiskAlert
from stream_app.scoring import ScoreResult, ScoringConfig
from stream_app.state import AccountState, WindowSpec, day_of
from stream_app.state.account import MAX_UNJUDGED_DAYS
from stream_app.state.spec import DAY_SECONDS

__all__ = ["AccountAlerting", "AlertStore", "DictAlertStore"]


class AlertStore(Protocol):
    def get(self, key: str) -> AlertState | None: ...

    def put(self, account_id: str, alert: RiskAlert) -> None:
        """Remember ``alert`` as its key's state; live, this write *is* its publication."""
        ...


@dataclass
class DictAlertStore:
    """Alert states in a plain dict: the backtest's store, and the unit tests'."""

    data: dict[str, AlertState]

    def get(self, key: str) -> AlertState | None:
        return self.data.get(key)

    def put(self, account_id: str, alert: RiskAlert) -> None:
        self.data[alert.dedup_key] = AlertState.of(alert)

    def firing(self) -> Iterable[AlertState]:
        return (state for state in self.data.values() if state.firing)


class AccountAlerting:
    def __init__(self, scoring: ScoringConfig, spec: WindowSpec, store: AlertStore) -> None:
        self.scoring = scoring
        self.spec = spec
        self.store = store
        rules = scoring.nsm_rules
        self._nsm_rules = [(rules[n.name], n.name.replace("_", " ")) for n in spec.nsms]

    def evaluate(
        self,
        account_id: str,
        state: AccountState,
        result: ScoreResult | None,
        as_of: datetime,
        usage_time: float,
    ) -> list[RiskAlert]:
        """Alerts to publish; ``usage_time`` is how far usage of the account's partition has
        been read (event time), which bounds the days the NSM detector may call complete."""
        params = self.scoring.for_segment(state.segment).alerts
        published: list[RiskAlert] = []
        health = result.score if result is not None else state.last_score
        if params.nsm_decline.enabled:
            for day, closed_at in self._days_to_judge(state, min(as_of.timestamp(), usage_time)):
                histories = state.nsm_histories(day, self.spec)
                verdicts = (
                    assess_decline(history, params.nsm_decline, rule, label)
                    for history, (rule, label) in zip(histories, self._nsm_rules, strict=True)
                )
                published += self._judge(account_id, state, health, verdicts, closed_at)
                state.nsm_judged_through = day
        verdicts = [
            *self._score_verdicts(state, result, as_of, params),
            *self._event_verdicts(state, as_of, params),
        ]
        return published + self._judge(account_id, state, health, verdicts, as_of)

    def evaluate_event_rules(
        self, account_id: str, state: AccountState, as_of: datetime
    ) -> list[RiskAlert]:
        """Alerts of the rules that read tickets and surveys only, without a score: what a
        catch-up judges at once for an account whose full evaluation waits its turn."""
        params = self.scoring.for_segment(state.segment).alerts
        return self._judge(
            account_id, state, state.last_score, self._event_verdicts(state, as_of, params), as_of
        )

    def _days_to_judge(self, state: AccountState, usable: float) -> list[tuple[int, datetime]]:
        """Each day closed since the account was last judged, with the moment it closed.

        A day is complete once usage events of the next one have been read for the grace
        period. Judging every closed day in order, at its own closing time, makes NSM alerts
        depend only on event time: not on how often the worker ticks, how far a backlog
        jumped between two ticks, or where a restart fell.
        """
        if usable == float("-inf"):
            return []  # no usage read on the account's partition yet
        grace = self.spec.grace_seconds
        last = day_of(usable - grace) - 1
        judged = state.nsm_judged_through
        first = last if judged is None else max(judged + 1, last - MAX_UNJUDGED_DAYS)
        return [
            (day, datetime.fromtimestamp((day + 1) * DAY_SECONDS + grace, UTC))
            for day in range(first, last + 1)
        ]

    def _judge(
        self,
        account_id: str,
        state: AccountState,
        health: float | None,
        verdicts: Iterable[Verdict],
        now: datetime,
    ) -> list[RiskAlert]:
        """Each verdict through the lifecycle against its key's state; the alerts it raised."""
        params = self.scoring.for_segment(state.segment).alerts
        published = []
        for verdict in verdicts:
            key = dedup_key(account_id, verdict.rule)
            alert = next_alert(
                self.store.get(key),
                verdict,
                account_id=account_id,
                now=now,
                renotify_after_seconds=params.renotify_after_hours * 3600,
                health_score=health,
                labels={
                    "alertname": verdict.rule,
                    "account_id": account_id,
                    "segment": state.segment,
                },
            )
            if alert is not None:
                self.store.put(account_id, alert)
                published.append(alert)
        return published

    def _score_verdicts(
        self,
        state: AccountState,
        result: ScoreResult | None,
        as_of: datetime,
        params: AlertParams,
    ) -> list[Verdict]:
        """The verdicts of the rules that read the score, judged at ``as_of``."""
        now = as_of.timestamp()
        verdicts = []
        seasoned = (
            result is not None
            and state.first_seen is not None
            and now - state.first_seen >= params.score_rules_after_days * DAY_SECONDS
        )
        if seasoned and params.band_critical.enabled:
            verdicts.append(band_critical(result.score, result.band))
        if seasoned and params.score_drop.enabled:
            verdicts.append(
                score_drop(result.score, state.score_history, day_of(now), params.score_drop)
            )
        return verdicts

    def _event_verdicts(
        self, state: AccountState, as_of: datetime, params: AlertParams
    ) -> list[Verdict]:
        """The verdicts of the rules that read tickets and surveys, judged at ``as_of``.

        Every rule is judged even without data of its kind: an alert must still resolve
        after the tickets or surveys behind it aged out of the state.
        """
        now = as_of.timestamp()
        verdicts = []
        if params.urgent_ticket_burst.enabled:
            verdicts.append(
                urgent_ticket_burst(
                    state.urgent_opened_at(),
                    state.open_tickets("urgent"),
                    now,
                    params.urgent_ticket_burst,
                )
            )
        if params.detractor_response.enabled:
            verdicts.append(
                detractor_response(state.survey_facts(), now, params.detractor_response)
            )
        return verdicts
