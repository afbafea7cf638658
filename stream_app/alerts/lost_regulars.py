"""Which regular users went quiet: the per-user evidence of a distinct-users NSM decline.

The pooled test (:mod:`stream_app.alerts.nsm_decline`) sees only how many users were active
each day. When an account loses users, it is *the same* users who stop, day after day, and a
user active on three of four weekdays who has not been seen for three weekdays is far less
likely to be on an ordinary break than the day's total alone can tell: per day of data, a
lost regular carries about twice the evidence (Kullback-Leibler, 1.4 against 0.6 nats for an
account of 10 users active on 75 % of weekdays losing 4 of them). This module measures it.

For a span of the last k days it asks, for each user seen in the ``lookback`` days before the
span: how likely was this user to be quiet for the whole span? The answer combines

- the user's own quiet share over the lookback, as a Beta posterior (Jeffreys prior), so a
  rate estimated from a few weeks is not taken as exact: the chance of k quiet days is the
  posterior's k-th moment, not the point estimate to the k-th power;
- the account's weekday profile (the regulars' quiet share on each weekday, shrunk towards
  their overall share), because a weekend day says little about anyone.

Users whose quiet chance is at most ``max_quiet_chance`` are the span's *regulars*. Under "no
decline" each regular is quiet independently with its own chance, so the number of quiet
regulars has a Poisson-binomial distribution, and its upper tail is the p-value.

No chance is taken below ``min_quiet_chance``. Days of a habit are not independent: people
take holidays, a week or two at a time, and four weeks of history rarely show one. Without
the floor, a cohort whose users are away about 10 % of the time (independent holidays of 5-10
days) had 1.1-1.7 false alarms per 1,000 account-weeks, against 0.4-0.8 for the count alone.

Independence is the assumption to watch: a team of two often works and rests together, so the
test is not used with fewer than ``min_regulars`` regulars, and the pooled test judges alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RegularsTest", "lost_regulars", "poisson_binomial_upper_tail"]

MIN_ACTIVE_DAYS = 2  # one sighting in four weeks is a guest, not a user with a habit
PROFILE_SHARE = 0.25  # the weekday profile is read from users active on a quarter of the days
PROFILE_PRIOR_DAYS = 10.0  # user-days pulling a weekday's quiet share towards the overall one
MIN_LOOKBACK_DAYS = 14
WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class RegularsTest:
    regulars: int  # users with a quiet chance over the span of at most max_quiet_chance
    quiet: int  # of them, not seen in the span
    p_value: float  # chance of at least ``quiet`` quiet regulars if nothing changed


def lost_regulars(
    user_days: Sequence[int],
    days: int,
    observed_days: int,
    span: int,
    *,
    lookback: int,
    max_quiet_chance: float,
    min_quiet_chance: float,
    min_regulars: int,
) -> RegularsTest | None:
    """``user_days``: one bit mask per user over ``days`` days, bit i set if the user was
    active on the i-th (bit ``days - 1``: the last judged day). ``observed_days``: how many of
    the last days the account was fully observed (days before its first usage, or its partial
    first day, are not evidence of anything). ``None`` when there is too little history or
    there are too few regulars.
    """
    lookback = min(lookback, observed_days - span, days - span)
    if lookback < MIN_LOOKBACK_DAYS:
        return None
    first = days - span - lookback  # the first lookback day's bit
    span_mask = ((1 << span) - 1) << (days - span)
    lookback_mask = ((1 << lookback) - 1) << first
    active_days = [(mask, (mask & lookback_mask).bit_count()) for mask in user_days]
    users = [(mask, n) for mask, n in active_days if n >= MIN_ACTIVE_DAYS]
    if len(users) < min_regulars:
        return None
    weight = _weekday_weights(users, range(first, first + lookback), days)
    exposure = sum(weight[(days - 1 - i) % WEEK_DAYS] for i in range(days - span, days))
    chances = []
    quiet = 0
    for mask, n in users:
        chance = max(_quiet_chance(lookback - n, n, exposure), min_quiet_chance)
        if chance <= max_quiet_chance:
            chances.append(chance)
            quiet += not mask & span_mask
    if len(chances) < min_regulars:
        return None
    p_value = poisson_binomial_upper_tail(chances, quiet) if quiet else 1.0
    return RegularsTest(len(chances), quiet, p_value)


def _weekday_weights(users: list[tuple[int, int]], lookback: range, days: int) -> list[float]:
    """How much one day counts at each weekday (days before the last, mod 7), in units of an
    average day: log(quiet share that weekday) / log(overall quiet share), so that a user
    quiet on an average day with chance s is quiet on that weekday with chance s ** weight."""
    profile = [mask for mask, n in users if n >= len(lookback) * PROFILE_SHARE] or [
        mask for mask, _ in users
    ]
    quiet = [0] * WEEK_DAYS
    seen = [0] * WEEK_DAYS
    for i in lookback:
        bit = 1 << i
        weekday = (days - 1 - i) % WEEK_DAYS
        quiet[weekday] += sum(1 for mask in profile if not mask & bit)
        seen[weekday] += len(profile)
    overall = min(max(sum(quiet) / sum(seen), 0.02), 0.98)
    weights = []
    for q, n in zip(quiet, seen, strict=True):
        share = (q + PROFILE_PRIOR_DAYS * overall) / (n + PROFILE_PRIOR_DAYS)
        weights.append(math.log(share) / math.log(overall))
    return weights


def _quiet_chance(quiet_days: int, active_days: int, exposure: float) -> float:
    """E[s ** exposure] for s ~ Beta(quiet + 1/2, active + 1/2): the chance of a user with this
    history being quiet for ``exposure`` average days, its rate's uncertainty included."""
    a, b = quiet_days + 0.5, active_days + 0.5
    return math.exp(
        math.lgamma(a + exposure)
        + math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(a + b + exposure)
    )


def poisson_binomial_upper_tail(chances: Sequence[float], at_least: int) -> float:
    """P(at least ``at_least`` of independent events with these chances happen)."""
    distribution = [1.0]  # distribution[i]: P(exactly i of the events so far)
    for chance in chances:
        following = [0.0] * (len(distribution) + 1)
        for i, p in enumerate(distribution):
            following[i] += p * (1 - chance)
            following[i + 1] += p * chance
        distribution = following
    return min(1.0, sum(distribution[at_least:]))
