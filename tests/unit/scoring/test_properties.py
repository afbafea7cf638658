"""Properties that must hold for every account, not just the hand-picked ones."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from stream_app.scoring import PreviousScore, band_for, score_account, to_health_score
from stream_app.scoring.components import engagement, support

from .fixtures import AS_OF, CONFIG, account_signals, complete_signals

BANDS = st.sampled_from(["healthy", "at_risk", "critical"])
COMPONENT_FIELDS = {
    "engagement": {"active_users_7d": None},
    "adoption": {"key_features_used": None},
    "support": {"open_tickets": None},
    "sentiment": {"surveys_90d": ()},
    "nsm_trend": {"nsm_current": None},
}


@given(account_signals(), st.none() | st.builds(PreviousScore, st.floats(0, 100), BANDS))
def test_score_is_within_bounds_and_builds_a_valid_record(signals, previous):
    result = score_account(signals, CONFIG, previous)
    if result is None:
        return

    assert 0.0 <= result.score <= 100.0
    assert 0.0 < result.confidence <= 1.0
    assert all(0.0 <= c.score <= 100.0 for c in result.components.values())
    assert len(result.drivers) <= 3
    if result.band != "healthy" or result.score < 70:
        assert result.drivers
    to_health_score(
        result,
        account_id="acme",
        previous_score=None,
        delta_7d=None,
        as_of=AS_OF,
        computed_at=AS_OF,
    )


@given(account_signals())
def test_one_more_open_urgent_ticket_never_raises_the_score(signals):
    assume(signals.open_tickets is not None)
    worse = replace(
        signals,
        open_tickets={**signals.open_tickets, "urgent": signals.open_tickets.get("urgent", 0) + 1},
    )
    params = CONFIG.for_segment(signals.segment).support

    before, after = score_account(signals, CONFIG), score_account(worse, CONFIG)

    assert before is not None and after is not None
    assert after.score <= before.score
    assert support(worse, params).score <= support(signals, params).score


@given(account_signals(), st.floats(min_value=0.01, max_value=1e5, allow_nan=False))
def test_more_active_users_never_lower_engagement(signals, extra_users):
    assume(signals.active_users_7d is not None)
    busier = replace(signals, active_users_7d=signals.active_users_7d + extra_users)
    params = CONFIG.for_segment(signals.segment).engagement

    assert engagement(busier, params).score >= engagement(signals, params).score
    assert score_account(busier, CONFIG).score >= score_account(signals, CONFIG).score


@given(complete_signals(), st.sets(st.sampled_from(sorted(COMPONENT_FIELDS)), min_size=1))
def test_missing_components_never_crash_and_lower_confidence(signals, dropped):
    weights = CONFIG.for_segment(signals.segment).weights
    blanked = {field: value for name in dropped for field, value in COMPONENT_FIELDS[name].items()}

    full = score_account(signals, CONFIG)
    partial = score_account(replace(signals, **blanked), CONFIG)

    assert full is not None and full.confidence == 1.0
    if len(dropped) == len(COMPONENT_FIELDS):
        assert partial is None
        return
    assert partial is not None
    assert set(partial.components) == set(COMPONENT_FIELDS) - dropped
    expected = 1.0 - sum(weights[name] for name in dropped)
    assert abs(partial.confidence - expected) < 1e-3
    assert partial.confidence < full.confidence


@given(
    threshold=st.sampled_from(["healthy", "critical"]),
    offsets=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=50),
    start=st.none() | BANDS,
)
def test_a_score_oscillating_within_the_margin_changes_band_at_most_once(threshold, offsets, start):
    bands = CONFIG.for_segment("default").bands
    margin = bands.hysteresis_margin
    border = getattr(bands, threshold)

    band = start
    changes = 0
    for offset in offsets:
        score = border + offset * (margin - 0.1)
        new_band = band_for(score, band, bands, margin)
        changes += band is not None and new_band != band
        band = new_band

    assert changes <= 1
