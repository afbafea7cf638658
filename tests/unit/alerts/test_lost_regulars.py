"""The lost-regulars test: which regular users went quiet, on simulated users with habits."""

from __future__ import annotations

import math
import random

import pytest

from stream_app.alerts import Condition, NsmDeclineParams, NsmHistory, assess_decline
from stream_app.alerts.lost_regulars import lost_regulars, poisson_binomial_upper_tail
from stream_app.alerts.nsm_decline import span_tests

DAYS = 35  # five weeks: a 7-day span and four weeks before it
# chance a user is active, by weekday; the last simulated day is a Friday (index 4)
HABIT = (0.75, 0.79, 0.79, 0.75, 0.68, 0.22, 0.19)
TESTS = {"lookback": 28, "max_quiet_chance": 0.25, "min_quiet_chance": 0.02, "min_regulars": 3}


def simulate(
    users: int, rng: random.Random, lost: int = 0, lost_days: int = 0, last_weekday: int = 4
) -> list[int]:
    """Bit masks of ``users`` users with HABIT over DAYS days ending on ``last_weekday``
    (Friday unless said); ``lost`` of them silent for the last ``lost_days``."""
    masks = []
    for user in range(users):
        quiet_from = DAYS - lost_days if user < lost else DAYS
        mask = 0
        for bit in range(quiet_from):
            if rng.random() < HABIT[(last_weekday - (DAYS - 1 - bit)) % 7]:
                mask |= 1 << bit
        masks.append(mask)
    return masks


def daily_users(masks: list[int]) -> list[float]:
    return [float(sum(m >> bit & 1 for m in masks)) for bit in range(DAYS)]


def history(masks: list[int]) -> NsmHistory:
    days = daily_users(masks)
    weeks = [tuple(days[end - 7 : end]) for end in range(DAYS, 0, -7)]
    return NsmHistory(
        "weekly_active_users", 1, "active user-days", weeks[0], tuple(weeks[1:]),
        tuple(masks), DAYS, DAYS,
    )  # fmt: skip


def test_four_of_ten_regulars_gone_for_three_weekdays_is_telling():
    # 10 users, 4 leave on Wednesday: by Friday night the day counts alone say little (about
    # 13 active user-days against 23), but four people who are nearly always there are not
    masks = simulate(10, random.Random(3), lost=4, lost_days=3)
    test = lost_regulars(masks, DAYS, DAYS, 3, **TESTS)
    assert test is not None
    assert test.quiet >= 4
    assert test.p_value < 1e-4
    count_test = span_tests(history(masks), NsmDeclineParams(regulars_test=False))[2]
    assert count_test.steps == 3
    assert count_test.p_value > 100 * test.p_value


def test_a_decline_fires_earlier_with_the_regulars_than_on_the_count_alone():
    # half of a 10-user team gone: the count needs more days to be sure than the regulars do.
    # (Four of ten gone is caught earlier in only 3 of these 20 seeds: with the holiday floor
    # of 2 % per regular, four quiet regulars of ten are not rare enough.)
    with_regulars = NsmDeclineParams()
    count_only = NsmDeclineParams(regulars_test=False)
    earlier = 0
    for seed in range(20):
        first = {}
        for name, params in (("regulars", with_regulars), ("count", count_only)):
            for lost_days in range(1, 8):
                masks = simulate(10, random.Random(seed), lost=5, lost_days=lost_days)
                verdict = assess_decline(history(masks), params, "nsm_decline", "weekly users")
                if verdict.condition is Condition.FIRING:
                    first[name] = lost_days
                    break
        assert first.get("regulars", 99) <= first.get("count", 99)
        earlier += first.get("regulars", 99) < first.get("count", 99)
    assert earlier >= 15


def test_the_alert_names_the_quiet_regulars():
    masks = simulate(12, random.Random(8), lost=6, lost_days=4)
    verdict = assess_decline(history(masks), NsmDeclineParams(), "nsm_decline", "weekly users")
    assert verdict.condition is Condition.FIRING
    assert "of 12 regular users not seen over the last" in verdict.summary


