"""The score model's parameters (DESIGN §4): one TOML file, validated once at start-up.

The file holds the defaults plus ``[segments.<name>]`` tables that override any part of them
for accounts of that segment. Overrides are merged over the defaults *before* validation, so
every segment's effective model is checked as a whole (e.g. its weights must still sum to 1).
``ScoringConfig.for_segment`` hands the scorer a plain, pre-resolved :class:`ResolvedModel`, so
no validation runs per account.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from stream_app.alerts.config import AlertParams
from stream_app.alerts.rules import OTHER_ALERT_RULES
from stream_app.errors import ConfigurationError

__all__ = [
    "COMPONENT_NAMES",
    "DEFAULT_CONFIG_PATH",
    "BandThresholds",
    "ComponentWeights",
    "EngagementParams",
    "ModelParams",
    "NorthStarMetric",
    "NsmTrendParams",
    "ResolvedModel",
    "ScoringConfig",
    "SentimentParams",
    "SupportParams",
    "load_scoring_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.toml")
COMPONENT_NAMES = ("engagement", "adoption", "support", "sentiment", "nsm_trend")
WEIGHT_SUM_TOLERANCE = 1e-6
DEFAULT_SEGMENT = "default"


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComponentWeights(_Params):
    """Share of the score each component carries when every component has data."""

    engagement: float = Field(default=0.30, ge=0, le=1)
    adoption: float = Field(default=0.20, ge=0, le=1)
    support: float = Field(default=0.20, ge=0, le=1)
    sentiment: float = Field(default=0.15, ge=0, le=1)
    nsm_trend: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> ComponentWeights:
        total = sum(self.as_dict().values())
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=WEIGHT_SUM_TOLERANCE):
            raise ValueError(f"weights must sum to 1, got {total:g}")
        return self

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COMPONENT_NAMES}


class BandThresholds(_Params):
    """healthy: score >= ``healthy``; critical: score < ``critical``; at_risk in between."""

    healthy: float = Field(default=70.0, gt=0, le=100)
    critical: float = Field(default=40.0, gt=0, le=100)
    hysteresis_margin: float = Field(default=3.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> BandThresholds:
        if self.critical >= self.healthy:
            raise ValueError(
                f"critical ({self.critical:g}) must be below healthy ({self.healthy:g})"
            )
        if self.hysteresis_margin >= self.healthy - self.critical:
            raise ValueError(
                f"hysteresis_margin ({self.hysteresis_margin:g}) must be smaller than the "
                f"at_risk band ({self.healthy - self.critical:g} points)"
            )
        return self


class EngagementParams(_Params):
    """Curve turning 7-day activity (vs baseline and vs seats) into 0..100."""

    active_users_share: float = Field(default=0.5, ge=0)
    events_share: float = Field(default=0.2, ge=0)
    seats_share: float = Field(default=0.3, ge=0)
    full_ratio: float = Field(default=0.9, gt=0)
    curve_exponent: float = Field(default=1.5, gt=0)
    target_seat_utilisation: float = Field(default=0.5, gt=0, le=1)
    new_account_score: float = Field(default=75.0, ge=0, le=100)

    @model_validator(mode="after")
    def _some_share(self) -> EngagementParams:
        if self.active_users_share + self.events_share + self.seats_share <= 0:
            raise ValueError("at least one of the engagement shares must be positive")
        return self


class SupportParams(_Params):
    """Points taken off 100 per open ticket / recent escalation / recent reopen."""

    urgent_open_penalty: float = Field(default=20.0, ge=0)
    high_open_penalty: float = Field(default=8.0, ge=0)
    escalation_penalty: float = Field(default=12.0, ge=0)
    reopen_penalty: float = Field(default=5.0, ge=0)


class SentimentParams(_Params):
    half_life_days: float = Field(default=30.0, gt=0)


class NsmTrendParams(_Params):
    """Piecewise-linear map of the NSM's relative change onto 0..100."""

    flat_score: float = Field(default=75.0, ge=0, le=100)
    full_growth: float = Field(default=0.20, gt=0)
    zero_at_decline: float = Field(default=0.50, gt=0, le=1)


class CrisisParams(_Params):
    """A component in crisis caps the whole score, whatever the others say.

    A weighted mean lets strength elsewhere hide acute pain: six open urgent tickets cost at
    most the support weight (20 points), so a heavily used account would stay "healthy" through
    a support storm. Customer-success teams treat such an account as at risk, so a listed
    component scoring at or below ``at_or_below`` caps the score at ``score_cap``.
    """

    components: tuple[
        Literal["engagement", "adoption", "support", "sentiment", "nsm_trend"], ...
    ] = (
        "support",
        "sentiment",
    )
    at_or_below: float = Field(default=20.0, ge=0, le=100)
    score_cap: float = Field(default=60.0, ge=0, le=100)


