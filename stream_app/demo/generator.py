"""Synthetic but realistic customer traffic for demos and load: usage, tickets, surveys.

Pure and seeded: the same seed, start time and count give the same records. Accounts differ in
size (log-normal users), activity and fate: most are steady, some decline, a few have support
storms or unhappy users, so a live demo shows every band.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["DemoGenerator", "DemoRecord"]

EVENT_TYPES = (
    "login",
    "dashboard.viewed",
    "report.created",
    "export.run",
    "alert.configured",
    "integration.synced",
    "comment.added",
)
KEY_FEATURES = ("report.created", "export.run", "alert.configured", "integration.synced")
SEGMENTS = ("smb", "mid_market", "enterprise")
TICKET_CATEGORIES = ("billing", "bug", "how_to", "integration", "performance")


@dataclass(frozen=True, slots=True)
class DemoRecord:
    kind: str  # usage | ticket | survey | account
    key: str
    value: dict[str, Any]


@dataclass
class _Account:
    account_id: str
    segment: str
    users: list[str]
    activity: float  # relative event rate
    mood: str  # steady | declining | stormy | unhappy
    open_tickets: list[tuple[str, str]] = field(default_factory=list)


class DemoGenerator:
    def __init__(self, accounts: int, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._sequence = 0
        self.accounts = [self._make_account(i) for i in range(accounts)]
        # Cumulative once: ``choices(weights=...)`` re-accumulates all of them on every call
        # (1.3 ms a record at 10k accounts); the picks are the same either way.
        self._cum_weights = list(itertools.accumulate(a.activity for a in self.accounts))

    def _make_account(self, index: int) -> _Account:
        rng = self._rng
        segment = rng.choices(SEGMENTS, weights=(6, 3, 1))[0]
        size = max(
            1,
            int(
                rng.lognormvariate({"smb": 1.5, "mid_market": 2.5, "enterprise": 3.5}[segment], 0.6)
            ),
        )
        mood = rng.choices(("steady", "declining", "stormy", "unhappy"), weights=(80, 8, 7, 5))[0]
        account_id = f"acct-{index:05d}"
        return _Account(
            account_id=account_id,
            segment=segment,
            users=[f"{account_id}-u{u:03d}" for u in range(size)],
            activity=size * rng.uniform(0.5, 1.5),
            mood=mood,
        )

    def profiles(self, at: datetime) -> Iterator[DemoRecord]:
        for account in self.accounts:
            yield DemoRecord(
                "account",
                account.account_id,
                {
                    "account_id": account.account_id,
                    "segment": account.segment,
                    "seats": int(len(account.users) * 1.25) + 1,
                    "plan": {"smb": "starter", "mid_market": "growth", "enterprise": "enterprise"}[
                        account.segment
                    ],
                    "renewal_date": (at + timedelta(days=self._rng.randint(20, 360)))
                    .date()
                    .isoformat(),
                    "arr": round(len(account.users) * self._rng.uniform(300, 900), 2),
                    "updated_at": at.isoformat(),
                },
            )

    def records(self, start: datetime, count: int, spacing: timedelta) -> Iterator[DemoRecord]:
        """``count`` records with event times from ``start``, ``spacing`` apart."""
        for index in range(count):
            yield self.record_at(start + spacing * index)

    def record_at(self, at: datetime) -> DemoRecord:
        rng = self._rng
        account = rng.choices(self.accounts, cum_weights=self._cum_weights)[0]
        roll = rng.random()
        ticket_share = 0.25 if account.mood == "stormy" else 0.10
        survey_share = 0.05
        if roll < ticket_share:
            return self._ticket(account, at)
        if roll < ticket_share + survey_share:
            return self._survey(account, at)
        return self._usage(account, at)

    def _next_id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}-{self._sequence:09d}"

    def _common(self, account: _Account, at: datetime, prefix: str) -> dict[str, Any]:
        return {
            "event_id": self._next_id(prefix),
            "account_id": account.account_id,
            "occurred_at": at.isoformat(),
            "schema_version": 1,
        }

    def _usage(self, account: _Account, at: datetime) -> DemoRecord:
        rng = self._rng
        users = account.users
        if account.mood == "declining":  # fewer people keep using it
            users = users[: max(1, len(users) // 3)]
        event_type = rng.choice(EVENT_TYPES)
        value = self._common(account, at, "use") | {
            "user_id": rng.choice(users),
            "event_type": event_type,
            "quantity": 1 if event_type != "export.run" else rng.randint(1, 20),
            "properties": {"client": rng.choice(("web", "ios", "android", "api"))},
        }
        return DemoRecord("usage", account.account_id, value)

    def _ticket(self, account: _Account, at: datetime) -> DemoRecord:
        rng = self._rng
        if account.open_tickets and rng.random() < 0.5:
            ticket_id, priority = account.open_tickets.pop(rng.randrange(len(account.open_tickets)))
            action = rng.choices(("resolved", "escalated", "updated"), weights=(6, 1, 3))[0]
            if action != "resolved":
                account.open_tickets.append((ticket_id, priority))
        else:
            ticket_id = self._next_id("tkt")
            urgent_weight = 4 if account.mood == "stormy" else 1
            priority = rng.choices(
                ("low", "normal", "high", "urgent"), weights=(3, 5, 2, urgent_weight)
            )[0]
            account.open_tickets.append((ticket_id, priority))
            action = "opened"
        value = self._common(account, at, "tev") | {
            "ticket_id": ticket_id,
            "action": action,
            "priority": priority,
            "category": rng.choice(TICKET_CATEGORIES),
            "first_response_minutes": round(rng.expovariate(1 / 90), 1)
            if action == "opened"
            else None,
        }
        return DemoRecord("ticket", account.account_id, value)

    def _survey(self, account: _Account, at: datetime) -> DemoRecord:
        rng = self._rng
        if rng.random() < 0.7:
            survey = "nps"
            mean = 3 if account.mood == "unhappy" else 8.5
            score = min(10, max(0, round(rng.gauss(mean, 1.5))))
        else:
            survey = "csat"
            mean = 2 if account.mood == "unhappy" else 4.3
            score = min(5, max(1, round(rng.gauss(mean, 0.7))))
        value = self._common(account, at, "srv") | {
            "user_id": rng.choice(account.users),
            "survey": survey,
            "score": score,
            "comment": "demo response",
        }
        return DemoRecord("survey", account.account_id, value)