@pytest.mark.parametrize("users", [3, 6, 12, 30])
def test_its_p_values_are_honest_on_steady_users(users):
    # without a decline, "p <= x" must happen in at most about x of the cases: the Beta
    # posterior and the shrunk weekday profile make the test conservative, never bold
    rng = random.Random(users)
    p_values = []
    for _ in range(600):
        masks = simulate(users, rng)
        for span in (1, 3, 7):
            test = lost_regulars(masks, DAYS, DAYS, span, **TESTS)
            if test is not None:
                p_values.append(test.p_value)
    assert len(p_values) > 900
    for level in (0.01, 0.05, 0.2):
        share = sum(p <= level for p in p_values) / len(p_values)
        assert share <= level * 1.2, (level, share)


def test_two_regulars_are_not_enough_to_judge():
    # a team of two often rests together: the independence the test rests on is not there
    masks = simulate(2, random.Random(1), lost=2, lost_days=5)
    assert lost_regulars(masks, DAYS, DAYS, 5, **TESTS) is None


def test_guests_and_occasional_users_are_not_regulars():
    rng = random.Random(5)
    regulars = simulate(5, rng)
    guest = 1 << 10  # seen on a single spike day
    occasional = (1 << 3) | (1 << 17) | (1 << 24)  # three days in four weeks
    test = lost_regulars([*regulars, guest, occasional], DAYS, DAYS, 3, **TESTS)
    assert test is not None
    assert test.regulars == 5


def test_a_quiet_weekend_says_little():
    # everyone quiet on a Saturday and Sunday happens every few weeks: with the weekday
    # profile, hardly anyone is a regular over two weekend days
    masks = simulate(8, random.Random(2), last_weekday=6)
    saturday_and_sunday = 3 << (DAYS - 2)
    quiet = [m & ~saturday_and_sunday for m in masks]
    test = lost_regulars(quiet, DAYS, DAYS, 2, **TESTS)
    assert test is None or test.p_value > 0.01
    # the same two quiet days on Thursday and Friday are another matter
    weekdays = [m & ~saturday_and_sunday for m in simulate(8, random.Random(2))]
    on_weekdays = lost_regulars(weekdays, DAYS, DAYS, 2, **TESTS)
    assert on_weekdays is not None and on_weekdays.p_value < 1e-3


def test_too_little_history_is_no_test():
    masks = simulate(10, random.Random(4), lost=4, lost_days=3)
    assert lost_regulars(masks, DAYS, 16, 3, **TESTS) is None  # 13 observed days before
    assert lost_regulars(masks, DAYS, 17, 3, **TESTS) is not None


@pytest.mark.parametrize(("n", "chance", "at_least"), [(10, 0.3, 4), (5, 0.01, 1), (7, 0.5, 0)])
def test_poisson_binomial_tail_with_equal_chances_is_the_binomial_tail(n, chance, at_least):
    binomial = sum(
        math.comb(n, k) * chance**k * (1 - chance) ** (n - k) for k in range(at_least, n + 1)
    )
    assert poisson_binomial_upper_tail([chance] * n, at_least) == pytest.approx(binomial)


def test_poisson_binomial_tail_with_unequal_chances():
    # P(at least 2 of three events with chances 0.1, 0.2, 0.5), by enumeration
    expected = 0.1 * 0.2 * 0.5 + 0.1 * 0.2 * 0.5 + 0.1 * 0.8 * 0.5 + 0.9 * 0.2 * 0.5
    assert poisson_binomial_upper_tail([0.1, 0.2, 0.5], 2) == pytest.approx(expected)


def test_no_regular_is_assumed_never_to_take_a_holiday():
    # five quiet weekdays make a steady user's own quiet chance tiny; a week off is not
    masks = simulate(10, random.Random(3), lost=4, lost_days=5)
    floored = lost_regulars(masks, DAYS, DAYS, 5, **TESTS)
    unfloored = lost_regulars(masks, DAYS, DAYS, 5, **(TESTS | {"min_quiet_chance": 0.0}))
    assert floored is not None and unfloored is not None
    assert unfloored.p_value < floored.p_value / 100
    at_the_floor = sum(math.comb(10, k) * 0.02**k * 0.98 ** (10 - k) for k in range(4, 11))
    assert floored.p_value >= at_the_floor * (1 - 1e-9)
