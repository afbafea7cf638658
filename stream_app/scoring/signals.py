"""What the scoring model sees of an account: plain numbers extracted from its windowed state.

The window/state layer (``stream_app/state``) produces an :class:`AccountSignals`; the scoring
model (``stream_app/scoring/model.py``) turns it into a score. Neither knows about the other's
internals, and neither imports Faust, Kafka or Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["AccountSignals", "SurveyResponse"]


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    survey: Literal["nps", "csat"]
    score: int  # NPS 0..10, CSAT 1..5
    age_days: float  # how long before ``as_of`` it was given (>= 0)


@dataclass(frozen=True, slots=True)
class AccountSignals:
    """Inputs of every score component, as of the event-time watermark ``as_of``.

    A ``None`` means "no data for this signal"; the component it feeds is then left out and
    the weights renormalised (DESIGN §4).
    """

    account_id: str
    as_of: datetime
    segment: str = "default"  # from AccountProfile; selects config overrides
    seats: int | None = None  # from AccountProfile

    # engagement: the last 7 days vs the account's own 28-day baseline (the 4 weeks before them)
    active_users_7d: float | None = None  # distinct users, last 7 d (None: no usage ever seen)
    active_users_baseline: float | None = None  # mean weekly distinct users over the baseline
    events_7d: float | None = None  # usage events, last 7 d
    events_baseline: float | None = None  # mean weekly usage events over the baseline
    baseline_days_observed: int = 0  # days of the baseline that lie after the first event seen

    # adoption: distinct configured key features used in the last 28 days
    key_features_used: frozenset[str] | None = None  # None: no usage ever seen

    # support: current open tickets and recent escalations/reopens (None: no ticket ever seen)
    open_tickets: dict[str, int] | None = None  # priority -> open count (low/normal/high/urgent)
    escalations_30d: int = 0
    reopens_30d: int = 0

    # sentiment: survey responses of the last 90 days (empty: no data)
    surveys_90d: tuple[SurveyResponse, ...] = field(default_factory=tuple)

    # North Star Metric (primary NSM): current window vs the mean of the previous windows
    nsm_name: str = "weekly_active_users"
    nsm_current: float | None = None
    nsm_baseline: float | None = None