class NorthStarMetric(_Params):
    """A North Star Metric (DESIGN §5): ``measure`` over usage events of ``event_types``.

    ``window_days`` is what it means (7: weekly), ``step_days`` how far the window slides per
    evaluation; ``baseline_windows`` earlier windows (a whole number of weeks back) form its
    baseline for the score's ``nsm_trend`` and for the decline detector.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    measure: Literal["distinct_users", "count", "sum"] = "distinct_users"
    event_types: tuple[str, ...] = ()
    window_days: int = Field(default=7, ge=1, le=28)
    step_days: int = Field(default=1, ge=1, le=7)
    baseline_windows: int = Field(default=4, ge=1, le=8)
    # daily distinct-users NSMs: how many users' active days the decline detector keeps per
    # account for its lost-regulars test (0: off); about 15 bytes of state each
    tracked_users: int = Field(default=32, ge=0, le=256)
    primary: bool = False

    @model_validator(mode="after")
    def _whole_steps(self) -> NorthStarMetric:
        if self.window_days % self.step_days:
            raise ValueError(
                f"window_days ({self.window_days}) must be a multiple of step_days "
                f"({self.step_days})"
            )
        return self


class ModelParams(_Params):
    """Everything a segment may override."""

    weights: ComponentWeights = ComponentWeights()
    bands: BandThresholds = BandThresholds()
    engagement: EngagementParams = EngagementParams()
    support: SupportParams = SupportParams()
    sentiment: SentimentParams = SentimentParams()
    nsm_trend: NsmTrendParams = NsmTrendParams()
    crisis: CrisisParams = CrisisParams()
    alerts: AlertParams = AlertParams()


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """The effective model for one segment: plain values, ready for the per-account hot path."""

    segment: str
    model_version: str
    key_features: tuple[str, ...]
    weights: Mapping[str, float]
    bands: BandThresholds
    engagement: EngagementParams
    support: SupportParams
    sentiment: SentimentParams
    nsm_trend: NsmTrendParams
    crisis: CrisisParams
    alerts: AlertParams


class ScoringConfig(ModelParams):
    """The whole score-model file: defaults, global settings and per-segment overrides."""

    model_version: str = Field(min_length=1)
    key_features: tuple[str, ...] = Field(min_length=1)
    north_star_metrics: tuple[NorthStarMetric, ...] = Field(
        default=(NorthStarMetric(name="weekly_active_users", primary=True),), min_length=1
    )
    segments: dict[str, ModelParams] = Field(default_factory=dict)
    _resolved: dict[str, ResolvedModel] = PrivateAttr(default_factory=dict)

    @field_validator("key_features")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({f for f in value if value.count(f) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return value

    @field_validator("north_star_metrics")
    @classmethod
    def _one_primary(cls, value: tuple[NorthStarMetric, ...]) -> tuple[NorthStarMetric, ...]:
        """Exactly one primary (a lone NSM is it), listed first: the window layer's order."""
        names = [nsm.name for nsm in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"names listed more than once: {', '.join(repeated)}")
        primaries = [nsm for nsm in value if nsm.primary]
        if len(value) > 1 and len(primaries) != 1:
            raise ValueError(f"exactly one must be primary = true, found {len(primaries)}")
        primary = primaries[0] if primaries else value[0]
        return (primary, *(nsm for nsm in value if nsm is not primary))

    @property
    def nsm_rules(self) -> dict[str, str]:
        """NSM name -> alert rule id: ``nsm_decline``, or ``nsm_decline:<name>`` for several."""
        if len(self.north_star_metrics) == 1:
            return {self.north_star_metrics[0].name: "nsm_decline"}
        return {nsm.name: f"nsm_decline:{nsm.name}" for nsm in self.north_star_metrics}

    @property
    def alert_rules(self) -> list[str]:
        """Every alert rule id this model can publish (a closed set: metric label values)."""
        return [*self.nsm_rules.values(), *OTHER_ALERT_RULES]

    @model_validator(mode="before")
    @classmethod
    def _merge_segment_overrides(cls, data: Any) -> Any:
        """Turn each partial ``[segments.x]`` table into a full one, defaults underneath."""
        if not isinstance(data, dict) or not isinstance(data.get("segments"), dict):
            return data
        if DEFAULT_SEGMENT in data["segments"]:
            raise ValueError(
                f"[segments.{DEFAULT_SEGMENT}] is not allowed: edit the top-level tables instead"
            )
        base = {key: data[key] for key in ModelParams.model_fields if key in data}
        merged = {
            name: _deep_merge(base, override) if isinstance(override, dict) else override
            for name, override in data["segments"].items()
        }
        return {**data, "segments": merged}

    def model_post_init(self, context: Any, /) -> None:
        self._resolved[DEFAULT_SEGMENT] = self._resolve(DEFAULT_SEGMENT, self)
        for name, params in self.segments.items():
            self._resolved[name] = self._resolve(name, params)

    def for_segment(self, segment: str) -> ResolvedModel:
        """The effective model for ``segment``; an unknown segment gets the defaults."""
        # read from pydantic's private-attribute dict directly: ``self._resolved`` goes through
        # BaseModel.__getattr__ (4.8 us against 0.15), and an evaluation asks three times
        resolved: dict[str, ResolvedModel] = self.__pydantic_private__["_resolved"]  # type: ignore[index]
        return resolved.get(segment) or resolved[DEFAULT_SEGMENT]

    def _resolve(self, segment: str, params: ModelParams) -> ResolvedModel:
        return ResolvedModel(
            segment=segment,
            model_version=self.model_version,
            key_features=self.key_features,
            weights=MappingProxyType(params.weights.as_dict()),
            bands=params.bands,
            engagement=params.engagement,
            support=params.support,
            sentiment=params.sentiment,
            nsm_trend=params.nsm_trend,
            crisis=params.crisis,
            alerts=params.alerts,
        )


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        merged[key] = (
            _deep_merge(below, value)
            if isinstance(below, dict) and isinstance(value, dict)
            else value
        )
    return merged


def load_scoring_config(path: Path | str) -> ScoringConfig:
    """Read and validate the score-model file; any problem is a :class:`ConfigurationError`."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigurationError(f"scoring config {path}: file not found") from None
    except OSError as exc:
        raise ConfigurationError(f"scoring config {path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"scoring config {path}: not valid TOML: {exc}") from exc
    try:
        return ScoringConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigurationError(f"scoring config {path}: {problems}") from exc


def _describe(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"
