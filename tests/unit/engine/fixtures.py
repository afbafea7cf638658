"""A scenario driver for the engine core: events in, published records remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from stream_app.app import window_spec
from stream_app.engine.backtest import build_core
from stream_app.ingest import Outcome, RawRecord
from stream_app.scoring import load_scoring_config
from stream_app.settings import Settings

SETTINGS = Settings()
SCORING = load_scoring_config(SETTINGS.scoring_config)
START = datetime(2026, 3, 2, tzinfo=UTC)
FEATURES = ("report.created", "export.run", "alert.configured", "integration.synced")


class Scenario:
    def __init__(self) -> None:
        self.core = build_core(SETTINGS, SCORING, window_spec(SCORING, SETTINGS))
        self.n = 0
        self.published: dict[str, dict] = {}
        self.alerts: list[dict] = []

    def send(self, kind: str, value: dict, event_id: str | None = None) -> Outcome:
        self.n += 1
        if "occurred_at" in value:
            value = {"event_id": event_id or f"e{self.n}", **value}
        raw = RawRecord(kind, 0, self.n, value["account_id"].encode(), orjson.dumps(value))
        return self.core.ingest(kind, raw).outcome

    def usage(self, account: str, at: datetime, user: str, feature: str, event_id=None) -> Outcome:
        return self.send(
            "usage",
            {
                "account_id": account,
                "occurred_at": at.isoformat(),
                "user_id": user,
                "event_type": feature,
            },
            event_id,
        )

    def steady_usage(self, account: str, days: int, users: int = 8, until_day: int | None = None):
        for day in range(until_day if until_day is not None else days):
            for user in range(users):
                at = START + timedelta(days=day, hours=9, minutes=user)
                self.usage(account, at, f"u{user}", FEATURES[(day + user) % 4])
            self.tick()

    def ticket(self, account: str, at: datetime, ticket_id: str, action: str, priority="urgent"):
        return self.send(
            "ticket",
            {
                "account_id": account,
                "occurred_at": at.isoformat(),
                "ticket_id": ticket_id,
                "action": action,
                "priority": priority,
            },
        )

    def nps(self, account: str, at: datetime, score: int):
        return self.send(
            "survey",
            {
                "account_id": account,
                "occurred_at": at.isoformat(),
                "user_id": "u1",
                "survey": "nps",
                "score": score,
            },
        )

    def tick(self) -> None:
        published = self.core.tick()
        for score in published.scores:
            self.published[score.account_id] = score.model_dump(mode="json")
        self.alerts.extend(alert.model_dump(mode="json") for alert in published.alerts)

    def advance(self, to: datetime) -> None:
        self.core.advance_watermark(to.timestamp())
        while self.core.has_work:
            self.tick()
