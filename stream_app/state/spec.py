"""What the window layer needs to know from configuration (plain, frozen values)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["NsmSpec", "WindowSpec"]

DAY_SECONDS = 86_400
WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class NsmSpec:
    """A North Star Metric: ``measure`` over usage events of ``event_types`` (empty: all).

    ``window_days`` is what the metric means (7: *weekly* active users); ``step_days`` how far
    the window slides between evaluations. Baselines are the same span ``baseline_shift_days``
    earlier, ``baseline_windows`` times: a whole number of weeks, so weekly seasonality cancels.
    """

    name: str = "weekly_active_users"
    measure: Literal["distinct_users", "count", "sum"] = "distinct_users"
    event_types: frozenset[str] = frozenset()
    window_days: int = 7
    baseline_windows: int = 4
    step_days: int = 1
    # users whose active days are kept for the decline detector's lost-regulars test: large
    # accounts do not need it (the day's count alone is evidence enough) and would cost memory
    tracked_users: int = 32

    def counts(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    @property
    def tracks_users(self) -> bool:
        return self.measure == "distinct_users" and self.step_days == 1 and self.tracked_users > 0

    @property
    def baseline_shift_days(self) -> int:
        return math.ceil(self.window_days / WEEK_DAYS) * WEEK_DAYS

    @property
    def retention_days(self) -> int:
        """Day buckets the score's trend and the decline detector read (today included)."""
        return 1 + self.window_days + self.baseline_windows * self.baseline_shift_days


@dataclass(frozen=True, slots=True)
class WindowSpec:
    key_features: tuple[str, ...]
    nsms: tuple[NsmSpec, ...] = (NsmSpec(),)  # the primary (the score's nsm_trend) first
    engagement_days: int = 7
    baseline_weeks: int = 4
    adoption_days: int = 28
    support_days: int = 30
    survey_days: int = 90
    grace_seconds: float = 3_600.0  # allowed lateness: a day is complete this long after it
    max_open_tickets: int = 1_000
    max_surveys: int = 500

    @property
    def nsm(self) -> NsmSpec:
        """The primary North Star Metric."""
        return self.nsms[0]

    @property
    def usage_retention_days(self) -> int:
        """Day buckets needed by the longest usage-based window and its baseline."""
        return max(
            self.engagement_days * (1 + self.baseline_weeks),
            self.adoption_days,
            self.support_days,
            *(nsm.retention_days for nsm in self.nsms),
        )

    def feature_bit(self, event_type: str) -> int:
        try:
            return 1 << self.key_features.index(event_type)
        except ValueError:
            return 0
