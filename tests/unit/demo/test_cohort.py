"""The synthetic cohort's optional holidays (the quality harness's robustness check)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import pairwise

import pytest

from stream_app.demo.cohort import Cohort

DAYS = 70
GAP = 8  # a "long gap": more days than this between two active days


def active_days(cohort: Cohort) -> dict[str, set[int]]:
    """Each regular user's active days (user ids of spike-day guests excluded)."""
    regulars = {
        f"{p.account_id}-u{u:04d}"
        for p in cohort.plans
        if p.scenario == "steady"
        for u in range(p.users)
    }
    start = cohort.start.timestamp()
    days: dict[str, set[int]] = defaultdict(set)
    for record in cohort.records():
        user = record.value.get("user_id")
        if record.kind == "usage" and user in regulars:
            at = datetime.fromisoformat(record.value["occurred_at"]).timestamp()
            days[user].add(int((at - start) // 86_400))
    return days


def test_holidays_leave_the_accounts_and_their_scenarios_as_they_were() -> None:
    plain, away = Cohort(300, DAYS, seed=5), Cohort(300, DAYS, seed=5, holiday_chance=1 / 70)
    assert away.ground_truth() == plain.ground_truth()


def test_users_on_holiday_are_away_for_5_to_10_days_about_a_tenth_of_the_time() -> None:
    plain = active_days(Cohort(300, DAYS, seed=5))
    away = active_days(Cohort(300, DAYS, seed=5, holiday_chance=1 / 70))

    # a user active on about 3 weekdays in 4 is seldom quiet for a week and a day by chance,
    # and holidays of up to 10 days (plus a weekend) make such gaps
    def long_gaps(days: dict[str, set[int]]) -> int:
        count = 0
        for active in days.values():
            ordered = sorted(active)
            count += sum(1 for a, b in pairwise(ordered) if b - a > GAP)
        return count

    assert long_gaps(away) > 5 * long_gaps(plain)  # measured: 1,074 against 95
    plain_total = sum(len(d) for d in plain.values())
    away_total = sum(len(d) for d in away.values())
    assert 0.80 < away_total / plain_total < 0.95  # away on about a tenth of the days


@pytest.mark.parametrize("chance", [-0.1, 1.0])
def test_a_holiday_chance_outside_0_to_1_is_refused(chance: float) -> None:
    with pytest.raises(ValueError, match="holiday_chance"):
        Cohort(10, DAYS, holiday_chance=chance)
