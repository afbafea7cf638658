"""The five score components (DESIGN §4), each a pure function of the account's signals.

Every component returns ``None`` when the account has no data for it (the model then leaves it
out and renormalises the other weights), or a :class:`ComponentResult`: a 0..100 score, the
numbers it was computed from (shown to people as ``inputs``) and candidate drivers, each with
the points it costs the component, so the model can rank them across components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream_app.scoring.config import (
    EngagementParams,
    NsmTrendParams,
    SentimentParams,
    SupportParams,
)
from stream_app.scoring.signals import AccountSignals, SurveyResponse

__all__ = [
    "ComponentResult",
    "Driver",
    "adoption",
    "engagement",
    "nsm_trend",
    "sentiment",
    "support",
]

MAX_MISSING_FEATURES_SHOWN = 3
NO_ACTIVE_USERS = "no active users this week"
NPS_DETRACTOR_MAX = 6  # the standard NPS definition: 0..6 detractors, 9..10 promoters
NPS_PROMOTER_MIN = 9
CSAT_LOW_MAX = 2


@dataclass(frozen=True, slots=True)
class Driver:
    """A readable reason, and the points (0..100) it costs its component."""

    text: str
    cost: float


@dataclass(frozen=True, slots=True)
class ComponentResult:
    score: float  # 0..100
    inputs: dict[str, Any]  # JSON-serialisable, rounded for reading
    drivers: tuple[Driver, ...] = ()


@dataclass(frozen=True, slots=True)
class _Part:
    share: float
    score: float
    shortfall_text: str


def engagement(signals: AccountSignals, params: EngagementParams) -> ComponentResult | None:
    """This week's active users and events vs the account's own baseline, and users vs seats.

    Without a usable baseline (new account, or a baseline of zero) the seats part carries the
    score alone; without seats either, an active new account gets the neutral
    ``new_account_score``. Every part rises with ``active_users_7d``, so more users never lower it.
    """
    users = signals.active_users_7d
    if users is None:
        return None
    since = _baseline_label(signals.baseline_days_observed)
    inputs: dict[str, Any] = {"active_users_7d": round(users, 1)}
    parts: list[_Part] = []
    users_baseline = _positive(signals.active_users_baseline)
    if users_baseline is not None and params.active_users_share > 0:
        ratio = users / users_baseline
        inputs |= {
            "active_users_baseline": round(users_baseline, 1),
            "users_ratio": round(ratio, 3),
        }
        text = (
            NO_ACTIVE_USERS
            if users <= 0
            else f"weekly active users down {_percent_down(ratio)}% {since}"
        )
        score = _curve(ratio, params.full_ratio, params.curve_exponent)
        parts.append(_Part(params.active_users_share, score, text))
    events_baseline = _positive(signals.events_baseline)
    events = signals.events_7d
    if events is not None and events_baseline is not None and params.events_share > 0:
        ratio = events / events_baseline
        inputs |= {
            "events_7d": round(events, 1),
            "events_baseline": round(events_baseline, 1),
            "events_ratio": round(ratio, 3),
        }
        text = (
            "no usage events this week"
            if events <= 0
            else f"usage events down {_percent_down(ratio)}% {since}"
        )
        score = _curve(ratio, params.full_ratio, params.curve_exponent)
        parts.append(_Part(params.events_share, score, text))
    if signals.seats and params.seats_share > 0:
        utilisation = users / signals.seats
        inputs |= {"seats": signals.seats, "seat_utilisation": round(utilisation, 3)}
        text = (
            NO_ACTIVE_USERS
            if users <= 0
            else f"only {users:.0f} of {signals.seats} seats active this week"
        )
        score = _curve(utilisation, params.target_seat_utilisation, params.curve_exponent)
        parts.append(_Part(params.seats_share, score, text))
    if not parts:
        score = params.new_account_score * min(1.0, users)
        inputs["new_account"] = True
        drivers = (Driver(NO_ACTIVE_USERS, 100.0 - score),) if users < 1 else ()
        return ComponentResult(score, inputs, drivers)
    inputs["baseline_days_observed"] = signals.baseline_days_observed
    total_share = sum(part.share for part in parts)
    score = sum(part.share * part.score for part in parts) / total_share
    costs: dict[str, float] = {}  # parts with the same reason (no users at all) add up
    for part in parts:
        if part.score < 100.0:
            cost = part.share / total_share * (100.0 - part.score)
            costs[part.shortfall_text] = costs.get(part.shortfall_text, 0.0) + cost
    drivers = tuple(Driver(text, cost) for text, cost in costs.items())
    return ComponentResult(score, inputs, drivers)


def adoption(signals: AccountSignals, key_features: tuple[str, ...]) -> ComponentResult | None:
    """Share of the configured key features the account used in the last 28 days."""
    used_any = signals.key_features_used
    if used_any is None or not key_features:
        return None
    used = [feature for feature in key_features if feature in used_any]
    missing = [feature for feature in key_features if feature not in used_any]
    score = 100.0 * len(used) / len(key_features)
    inputs = {
        "key_features_used": len(used),
        "key_features": len(key_features),
        "missing_features": missing,
    }
    if not missing:
        return ComponentResult(score, inputs)
    shown = ", ".join(missing[:MAX_MISSING_FEATURES_SHOWN])
    more = ", …" if len(missing) > MAX_MISSING_FEATURES_SHOWN else ""
    text = f"uses {len(used)} of {len(key_features)} key features (missing: {shown}{more})"
    return ComponentResult(score, inputs, (Driver(text, 100.0 - score),))


def support(signals: AccountSignals, params: SupportParams) -> ComponentResult | None:
    """100 minus penalties for open urgent/high tickets and 30-day escalations and reopens."""
    open_tickets = signals.open_tickets
    if open_tickets is None:
        return None
    urgent = open_tickets.get("urgent", 0)
    high = open_tickets.get("high", 0)
    escalations = signals.escalations_30d
    reopens = signals.reopens_30d
    penalties = (
        (urgent * params.urgent_open_penalty, f"{_count(urgent, 'urgent ticket')} open"),
        (high * params.high_open_penalty, f"{_count(high, 'high-priority ticket')} open"),
        (
            escalations * params.escalation_penalty,
            f"{_count(escalations, 'escalation')} in 30 days",
        ),
        (reopens * params.reopen_penalty, f"{_count(reopens, 'reopened ticket')} in 30 days"),
    )
    total = sum(points for points, _ in penalties)
    score = max(0.0, 100.0 - total)
    # Past the floor the penalties overlap; share the 100 points they can cost in proportion.
    scale = min(1.0, 100.0 / total) if total > 0 else 0.0
    inputs = {
        "open_urgent": urgent,
        "open_high": high,
        "open_total": sum(open_tickets.values()),
        "escalations_30d": escalations,
        "reopens_30d": reopens,
    }
    drivers = tuple(Driver(text, points * scale) for points, text in penalties if points > 0)
    return ComponentResult(score, inputs, drivers)


def sentiment(signals: AccountSignals, params: SentimentParams) -> ComponentResult | None:
    """Recency-weighted mean of the 90-day NPS and CSAT responses on a 0..100 scale.

    NPS maps linearly (``x * 10``), CSAT too (``(x - 1) * 25``); a response weighs
    ``0.5 ** (age / half_life)``, so the account's current mood outweighs last quarter's.
    """
    responses = signals.surveys_90d
    if not responses:
        return None
    weights = [0.5 ** (max(0.0, r.age_days) / params.half_life_days) for r in responses]
    total_weight = sum(weights)
    losses = [w * (100.0 - _to_scale(r)) for w, r in zip(weights, responses, strict=True)]
    score = 100.0 - sum(losses) / total_weight
    nps = [r for r in responses if r.survey == "nps"]
    csat = [r for r in responses if r.survey == "csat"]
    inputs = {
        "responses": len(responses),
        "nps_responses": len(nps),
        "nps_detractors": sum(1 for r in nps if _is_detractor(r)),
        "nps_promoters": sum(1 for r in nps if r.score >= NPS_PROMOTER_MIN),
        "csat_responses": len(csat),
        "csat_low": sum(1 for r in csat if _is_low_csat(r)),
        "newest_age_days": round(min(r.age_days for r in responses), 1),
        "half_life_days": params.half_life_days,
    }
    drivers = []
    for is_member, noun, out_of in (
        (_is_detractor, "detractor NPS response", 10),
        (_is_low_csat, "low CSAT rating", 5),
    ):
        members = [(r, loss) for r, loss in zip(responses, losses, strict=True) if is_member(r)]
        if members:
            latest = min(members, key=lambda member: member[0].age_days)[0]
            text = f"{_count(len(members), noun)} in 90 days (latest {latest.score}/{out_of})"
            drivers.append(Driver(text, sum(loss for _, loss in members) / total_weight))
    return ComponentResult(max(0.0, score), inputs, tuple(drivers))


def nsm_trend(signals: AccountSignals, params: NsmTrendParams) -> ComponentResult | None:
    """The North Star Metric's relative change vs its baseline, piecewise-linear onto 0..100.

    Flat scores ``flat_score``; only a decline is a driver, costing the points below flat
    (not growing is not a problem to report).
    """
    current = signals.nsm_current
    baseline = _positive(signals.nsm_baseline)
    if current is None or baseline is None:
        return None
    change = current / baseline - 1.0
    if change >= 0:
        headroom = 100.0 - params.flat_score
        score = min(100.0, params.flat_score + headroom * change / params.full_growth)
    else:
        score = max(0.0, params.flat_score * (1.0 + change / params.zero_at_decline))
    inputs = {
        "nsm": signals.nsm_name,
        "current": round(current, 1),
        "baseline": round(baseline, 1),
        "change_pct": round(100.0 * change, 1),
    }
    if change >= 0:
        return ComponentResult(score, inputs)
    name = signals.nsm_name.replace("_", " ").replace(".", " ")
    text = f"{name} down {_percent_down(current / baseline)}% vs baseline (north-star metric)"
    return ComponentResult(score, inputs, (Driver(text, params.flat_score - score),))


def _curve(ratio: float, full_at: float, exponent: float) -> float:
    """0 at ratio 0, rising convexly to 100 at ``full_at``, capped there."""
    return 100.0 * min(1.0, max(0.0, ratio) / full_at) ** exponent


def _to_scale(response: SurveyResponse) -> float:
    value = response.score * 10.0 if response.survey == "nps" else (response.score - 1) * 25.0
    return min(100.0, max(0.0, value))


def _is_detractor(response: SurveyResponse) -> bool:
    return response.survey == "nps" and response.score <= NPS_DETRACTOR_MAX


def _is_low_csat(response: SurveyResponse) -> bool:
    return response.survey == "csat" and response.score <= CSAT_LOW_MAX


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def _percent_down(ratio: float) -> int:
    return round(100.0 * (1.0 - min(ratio, 1.0)))


def _baseline_label(days_observed: int) -> str:
    weeks = days_observed // 7
    return f"vs {weeks}-week baseline" if weeks else "vs baseline"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
