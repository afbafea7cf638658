"""Risk-alert parameters (``[alerts]`` in the model file; segments may override any of them).

Every default is argued in ``docs/alerts.md`` ("Tuning"), with the harness numbers behind it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AlertParams",
    "BandCriticalParams",
    "DetractorParams",
    "NsmDeclineParams",
    "ScoreDropParams",
    "UrgentBurstParams",
]

MAX_RENOTIFY_HOURS = 24 * 7  # a firing alert must be re-published well inside topic retention


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NsmDeclineParams(_Params):
    """Fire when the NSM over the last k steps (for some k up to its window) falls below the
    median of the same steps in earlier weeks by all three measures; hold while a smaller drop
    is still likely; resolve when none is."""

    enabled: bool = True
    min_relative_drop: float = Field(default=0.30, gt=0, lt=1)
    critical_relative_drop: float = Field(default=0.60, gt=0, le=1)
    min_absolute_drop: float = Field(default=3.0, ge=0)
    min_baseline: float = Field(default=6.0, gt=0)
    significance: float = Field(default=0.0001, gt=0, lt=0.5)
    min_baseline_windows: int = Field(default=3, ge=1)
    min_dispersion: float = Field(default=0.6, gt=0)
    resolve_relative_drop: float = Field(default=0.15, gt=0, lt=1)
    resolve_significance: float = Field(default=0.05, gt=0, lt=0.5)
    # the lost-regulars test (daily distinct-users NSMs): see alerts/lost_regulars.py
    regulars_test: bool = True
    regular_max_quiet_chance: float = Field(default=0.25, gt=0, lt=1)
    regular_min_quiet_chance: float = Field(default=0.02, ge=0, lt=1)
    min_regulars: int = Field(default=3, ge=2)
    regulars_lookback_days: int = Field(default=28, ge=14, le=28)

    @model_validator(mode="after")
    def _hysteresis(self) -> NsmDeclineParams:
        if self.resolve_relative_drop >= self.min_relative_drop:
            raise ValueError("resolve_relative_drop must be below min_relative_drop")
        if self.resolve_significance < self.significance:
            raise ValueError("resolve_significance must be at least significance")
        if self.critical_relative_drop < self.min_relative_drop:
            raise ValueError("critical_relative_drop must be at least min_relative_drop")
        if self.regular_min_quiet_chance >= self.regular_max_quiet_chance:
            raise ValueError("regular_min_quiet_chance must be below regular_max_quiet_chance")
        return self


class BandCriticalParams(_Params):
    enabled: bool = True


class ScoreDropParams(_Params):
    enabled: bool = True
    min_points: float = Field(default=15.0, gt=0)
    critical_points: float = Field(default=25.0, gt=0)
    resolve_below_points: float = Field(default=10.0, ge=0)
    window_days: int = Field(default=7, ge=1, le=7)

    @model_validator(mode="after")
    def _hysteresis(self) -> ScoreDropParams:
        if self.resolve_below_points >= self.min_points:
            raise ValueError("resolve_below_points must be below min_points")
        if self.critical_points < self.min_points:
            raise ValueError("critical_points must be at least min_points")
        return self


class UrgentBurstParams(_Params):
    enabled: bool = True
    min_tickets: int = Field(default=3, ge=1)
    critical_tickets: int = Field(default=5, ge=1)
    window_hours: float = Field(default=24.0, gt=0, le=24 * 30)

    @model_validator(mode="after")
    def _ordered(self) -> UrgentBurstParams:
        if self.critical_tickets < self.min_tickets:
            raise ValueError("critical_tickets must be at least min_tickets")
        return self


class DetractorParams(_Params):
    enabled: bool = True
    max_score: int = Field(default=6, ge=0, le=10)
    critical_at_or_below: int = Field(default=3, ge=0, le=10)
    fire_within_days: float = Field(default=7.0, gt=0)
    quiet_days: float = Field(default=30.0, gt=0, le=90)

    @model_validator(mode="after")
    def _ordered(self) -> DetractorParams:
        if self.quiet_days < self.fire_within_days:
            raise ValueError("quiet_days must be at least fire_within_days")
        return self


class AlertParams(_Params):
    renotify_after_hours: float = Field(default=24.0, gt=0, le=MAX_RENOTIFY_HOURS)
    # an account's first scores come from hours of data: score-based rules (band_critical,
    # score_drop) wait until it has been seen this long
    score_rules_after_days: float = Field(default=7.0, ge=0)
    nsm_decline: NsmDeclineParams = NsmDeclineParams()
    band_critical: BandCriticalParams = BandCriticalParams()
    score_drop: ScoreDropParams = ScoreDropParams()
    urgent_ticket_burst: UrgentBurstParams = UrgentBurstParams()
    detractor_response: DetractorParams = DetractorParams()
