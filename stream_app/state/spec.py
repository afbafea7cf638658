"""What the window layer needs to know from configuration (a plain, frozen value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["NsmSpec", "WindowSpec"]

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class NsmSpec:
    """A North Star Metric: ``measure`` over usage events of ``event_types`` (empty: all)."""

    name: str = "weekly_active_users"
    measure: Literal["distinct_users", "count", "sum"] = "distinct_users"
    event_types: frozenset[str] = frozenset()
    window_days: int = 7
    baseline_windows: int = 4

    def counts(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


@dataclass(frozen=True, slots=True)
class WindowSpec:
    key_features: tuple[str, ...]
    nsm: NsmSpec = NsmSpec()
    engagement_days: int = 7
    baseline_weeks: int = 4
    adoption_days: int = 28
    support_days: int = 30
    survey_days: int = 90
    max_open_tickets: int = 1_000
    max_surveys: int = 500

    @property
    def usage_retention_days(self) -> int:
        """Day buckets needed by the longest usage-based window and its baseline."""
        return max(
            self.engagement_days * (1 + self.baseline_weeks),
            self.adoption_days,
            self.support_days,
            self.nsm.window_days * (1 + self.nsm.baseline_windows),
        )

    def feature_bit(self, event_type: str) -> int:
        try:
            return 1 << self.key_features.index(event_type)
        except ValueError:
            return 0
