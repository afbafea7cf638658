"""North Star Metric decline detection (DESIGN §5): pure statistics over per-step values.

The window layer hands over, per NSM, the values of the last ``window`` steps (one step is
usually a day) and of the same steps one, two, ... weeks earlier (:class:`NsmHistory`). For
every span of the last k steps (k = 1 .. window) the detector compares the current sum with
the sum of each step's *median* over the earlier weeks: same weekdays, so weekly seasonality
cancels; medians per step, so one-off spikes are ignored even when two earlier weeks each had
one on different days. A span fires when all of these hold:

- relative drop >= ``min_relative_drop``;
- absolute drop >= ``min_absolute_drop`` (NSM units): small accounts cannot alarm on 3 -> 1;
- baseline >= ``min_baseline``: too little volume to mean anything is not judged at all;
- a one-sided Poisson test says a count this low is unlikely (p <= ``significance``), with the
  variance scaled by the dispersion seen between the earlier weeks (quasi-Poisson), so bursty
  counts need more evidence than the Poisson model alone would ask.

Short spans catch a sharp drop a day or two after it starts; long spans catch slow erosion.
For a ``distinct_users`` NSM a step's value is that step's distinct users, so sums over spans
are active user-days: unlike distinct users over the span, they keep accumulating evidence.

For a daily ``distinct_users`` NSM the history may also carry which users were active on which
day; then a span whose drop passes the floors may show its significance by the regular users
who went quiet (:mod:`stream_app.alerts.lost_regulars`) instead of by the count. Each of the
two tests gets half the span's significance.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from stream_app.alerts.config import NsmDeclineParams
from stream_app.alerts.lost_regulars import RegularsTest, lost_regulars
from stream_app.alerts.poisson import poisson_lower_tail
from stream_app.alerts.verdict import Condition, Metric, Severity, Verdict

__all__ = ["NsmHistory", "SpanTest", "assess_decline", "dispersion", "span_tests"]

MIN_VALUES_FOR_VARIANCE = 3  # one is left out as a possible spike, two remain
# Leaving out the value farthest from the median shrinks the sample variance of the rest:
# for n normal draws its expected value is this share of the true variance (seeded
# simulation, 400k draws per n; re-derived in tests/unit/alerts/test_nsm_decline.py).
TRIMMED_VARIANCE_SHARE = {3: 0.174, 4: 0.364, 5: 0.473, 6: 0.527, 7: 0.580, 8: 0.612}
MEDIAN_VARIANCE = 1.5  # variance of the median of n draws, in units of one draw's, times n


@dataclass(frozen=True, slots=True)
class NsmHistory:
    """Per-step values of one NSM, oldest first. ``baselines[j]`` is the current window
    shifted ``j + 1`` seasons back; only shifts the account was fully observed in are given."""

    name: str
    step_days: int
    unit: str  # what the values count, for people: "active user-days", "events", ...
    current: tuple[float, ...]
    baselines: tuple[tuple[float, ...], ...]
    # daily distinct-users NSMs only: one bit mask per tracked user over ``days`` days, bit i
    # set if the user was active on the i-th (the last: the last day of ``current``); and how
    # many of the last days the account was fully observed
    user_days: tuple[int, ...] = ()
    days: int = 0
    observed_days: int = 0


@dataclass(frozen=True, slots=True)
class SpanTest:
    steps: int
    current: float
    baseline: float
    p_value: float
    regulars: RegularsTest | None = None

    @property
    def drop(self) -> float:
        return 1.0 - self.current / self.baseline

    def large_enough(self, params: NsmDeclineParams) -> bool:
        return (
            self.drop >= params.min_relative_drop
            and self.baseline - self.current >= params.min_absolute_drop
        )

    @property
    def evidence(self) -> float:
        """The p-value the span fires on, Bonferroni-corrected for the regulars' test."""
        if self.regulars is None:
            return self.p_value
        return 2 * min(self.p_value, self.regulars.p_value)

    @property
    def by_regulars(self) -> bool:
        return self.regulars is not None and self.regulars.p_value < self.p_value

    def fires(self, params: NsmDeclineParams, spans: int) -> bool:
        """``spans`` tests look at the same data: each gets a share of the significance
        (Bonferroni), so testing several spans does not multiply false alarms."""
        return self.large_enough(params) and self.evidence <= params.significance / spans

    def holds(self, params: NsmDeclineParams) -> bool:
        return (
            self.drop >= params.resolve_relative_drop
            and self.p_value <= params.resolve_significance
        )


