"""A seeded synthetic cohort over many days, with ground truth, for backtests.

Each account has a size, a usage rate with weekly seasonality and one scenario:
``steady``; ``small`` (one to three users with erratic, bursty use: noise that must not alarm);
``support_storm`` (urgent tickets and escalations from ``onset_day``); ``detractors``
(unhappy NPS responses from ``onset_day``); ``silent`` (stops sending at ``onset_day``);
``decline`` (active users drop by ``drop`` from ``onset_day``). Any account has the odd
one-off spike day (a migration, a training session) with several times its usual use.
Delivery is realistic: a few percent of events arrive late or twice.

Optionally (``holiday_chance``) the users take holidays: each day a user who is not away
starts one of 5 to 10 days with that chance, independently of the others (1/70: away on
about a tenth of the days). A regular who is away for the whole of a detector's span looks
like one who left, so this is what the lost-regulars test must stay quiet on (decisions §36).
Holidays draw from their own random stream: the accounts, their scenarios and every other
event are those of the same seed without holidays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stream_app.demo.generator import EVENT_TYPES, SEGMENTS

__all__ = ["AccountPlan", "Cohort", "TimedRecord"]

SCENARIOS = ("steady", "small", "support_storm", "detractors", "silent", "decline")
NSM_DECLINES = ("silent", "decline")  # scenarios whose active users fall: ground truth
SPIKE_CHANCE = 0.01  # per account-day
SPIKE_FACTOR = 4.0
HOLIDAY_DAYS = (5, 10)  # shortest and longest, inclusive
WEEKDAY_FACTOR = (1.0, 1.05, 1.05, 1.0, 0.9, 0.3, 0.25)


@dataclass(frozen=True)
class AccountPlan:
    account_id: str
    segment: str
    users: int
    daily_events_per_user: float
    scenario: str
    onset_day: int | None
    drop: float = 0.0


@dataclass(frozen=True, slots=True)
class TimedRecord:
    delivered_at: float
    kind: str
    key: str
    value: dict[str, Any]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Cohort:
    def __init__(
        self,
        accounts: int,
        days: int,
        start: datetime = datetime(2026, 1, 5, tzinfo=UTC),
        seed: int = 42,
        scenario_weights: tuple[float, ...] = (60, 10, 10, 6, 6, 8),
        holiday_chance: float = 0.0,
    ) -> None:
        if not 0.0 <= holiday_chance < 1.0:
            raise ValueError(f"holiday_chance must be in [0, 1), got {holiday_chance}")
        self.rng = random.Random(seed)
        self.days = days
        self.start = start
        self.plans = [self._plan(i, scenario_weights) for i in range(accounts)]
        self._sequence = 0
        self.holiday_chance = holiday_chance
        self._holiday_rng = random.Random(f"holidays-{seed}")
        self._away_until: dict[tuple[str, int], int] = {}  # (account, user) -> first day back

    def _plan(self, index: int, weights: tuple[float, ...]) -> AccountPlan:
        rng = self.rng
        segment = rng.choices(SEGMENTS, weights=(6, 3, 1))[0]
        users = max(
            2,
            int(
                rng.lognormvariate({"smb": 1.6, "mid_market": 2.6, "enterprise": 3.4}[segment], 0.5)
            ),
        )
        scenario = rng.choices(SCENARIOS, weights=weights)[0]
        if scenario == "small":
            users = rng.randint(1, 3)
        onset = (
            None if scenario in ("steady", "small") else rng.randint(self.days - 28, self.days - 10)
        )
        return AccountPlan(
            account_id=f"acct-{index:05d}",
            segment=segment,
            users=users,
            daily_events_per_user=rng.uniform(0.6, 2.0) * (3 if scenario == "small" else 1),
            scenario=scenario,
            onset_day=onset,
            drop=rng.uniform(0.4, 0.8) if scenario == "decline" else 0.0,
        )

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        return {
            p.account_id: {
                "scenario": p.scenario,
                "segment": p.segment,
                "users": p.users,
                "onset_day": p.onset_day,
                "drop": 1.0 if p.scenario == "silent" else round(p.drop, 3),
                "start": self.start.isoformat(),
                "days": self.days,
            }
            for p in self.plans
        }

    def records(self) -> Iterator[TimedRecord]:
        """Every record, in delivery order."""
        pending: list[TimedRecord] = []
        for plan in self.plans:
            pending.extend(self._profile(plan))
        for day in range(self.days):
            for plan in self.plans:
                pending.extend(self._day(plan, day))
        pending.sort(key=lambda r: r.delivered_at)
        return iter(pending)

    # ------------------------------------------------------------------ builders

    def _next_id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}-{self._sequence:010d}"

    def _timed(
        self, kind: str, plan: AccountPlan, at: datetime, fields: dict[str, Any]
    ) -> list[TimedRecord]:
        value = {
            "event_id": self._next_id(kind[:3]),
            "account_id": plan.account_id,
            "occurred_at": at.isoformat(),
        } | fields
        delivered = at.timestamp()
        roll = self.rng.random()
        if roll < 0.02:  # late delivery, up to three hours
            delivered += self.rng.uniform(60, 3 * 3600)
        records = [TimedRecord(delivered, kind, plan.account_id, value)]
        if roll > 0.995:  # at-least-once producers: the same event twice
            records.append(
                TimedRecord(delivered + self.rng.uniform(1, 600), kind, plan.account_id, value)
            )
        return records

    def _profile(self, plan: AccountPlan) -> list[TimedRecord]:
        value = {
            "account_id": plan.account_id,
            "segment": plan.segment,
            "seats": int(plan.users * 1.3) + 1,
        }
        return [TimedRecord(self.start.timestamp() - 1, "account", plan.account_id, value)]

    def _moment(self, day: int) -> datetime:
        # business hours, roughly
        return self.start + timedelta(days=day, seconds=self.rng.uniform(7 * 3600, 20 * 3600))

    def _away(self, plan: AccountPlan, day: int) -> set[int]:
        """The numbers of the account's users who are on holiday on ``day`` (a spike day's
        guests are numbered after the users still active, so in a declined account a guest can
        share the number of a departed user on holiday and stay home with it)."""
        if not self.holiday_chance:
            return set()
        away = set()
        for user in range(plan.users):
            key = (plan.account_id, user)
            back = self._away_until.get(key, 0)
            if day >= back and self._holiday_rng.random() < self.holiday_chance:
                back = self._away_until[key] = day + self._holiday_rng.randint(*HOLIDAY_DAYS)
            if day < back:
                away.add(user)
        return away

    def _day(self, plan: AccountPlan, day: int) -> list[TimedRecord]:
        rng = self.rng
        after_onset = plan.onset_day is not None and day >= plan.onset_day
        if plan.scenario == "silent" and after_onset:
            return []
        weekday = (self.start + timedelta(days=day)).weekday()
        active_users = plan.users
        if plan.scenario == "decline" and after_onset:
            active_users = max(1, round(plan.users * (1 - plan.drop)))
        records: list[TimedRecord] = []
        spike = SPIKE_FACTOR if rng.random() < SPIKE_CHANCE else 1.0
        activity = 0.75 * WEEKDAY_FACTOR[weekday]
        if plan.scenario == "small":
            activity = rng.uniform(0.1, 0.9) * WEEKDAY_FACTOR[weekday]  # erratic from day to day
        guests = round(plan.users * (spike - 1))  # a spike brings people who are not regulars
        away = self._away(plan, day)
        for user in range(active_users + guests):
            if rng.random() > activity or user in away:
                continue
            for _ in range(_poisson(rng, plan.daily_events_per_user * 2)):
                records += self._timed(
                    "usage",
                    plan,
                    self._moment(day),
                    {
                        "user_id": f"{plan.account_id}-u{user:04d}",
                        "event_type": rng.choice(EVENT_TYPES),
                        "quantity": 1,
                    },
                )
        storm = plan.scenario == "support_storm" and after_onset
        for _ in range(_poisson(rng, 1.2 if storm else 0.08)):
            ticket = self._next_id("T")
            priority = rng.choices(
                ("low", "normal", "high", "urgent"),
                weights=(1, 2, 3, 6) if storm else (3, 6, 2, 0.5),
            )[0]
            opened = self._moment(day)
            records += self._timed(
                "ticket",
                plan,
                opened,
                {"ticket_id": ticket, "action": "opened", "priority": priority},
            )
            if storm and rng.random() < 0.4:
                records += self._timed(
                    "ticket",
                    plan,
                    opened + timedelta(hours=3),
                    {"ticket_id": ticket, "action": "escalated", "priority": priority},
                )
            resolve_after = timedelta(days=rng.uniform(4, 15) if storm else rng.uniform(0.2, 3))
            if opened + resolve_after < self.start + timedelta(days=self.days):
                records += self._timed(
                    "ticket",
                    plan,
                    opened + resolve_after,
                    {"ticket_id": ticket, "action": "resolved", "priority": priority},
                )
        unhappy = plan.scenario == "detractors" and after_onset
        for _ in range(_poisson(rng, 0.6 if unhappy else 0.04)):
            score = rng.randint(0, 5) if unhappy else min(10, max(5, round(rng.gauss(8.6, 1.1))))
            records += self._timed(
                "survey",
                plan,
                self._moment(day),
                {
                    "user_id": f"{plan.account_id}-u{rng.randrange(plan.users):04d}",
                    "survey": "nps",
                    "score": score,
                    "comment": "generated",
                },
            )
        return records
