"""Risk alerts (DESIGN §2, §5): NSM decline detection, the other risk rules and the alert
lifecycle. Pure: no Faust, Kafka or Redis; the engine and the backtest call the same code."""

from stream_app.alerts.config import AlertParams, NsmDeclineParams
from stream_app.alerts.lifecycle import AlertState, dedup_key, next_alert
from stream_app.alerts.nsm_decline import NsmHistory, assess_decline
from stream_app.alerts.rules import (
    BAND_CRITICAL,
    DETRACTOR_RESPONSE,
    SCORE_DROP,
    URGENT_TICKET_BURST,
    SurveyFact,
    band_critical,
    detractor_response,
    score_drop,
    urgent_ticket_burst,
)
from stream_app.alerts.verdict import Condition, Verdict

__all__ = [
    "BAND_CRITICAL",
    "DETRACTOR_RESPONSE",
    "SCORE_DROP",
    "URGENT_TICKET_BURST",
    "AlertParams",
    "AlertState",
    "Condition",
    "NsmDeclineParams",
    "NsmHistory",
    "SurveyFact",
    "Verdict",
    "assess_decline",
    "band_critical",
    "dedup_key",
    "detractor_response",
    "next_alert",
    "score_drop",
    "urgent_ticket_burst",
]
