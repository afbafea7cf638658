"""The risk rules other than NSM decline (DESIGN §5), each a pure function -> :class:`Verdict`.

Rule names are the stable identifiers subscribers route on. Every rule has fire criteria and
looser resolve criteria (hysteresis), so an account on a border does not flap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stream_app.alerts.config import (
    DetractorParams,
    ScoreDropParams,
    UrgentBurstParams,
)
from stream_app.alerts.verdict import Condition, Metric, Severity, Verdict

__all__ = [
    "BAND_CRITICAL",
    "DETRACTOR_RESPONSE",
    "OTHER_ALERT_RULES",
    "SCORE_DROP",
    "URGENT_TICKET_BURST",
    "SurveyFact",
    "band_critical",
    "detractor_response",
    "score_drop",
    "urgent_ticket_burst",
]

BAND_CRITICAL = "band_critical"
SCORE_DROP = "score_drop"
URGENT_TICKET_BURST = "urgent_ticket_burst"
DETRACTOR_RESPONSE = "detractor_response"
OTHER_ALERT_RULES = (BAND_CRITICAL, SCORE_DROP, URGENT_TICKET_BURST, DETRACTOR_RESPONSE)
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class SurveyFact:
    at: float  # event time, epoch seconds
    survey: str
    score: int


def band_critical(score: float, band: str) -> Verdict:
    """Fires while the score's band is critical; the band's own hysteresis keeps it stable."""
    metric = Metric(
        name="health_score", current=score, baseline=None, change_pct=None, window="PT0S"
    )
    if band != "critical":
        return Verdict(
            BAND_CRITICAL,
            Condition.CLEAR,
            metric,
            "health score left critical",
            f"health score {score:g} ({band.replace('_', ' ')})",
        )
    return Verdict(
        BAND_CRITICAL,
        Condition.FIRING,
        metric,
        f"health score critical at {score:g}",
        f"health score {score:g} is in the critical band",
        "critical",
    )


def score_drop(
    score: float, scores_by_day: Mapping[int, float], today: int, params: ScoreDropParams
) -> Verdict:
    """Fires when the score is >= ``min_points`` below its peak of the last ``window_days``."""
    window = [s for day, s in scores_by_day.items() if today - params.window_days <= day <= today]
    peak = max([*window, score])
    fall = round(peak - score, 1)
    metric = Metric(
        name="health_score",
        current=score,
        baseline=peak,
        change_pct=round(-100.0 * fall / peak, 1) if peak > 0 else None,
        window=f"P{params.window_days}D",
    )
    summary = f"health score {score:g}, peak {peak:g} within {params.window_days} days"
    if fall >= params.min_points:
        severity: Severity = "critical" if fall >= params.critical_points else "warning"
        title = f"health score fell {fall:g} points in {params.window_days} days"
        return Verdict(SCORE_DROP, Condition.FIRING, metric, title, summary, severity)
    if fall >= params.resolve_below_points:
        return Verdict(
            SCORE_DROP,
            Condition.HOLDING,
            metric,
            f"health score down {fall:g} points in {params.window_days} days",
            summary,
        )
    return Verdict(SCORE_DROP, Condition.CLEAR, metric, "health score no longer falling", summary)


def urgent_ticket_burst(
    urgent_opened_at: Iterable[float], open_urgent: int, now: float, params: UrgentBurstParams
) -> Verdict:
    """Fires on ``min_tickets`` urgent tickets opened within ``window_hours`` while any is
    still open; resolves once none of the account's urgent tickets is open any more."""
    since = now - params.window_hours * 3600
    recent = sum(1 for at in urgent_opened_at if since <= at <= now)
    window = f"PT{params.window_hours:g}H"
    metric = Metric(
        name="urgent_tickets_opened",
        current=recent,
        baseline=None,
        change_pct=None,
        window=window,
    )
    summary = f"{recent} urgent tickets opened in {params.window_hours:g} h, {open_urgent} open"
    if open_urgent == 0:
        return Verdict(
            URGENT_TICKET_BURST, Condition.CLEAR, metric, "no urgent tickets open", summary
        )
    if recent >= params.min_tickets:
        severity: Severity = "critical" if recent >= params.critical_tickets else "warning"
        title = f"{recent} urgent tickets in {params.window_hours:g} hours"
        return Verdict(URGENT_TICKET_BURST, Condition.FIRING, metric, title, summary, severity)
    return Verdict(
        URGENT_TICKET_BURST,
        Condition.HOLDING,
        metric,
        f"{open_urgent} urgent tickets still open",
        summary,
    )


def detractor_response(
    surveys: Iterable[SurveyFact], now: float, params: DetractorParams
) -> Verdict:
    """Fires on an NPS detractor response (score <= ``max_score``) given in the last
    ``fire_within_days``; resolves after ``quiet_days`` without one. The response's comment is
    never read here, so it cannot reach an alert."""
    detractors = [
        s for s in surveys if s.survey == "nps" and s.score <= params.max_score and s.at <= now
    ]
    latest = max(detractors, key=lambda s: s.at, default=None)
    quiet_since = now - params.quiet_days * DAY
    count = sum(1 for s in detractors if s.at >= quiet_since)
    metric = Metric(
        name="nps_detractor_responses",
        current=count,
        baseline=None,
        change_pct=None,
        window=f"P{params.quiet_days:g}D",
    )
    if latest is None or latest.at < quiet_since:
        return Verdict(
            DETRACTOR_RESPONSE,
            Condition.CLEAR,
            metric,
            f"no detractor response in {params.quiet_days:g} days",
            f"no NPS response of {params.max_score} or less in {params.quiet_days:g} days",
        )
    age_days = (now - latest.at) / DAY
    summary = (
        f"{count} NPS detractor response{'s' if count != 1 else ''} in {params.quiet_days:g} "
        f"days, latest {latest.score}/10 {age_days:.1f} days ago"
    )
    if age_days <= params.fire_within_days:
        severity: Severity = (
            "critical" if latest.score <= params.critical_at_or_below else "warning"
        )
        title = f"NPS detractor response ({latest.score}/10)"
        return Verdict(DETRACTOR_RESPONSE, Condition.FIRING, metric, title, summary, severity)
    return Verdict(
        DETRACTOR_RESPONSE,
        Condition.HOLDING,
        metric,
        f"NPS detractor response ({latest.score}/10)",
        summary,
    )
