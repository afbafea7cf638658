"""The NSM decline detector: seasonality, spikes, small accounts, recovery and hysteresis."""

from __future__ import annotations

import random
import statistics

import pytest

from stream_app.alerts import Condition, NsmDeclineParams, NsmHistory, assess_decline
from stream_app.alerts.nsm_decline import TRIMMED_VARIANCE_SHARE, dispersion, span_tests
from stream_app.alerts.poisson import poisson_lower_tail

PARAMS = NsmDeclineParams()
WEEK = (100.0, 105.0, 104.0, 98.0, 90.0, 30.0, 25.0)  # weekdays busy, weekend quiet


def history(current, baselines=(WEEK, WEEK, WEEK, WEEK)) -> NsmHistory:
    return NsmHistory(
        "weekly_active_users", 1, "active user-days", tuple(current), tuple(map(tuple, baselines))
    )


def judge(current, baselines=(WEEK, WEEK, WEEK, WEEK), params=PARAMS):
    return assess_decline(history(current, baselines), params, "nsm_decline", "weekly users")


def test_a_steady_week_is_clear():
    assert judge(WEEK).condition is Condition.CLEAR


def test_a_quiet_weekend_is_not_a_decline_because_weekdays_are_compared_with_weekdays():
    # the last two steps are the weekend: a naive mean of the week would call this -70%
    verdict = judge(WEEK)
    assert verdict.condition is Condition.CLEAR
    assert verdict.metric.window == "P7D"


def test_a_sharp_drop_fires_on_its_first_day():
    verdict = judge((*WEEK[:-1], WEEK[-1] * 0.0 + 5.0))
    assert verdict.condition is Condition.FIRING
    assert verdict.metric.window == "P1D"
    assert verdict.severity == "critical"
    assert verdict.metric.change_pct == pytest.approx(-80.0)


def test_severity_follows_the_size_of_the_drop():
    warning = judge((*WEEK[:-3], *(v * 0.55 for v in WEEK[-3:])))
    assert warning.condition is Condition.FIRING and warning.severity == "warning"


def test_one_spike_in_the_baseline_is_ignored_by_the_median():
    spiky = tuple(v * 10 for v in WEEK)
    assert judge(WEEK, (WEEK, spiky, WEEK, WEEK)).condition is Condition.CLEAR


def test_spikes_in_two_earlier_weeks_on_different_days_are_ignored_too():
    # a median of span sums would fail here: two of four weeks are high over the last 2 days
    thursday_spike = (*WEEK[:5], WEEK[5] * 5, WEEK[6])
    friday_spike = (*WEEK[:6], WEEK[6] * 5)
    baselines = (WEEK, thursday_spike, friday_spike, WEEK)
    assert judge(WEEK, baselines).condition is Condition.CLEAR


def test_a_spike_does_not_inflate_the_dispersion_either():
    spiky = tuple(v * 10 for v in WEEK)
    assert dispersion(history(WEEK, (WEEK, spiky, WEEK, WEEK)), 1.0) == 1.0


def test_bursty_counts_need_more_evidence_than_poisson_alone():
    rng = random.Random(1)
    bursty = [tuple(v * rng.uniform(0.4, 1.6) for v in WEEK) for _ in range(4)]
    assert dispersion(history(WEEK, bursty), 1.0) > 3
    # a halving over three days fires against a steady history but not against a bursty one
    dip = (*WEEK[:-3], *(v * 0.5 for v in WEEK[-3:]))
    assert judge(dip).condition is Condition.FIRING
    assert judge(dip, bursty).condition is not Condition.FIRING


def poisson(rng: random.Random, mean: float) -> float:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return float(count)


@pytest.mark.parametrize("size", [0.5, 2.0, 8.0])
def test_pure_noise_does_not_fire_in_a_thousand_weeks(size):
    rng = random.Random(7)
    mean = tuple(v / 100 * size for v in WEEK)  # from ~0.1 to ~8 a day

    def week() -> tuple[float, ...]:
        return tuple(poisson(rng, m) for m in mean)

    fired = sum(
        judge(week(), [week() for _ in range(4)]).condition is Condition.FIRING for _ in range(1000)
    )
    assert fired <= 1


