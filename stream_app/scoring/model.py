"""One account's signals -> its explainable health score (DESIGN §4).

Components without data are left out and the remaining weights renormalised; ``confidence`` is
the share of the original weight that had data. An account with no data for any component gets
no score at all (``score_account`` returns ``None``): a number built from nothing would be a
guess presented as a measurement.

A component in crisis (see :class:`~stream_app.scoring.config.CrisisParams`) caps the score.

Drivers are the components' reasons ranked by their cost to the overall score, those of a
component in crisis first; others costing less than :data:`MIN_DRIVER_IMPACT` points are
dropped as noise. A score that is not healthy
always carries at least one driver: if no specific reason qualifies, the weakest component is
named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stream_app.contracts.outputs import Band, ComponentScore, HealthScore
from stream_app.scoring.bands import band_for
from stream_app.scoring.components import (
    ComponentResult,
    adoption,
    engagement,
    nsm_trend,
    sentiment,
    support,
)
from stream_app.scoring.config import ResolvedModel, ScoringConfig
from stream_app.scoring.signals import AccountSignals

__all__ = [
    "MAX_DRIVERS",
    "MIN_DRIVER_IMPACT",
    "PreviousScore",
    "ScoreResult",
    "ScoredComponent",
    "score_account",
    "to_health_score",
]

MAX_DRIVERS = 3
MIN_DRIVER_IMPACT = 1.0  # points of the overall score
COMPONENT_LABELS = {
    "engagement": "engagement",
    "adoption": "feature adoption",
    "support": "support experience",
    "sentiment": "survey sentiment",
    "nsm_trend": "north-star metric trend",
}


@dataclass(frozen=True, slots=True)
class PreviousScore:
    """The account's last emitted score; its band anchors the hysteresis."""

    score: float
    band: Band


@dataclass(frozen=True, slots=True)
class ScoredComponent:
    score: float  # 0..100, 1 decimal
    weight: float  # effective weight after renormalisation
    inputs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: float  # 0..100, 1 decimal
    band: Band
    components: Mapping[str, ScoredComponent]
    drivers: tuple[str, ...]
    confidence: float  # sum of the original weights of the components that had data
    model_version: str


def score_account(
    signals: AccountSignals, config: ScoringConfig, previous: PreviousScore | None = None
) -> ScoreResult | None:
    """Score one account with its segment's model; ``None`` when no component has data."""
    model = config.for_segment(signals.segment)
    results = {
        name: result
        for name, result in _component_results(signals, model).items()
        if result is not None
    }
    present_weight = sum(model.weights[name] for name in results)
    if present_weight <= 0:
        return None
    effective = {name: model.weights[name] / present_weight for name in results}
    raw_score = sum(effective[name] * result.score for name, result in results.items())
    in_crisis = [
        name
        for name in model.crisis.components
        if name in results and results[name].score <= model.crisis.at_or_below
    ]
    if in_crisis:
        raw_score = min(raw_score, model.crisis.score_cap)
    score = round(min(100.0, max(0.0, raw_score)), 1)
    bands = model.bands
    band = band_for(score, previous.band if previous else None, bands, bands.hysteresis_margin)
    drivers = _top_drivers(results, effective, first=in_crisis)
    if not drivers and (band != "healthy" or score < bands.healthy):
        drivers = (_weakest_component(results, effective),)
    return ScoreResult(
        score=score,
        band=band,
        components={
            name: ScoredComponent(round(result.score, 1), round(effective[name], 4), result.inputs)
            for name, result in results.items()
        },
        drivers=drivers,
        confidence=min(1.0, round(present_weight, 4)),
        model_version=model.model_version,
    )


def to_health_score(
    result: ScoreResult,
    *,
    account_id: str,
    previous_score: float | None,
    delta_7d: float | None,
    as_of: datetime,
    computed_at: datetime,
) -> HealthScore:
    """The output contract record for ``result``."""
    return HealthScore(
        account_id=account_id,
        score=result.score,
        band=result.band,
        previous_score=previous_score,
        delta_7d=delta_7d,
        components={
            name: ComponentScore(score=c.score, weight=c.weight, inputs=c.inputs)
            for name, c in result.components.items()
        },
        drivers=list(result.drivers),
        confidence=result.confidence,
        model_version=result.model_version,
        as_of=as_of,
        computed_at=computed_at,
    )


def _component_results(
    signals: AccountSignals, model: ResolvedModel
) -> dict[str, ComponentResult | None]:
    return {
        "engagement": engagement(signals, model.engagement),
        "adoption": adoption(signals, model.key_features),
        "support": support(signals, model.support),
        "sentiment": sentiment(signals, model.sentiment),
        "nsm_trend": nsm_trend(signals, model.nsm_trend),
    }


def _top_drivers(
    results: Mapping[str, ComponentResult],
    effective: Mapping[str, float],
    first: list[str],
) -> tuple[str, ...]:
    """Reasons by their cost to the score; those of components in crisis (``first``) lead."""
    ranked = sorted(
        (
            (name not in first, -driver.cost * effective[name], driver.text)
            for name, result in results.items()
            for driver in result.drivers
            if name in first or driver.cost * effective[name] >= MIN_DRIVER_IMPACT
        ),
    )
    return tuple(text for _, _, text in ranked[:MAX_DRIVERS])


def _weakest_component(
    results: Mapping[str, ComponentResult], effective: Mapping[str, float]
) -> str:
    weighted = [(name, result) for name, result in results.items() if effective[name] > 0]
    name, result = min(weighted, key=lambda item: item[1].score)
    return f"{COMPONENT_LABELS[name]} at {result.score:.0f}/100"
