"""How good are the NSM decline alerts? Recall, false alerts and detection delay.

Compares the ``nsm_decline`` incidents a backtest published with a cohort's ground truth
(``cohort --truth``): an injected decline (``decline`` or ``silent``) is *detected* when an
incident starts between its onset and ``DETECTION_HORIZON_DAYS`` after it; any other incident
is a *false alert*. False alerts are counted per 1,000 account-weeks of time in which an
account could alarm at all (after ``WARM_UP_DAYS``, before any onset) and split by scenario,
so "steady" and "small" accounts can be judged on their own.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["AlertQuality", "measure_alert_quality"]

DETECTION_HORIZON_DAYS = 14
WARM_UP_DAYS = 28  # four baseline weeks: no NSM alert is possible before
DECLINE_SCENARIOS = ("decline", "silent")
SIZE_BUCKETS = ((0, 5, "1-4 users"), (5, 15, "5-14 users"), (15, 10**9, "15+ users"))


@dataclass
class AlertQuality:
    declines: int = 0
    detected: int = 0
    delays_days: list[float] = field(default_factory=list)
    recall_by_size: dict[str, tuple[int, int]] = field(default_factory=dict)
    delays_by_size: dict[str, list[float]] = field(default_factory=dict)
    false_alerts: Counter[str] = field(default_factory=Counter)
    account_weeks: Counter[str] = field(default_factory=Counter)
    incidents_by_rule: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.detected / self.declines if self.declines else float("nan")

    @property
    def median_delay_days(self) -> float:
        return statistics.median(self.delays_days) if self.delays_days else float("nan")

    def false_per_1000_weeks(self, scenarios: Iterable[str] | None = None) -> float:
        names = list(scenarios) if scenarios is not None else list(self.account_weeks)
        weeks = sum(self.account_weeks[n] for n in names)
        alerts = sum(self.false_alerts[n] for n in names)
        return 1000 * alerts / weeks if weeks else float("nan")

    def report(self) -> str:
        lines = [
            f"injected NSM declines: {self.declines}, detected within "
            f"{DETECTION_HORIZON_DAYS} days: {self.detected} (recall {self.recall:.3f})",
            f"detection delay after onset (days): median {self.median_delay_days:.2f}, "
            + (f"p90 {_quantile(self.delays_days, 0.9):.2f}" if self.delays_days else "n/a"),
            "recall by account size: "
            + ", ".join(f"{k} {d}/{n}" for k, (d, n) in self.recall_by_size.items()),
            "median delay by account size (days): "
            + ", ".join(
                f"{k} {statistics.median(v):.2f}" for k, v in self.delays_by_size.items() if v
            ),
            "false NSM alerts per 1,000 account-weeks: "
            + ", ".join(
                f"{name} {self.false_per_1000_weeks([name]):.2f} "
                f"({self.false_alerts[name]} in {self.account_weeks[name]:.0f} weeks)"
                for name in sorted(self.account_weeks)
            )
            + f"; all {self.false_per_1000_weeks():.2f}",
            "incidents by rule: "
            + ", ".join(f"{rule} {n}" for rule, n in sorted(self.incidents_by_rule.items())),
        ]
        return "\n".join(lines)


def measure_alert_quality(
    alerts: Iterable[Mapping[str, Any]], truth: Mapping[str, Mapping[str, Any]]
) -> AlertQuality:
    """``alerts``: published RiskAlert records (any rules); ``truth``: ``cohort --truth``."""
    quality = AlertQuality()
    starts: dict[str, list[datetime]] = defaultdict(list)
    seen: set[str] = set()
    for alert in alerts:
        if alert["alert_id"] in seen:
            continue  # re-notifications and resolutions of an incident already counted
        seen.add(alert["alert_id"])
        quality.incidents_by_rule[alert["rule"].split(":")[0]] += 1
        if alert["rule"].startswith("nsm_decline"):
            starts[alert["account_id"]].append(datetime.fromisoformat(alert["started_at"]))
    detected_by_size: Counter[str] = Counter()
    declines_by_size: Counter[str] = Counter()
    for account, facts in truth.items():
        start = datetime.fromisoformat(facts["start"])
        warm_up_end = start + timedelta(days=WARM_UP_DAYS)
        end = start + timedelta(days=facts["days"])
        declined = facts["scenario"] in DECLINE_SCENARIOS
        onset = start + timedelta(days=facts["onset_day"]) if declined else None
        quiet_until = onset or end
        quality.account_weeks[facts["scenario"]] += max(
            0.0, (quiet_until - warm_up_end).total_seconds() / (7 * 86_400)
        )
        for started in starts.get(account, []):
            late_enough = onset is not None and started >= onset
            if not late_enough and started >= warm_up_end:
                quality.false_alerts[facts["scenario"]] += 1
        if onset is None:
            continue
        size = next(label for low, high, label in SIZE_BUCKETS if low <= facts["users"] < high)
        declines_by_size[size] += 1
        quality.declines += 1
        horizon = onset + timedelta(days=DETECTION_HORIZON_DAYS)
        hits = [s for s in starts.get(account, []) if onset <= s <= horizon]
        if hits:
            quality.detected += 1
            detected_by_size[size] += 1
            delay = (min(hits) - onset).total_seconds() / 86_400
            quality.delays_days.append(delay)
            quality.delays_by_size.setdefault(size, []).append(delay)
    quality.recall_by_size = {
        label: (detected_by_size[label], declines_by_size[label])
        for _, _, label in SIZE_BUCKETS
        if declines_by_size[label]
    }
    return quality


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