def dispersion(history: NsmHistory, floor: float) -> float:
    """Variance / mean of one step's value between weeks, pooled over the window's steps.

    Pooling the steps (7 weekdays x 4 weeks = 28 values) makes the estimate usable where a
    single span's 3-4 values would not be. At each step the value farthest from the median is
    left out first, so a one-off spike does not inflate it; that shrinks what remains (to 36 %
    of the true variance with 4 weeks), so the variance is scaled back up.
    """
    variance = level = 0.0
    for position in range(len(history.current)):
        values = [baseline[position] for baseline in history.baselines]
        if len(values) < MIN_VALUES_FOR_VARIANCE:
            return floor
        centre = statistics.median(values)
        values.remove(max(values, key=lambda v: abs(v - centre)))
        variance += statistics.variance(values) / TRIMMED_VARIANCE_SHARE[len(values) + 1]
        level += statistics.fmean(values)
    return max(floor, variance / level) if level > 0 else floor


def span_tests(history: NsmHistory, params: NsmDeclineParams) -> list[SpanTest]:
    """One test per span of the last k steps with enough baseline volume (k ascending).

    The variance is the count's own (scaled by the dispersion) plus the baseline's: a median
    of n earlier weeks is itself uncertain by about ``MEDIAN_VARIANCE / n`` of one week's.
    """
    weeks = len(history.baselines)
    if weeks < params.min_baseline_windows:
        return []
    phi = dispersion(history, params.min_dispersion) * (1 + MEDIAN_VARIANCE / weeks)
    tests = []
    current = baseline = 0.0
    for steps in range(1, len(history.current) + 1):
        current += history.current[-steps]
        baseline += statistics.median(earlier[-steps] for earlier in history.baselines)
        if baseline < params.min_baseline:
            continue
        p_value = (
            poisson_lower_tail(current / phi, baseline / phi)
            if current < baseline * (1 - params.resolve_relative_drop)
            else 1.0
        )
        test = SpanTest(steps, current, baseline, p_value)
        if history.user_days and params.regulars_test and test.large_enough(params):
            regulars = lost_regulars(
                history.user_days,
                history.days,
                history.observed_days,
                steps,
                lookback=params.regulars_lookback_days,
                max_quiet_chance=params.regular_max_quiet_chance,
                min_quiet_chance=params.regular_min_quiet_chance,
                min_regulars=params.min_regulars,
            )
            test = SpanTest(steps, current, baseline, p_value, regulars)
        tests.append(test)
    return tests


def assess_decline(history: NsmHistory, params: NsmDeclineParams, rule: str, label: str) -> Verdict:
    """FIRING, HOLDING or CLEAR for one NSM, with the most telling span as the metric."""
    tests = span_tests(history, params)
    weeks = len(history.baselines)
    if not tests:
        return Verdict(rule, Condition.HOLDING, _metric(history, None), summary="")
    firing = [t for t in tests if t.fires(params, len(tests))]
    holding = [t for t in tests if t.holds(params)]
    if firing:
        worst = min(firing, key=lambda t: (t.evidence, -t.steps))
        severity: Severity = (
            "critical" if worst.drop >= params.critical_relative_drop else "warning"
        )
        return _verdict(rule, Condition.FIRING, history, worst, label, weeks, severity)
    if holding:
        worst = min(holding, key=lambda t: (t.p_value, -t.steps))
        return _verdict(rule, Condition.HOLDING, history, worst, label, weeks, "warning")
    return _verdict(rule, Condition.CLEAR, history, tests[-1], label, weeks, "warning")


def _verdict(
    rule: str,
    condition: Condition,
    history: NsmHistory,
    test: SpanTest,
    label: str,
    weeks: int,
    severity: Severity,
) -> Verdict:
    days = test.steps * history.step_days
    span = "the last day" if days == 1 else f"the last {days} days"
    if condition is Condition.CLEAR:
        title = f"{label} back to its usual level"
    else:
        title = f"{label} down {round(100 * test.drop)}% over {span}"
    summary = (
        f"{label}: {test.current:g} {history.unit} over {span}, against {test.baseline:g} for "
        f"the same days in the previous {weeks} weeks (each day's median)"
    )
    if condition is Condition.FIRING and test.regulars is not None and test.by_regulars:
        summary += (
            f"; {test.regulars.quiet} of {test.regulars.regulars} regular users not seen over "
            f"{span} (p = {test.regulars.p_value:.1g} that this is ordinary variation)"
        )
    elif condition is not Condition.CLEAR:
        summary += f" (p = {test.p_value:.1g} that this is ordinary variation)"
    return Verdict(rule, condition, _metric(history, test), title, summary, severity)


def _metric(history: NsmHistory, test: SpanTest | None) -> Metric:
    if test is None:
        days = len(history.current) * history.step_days
        return Metric(
            name=history.name, current=None, baseline=None, change_pct=None, window=f"P{days}D"
        )
    return Metric(
        name=history.name,
        current=round(test.current, 2),
        baseline=round(test.baseline, 2),
        change_pct=round(-100.0 * test.drop, 1),
        window=f"P{test.steps * history.step_days}D",
    )
