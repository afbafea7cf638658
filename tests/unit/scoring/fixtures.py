"""Shared builders for the scoring tests: a healthy steady account and hypothesis strategies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from stream_app.scoring import (
    DEFAULT_CONFIG_PATH,
    AccountSignals,
    SurveyResponse,
    load_scoring_config,
)

__all__ = [
    "AS_OF",
    "CONFIG",
    "KEY_FEATURES",
    "account_signals",
    "complete_signals",
    "csat",
    "nps",
    "steady_account",
]

AS_OF = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CONFIG = load_scoring_config(DEFAULT_CONFIG_PATH)
KEY_FEATURES = CONFIG.key_features


def nps(score: int, age_days: float = 1.0) -> SurveyResponse:
    return SurveyResponse("nps", score, age_days)


def csat(score: int, age_days: float = 1.0) -> SurveyResponse:
    return SurveyResponse("csat", score, age_days)


def steady_account(**overrides: Any) -> AccountSignals:
    """A healthy account whose week looks like its baseline, with ``overrides`` applied."""
    signals = AccountSignals(
        account_id="acme",
        as_of=AS_OF,
        seats=50,
        active_users_7d=30.0,
        active_users_baseline=30.0,
        events_7d=1_200.0,
        events_baseline=1_150.0,
        baseline_days_observed=28,
        key_features_used=frozenset(KEY_FEATURES),
        open_tickets={"normal": 1, "low": 2},
        escalations_30d=0,
        reopens_30d=0,
        surveys_90d=(nps(9, 5.0), csat(5, 12.0)),
        nsm_current=30.0,
        nsm_baseline=29.0,
    )
    return replace(signals, **overrides)


_counts = st.floats(min_value=0, max_value=1e6, allow_nan=False)
_surveys = st.one_of(
    st.builds(nps, st.integers(0, 10), st.floats(0, 90)),
    st.builds(csat, st.integers(1, 5), st.floats(0, 90)),
)
_open_tickets = st.dictionaries(
    st.sampled_from(["low", "normal", "high", "urgent"]), st.integers(0, 200)
)
_features = st.frozensets(st.sampled_from([*KEY_FEATURES, "login", "dashboard.viewed"]))
_segments = st.sampled_from(["default", "enterprise", "smb"])


def account_signals() -> st.SearchStrategy[AccountSignals]:
    """Any account, each signal possibly missing."""
    return st.builds(
        AccountSignals,
        account_id=st.just("acme"),
        as_of=st.just(AS_OF),
        segment=_segments,
        seats=st.none() | st.integers(0, 100_000),
        active_users_7d=st.none() | _counts,
        active_users_baseline=st.none() | _counts,
        events_7d=st.none() | _counts,
        events_baseline=st.none() | _counts,
        baseline_days_observed=st.integers(0, 28),
        key_features_used=st.none() | _features,
        open_tickets=st.none() | _open_tickets,
        escalations_30d=st.integers(0, 200),
        reopens_30d=st.integers(0, 200),
        surveys_90d=st.lists(_surveys, max_size=12).map(tuple),
        nsm_current=st.none() | _counts,
        nsm_baseline=st.none() | _counts,
    )


def complete_signals() -> st.SearchStrategy[AccountSignals]:
    """Accounts with data for every component."""
    positive = st.floats(min_value=0.5, max_value=1e6, allow_nan=False)
    return st.builds(
        AccountSignals,
        account_id=st.just("acme"),
        as_of=st.just(AS_OF),
        segment=_segments,
        seats=st.none() | st.integers(1, 100_000),
        active_users_7d=_counts,
        active_users_baseline=st.none() | positive,
        events_7d=_counts,
        events_baseline=st.none() | positive,
        baseline_days_observed=st.integers(0, 28),
        key_features_used=_features,
        open_tickets=_open_tickets,
        escalations_30d=st.integers(0, 200),
        reopens_30d=st.integers(0, 200),
        surveys_90d=st.lists(_surveys, min_size=1, max_size=12).map(tuple),
        nsm_current=_counts,
        nsm_baseline=positive,
    )