@pytest.mark.parametrize("weeks", sorted(TRIMMED_VARIANCE_SHARE))
def test_the_trimmed_variance_share_is_what_leaving_out_the_farthest_value_costs(weeks):
    rng = random.Random(weeks)
    total = 0.0
    for _ in range(20_000):
        values = [rng.gauss(0.0, 1.0) for _ in range(weeks)]
        centre = statistics.median(values)
        values.remove(max(values, key=lambda v: abs(v - centre)))
        total += statistics.variance(values)
    assert total / 20_000 == pytest.approx(TRIMMED_VARIANCE_SHARE[weeks], abs=0.02)


def active_users(rng: random.Random, users: int, activity: tuple[float, ...]) -> tuple[float, ...]:
    """One week of a steady account's daily distinct users: each user in or out each day."""
    return tuple(float(sum(rng.random() < p for _ in range(users))) for p in activity)


USAGE_WEEK = tuple(0.75 * f for f in (1.0, 1.05, 1.05, 1.0, 0.9, 0.3, 0.25))  # share active


@pytest.mark.parametrize("weeks", [3, 4])
def test_the_dispersion_of_distinct_users_is_estimated_without_bias(weeks):
    # each user in or out: variance / mean is 1 - p per day; pooled over this week's levels
    rng = random.Random(5)
    users = 20
    truth = sum(users * p * (1 - p) for p in USAGE_WEEK) / sum(users * p for p in USAGE_WEEK)
    estimates = [
        dispersion(
            history(USAGE_WEEK, [active_users(rng, users, USAGE_WEEK) for _ in range(weeks)]),
            floor=0.01,
        )
        for _ in range(2000)
    ]
    assert statistics.fmean(estimates) == pytest.approx(truth, rel=0.15)


@pytest.mark.parametrize("users", [3, 6, 12, 40])
def test_steady_users_do_not_fire_in_a_thousand_weeks(users):
    rng = random.Random(users)

    def week() -> tuple[float, ...]:
        return active_users(rng, users, USAGE_WEEK)

    fired = sum(
        judge(week(), [week() for _ in range(4)]).condition is Condition.FIRING for _ in range(1000)
    )
    assert fired <= 1


def test_a_medium_account_that_goes_silent_on_weekdays_fires():
    medium = (3.0, 2.0, 12.0, 13.0, 12.0, 11.0, 10.0)  # the last five steps are weekdays
    verdict = judge((*medium[:-3], 0.0, 0.0, 0.0), (medium,) * 4)
    assert verdict.condition is Condition.FIRING


def test_a_small_account_losing_everyone_still_fires_when_it_had_enough_volume():
    small = (3.0, 4.0, 3.0, 4.0, 2.0, 1.0, 1.0)  # 18 user-days a week
    assert judge((0.0,) * 7, (small,) * 4).condition is Condition.FIRING


def test_too_few_earlier_weeks_is_holding_not_clear():
    verdict = judge((0.0,) * 7, (WEEK, WEEK))
    assert verdict.condition is Condition.HOLDING  # never resolves an alert for lack of data


def test_hysteresis_a_partial_recovery_holds_and_a_full_one_clears():
    partial = tuple(v * 0.8 for v in WEEK)  # -20%: under the 30% to fire, over the 15% to clear
    assert judge(partial).condition is Condition.HOLDING
    assert judge(tuple(v * 0.95 for v in WEEK)).condition is Condition.CLEAR


def test_the_absolute_drop_guards_small_baselines():
    params = NsmDeclineParams(min_baseline=1.0, min_absolute_drop=3.0)
    tiny = (2.0,) * 7
    verdict = judge((2.0,) * 6 + (0.0,), (tiny,) * 4, params)
    assert all(
        t.baseline - t.current < 3
        for t in span_tests(history((2.0,) * 6 + (0.0,), (tiny,) * 4), params)
        if t.steps == 1
    )
    assert verdict.condition is not Condition.FIRING


@pytest.mark.parametrize(
    ("observed", "expected", "exact"),
    [(0, 1.0, 0.36787944), (3, 10.0, 0.01033605), (10, 10.0, 0.58303975), (80, 100.0, 0.02264)],
)
def test_poisson_lower_tail_matches_known_values(observed, expected, exact):
    assert poisson_lower_tail(observed, expected) == pytest.approx(exact, rel=0.03)
