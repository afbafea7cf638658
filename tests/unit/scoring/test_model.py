"""The whole score: renormalisation, confidence, drivers, bands and the output record."""

from __future__ import annotations

import math

import pytest

from stream_app.contracts.outputs import HealthScore
from stream_app.scoring import PreviousScore, ScoringConfig, score_account, to_health_score

from .fixtures import AS_OF, CONFIG, csat, nps, steady_account


def test_healthy_steady_account_is_healthy_with_full_confidence_and_no_drivers():
    result = score_account(steady_account(), CONFIG)

    assert result is not None
    assert result.band == "healthy"
    assert result.score >= 90
    assert result.confidence == 1.0
    assert result.drivers == ()
    assert result.model_version == "hs-1.0.0"
    assert set(result.components) == {
        "engagement",
        "adoption",
        "support",
        "sentiment",
        "nsm_trend",
    }


def test_support_storm_scores_support_low_and_names_the_urgent_tickets_first():
    result = score_account(steady_account(open_tickets={"urgent": 5}, escalations_30d=3), CONFIG)

    assert result is not None
    assert result.components["support"].score == 0.0
    assert result.drivers[:2] == ("5 urgent tickets open", "3 escalations in 30 days")
    assert result.score == 60.0  # capped: support in crisis outweighs perfect usage
    assert result.band == "at_risk"


def test_crisis_cap_only_applies_at_or_below_the_crisis_line():
    strained = score_account(steady_account(open_tickets={"urgent": 3}), CONFIG)  # support 40
    unconfigured = ScoringConfig.model_validate(
        {**CONFIG.model_dump(), "crisis": {"components": []}}
    )
    uncapped = score_account(steady_account(open_tickets={"urgent": 5}), unconfigured)

    assert strained is not None and strained.score > 60.0
    assert uncapped is not None and uncapped.score > 60.0


def test_detractor_wave_scores_sentiment_low_with_a_driver():
    wave = (nps(2, 1), nps(3, 4), nps(5, 9), nps(4, 15))

    result = score_account(steady_account(surveys_90d=wave), CONFIG)

    assert result is not None
    assert result.components["sentiment"].score < 40
    assert result.drivers == ("4 detractor NPS responses in 90 days (latest 2/10)",)


def test_drivers_are_ranked_by_impact_on_the_overall_score_and_capped_at_three():
    signals = steady_account(
        key_features_used=frozenset({"report.created", "export.run"}),
        open_tickets={"urgent": 1},
        reopens_30d=1,
        surveys_90d=(nps(0, 1),),
        nsm_current=15.0,
        nsm_baseline=30.0,
    )

    result = score_account(signals, CONFIG)

    assert result is not None
    assert result.drivers == (  # impacts 15, 11.25 and 10 points; the urgent ticket's 4 is cut
        "1 detractor NPS response in 90 days (latest 0/10)",
        "weekly active users down 50% vs baseline (north-star metric)",
        "uses 2 of 4 key features (missing: alert.configured, integration.synced)",
    )


def test_missing_components_are_left_out_and_the_rest_renormalised():
    signals = steady_account(
        active_users_7d=None, key_features_used=None, nsm_current=None, surveys_90d=()
    )

    result = score_account(signals, CONFIG)

    assert result is not None
    assert set(result.components) == {"support"}
    assert result.components["support"].weight == 1.0
    assert result.confidence == 0.2
    assert result.score == 100.0


def test_no_data_at_all_gives_no_score():
    signals = steady_account(
        active_users_7d=None,
        key_features_used=None,
        open_tickets=None,
        surveys_90d=(),
        nsm_current=None,
    )

    assert score_account(signals, CONFIG) is None


def test_segment_weights_apply():
    signals = steady_account(segment="enterprise")

    result = score_account(signals, CONFIG)

    assert result is not None
    assert result.components["support"].weight == 0.25
    assert math.isclose(sum(c.weight for c in result.components.values()), 1.0)


def test_unhealthy_score_without_a_specific_reason_names_the_weakest_component():
    signals = steady_account(
        active_users_7d=None,
        key_features_used=None,
        open_tickets=None,
        nsm_current=None,
        surveys_90d=(csat(3, 1),),
    )

    result = score_account(signals, CONFIG)

    assert result is not None
    assert result.band == "at_risk"
    assert result.drivers == ("survey sentiment at 50/100",)


@pytest.mark.parametrize(
    ("previous_band", "expected"),
    [(None, "at_risk"), ("healthy", "healthy"), ("critical", "at_risk")],
)
def test_previous_band_holds_within_the_margin(previous_band, expected):
    signals = steady_account(
        active_users_7d=None,
        key_features_used=None,
        open_tickets=None,
        nsm_current=None,
        surveys_90d=(csat(4, 1), nps(6, 1)),
    )
    previous = PreviousScore(72.0, previous_band) if previous_band else None

    result = score_account(signals, CONFIG, previous)

    assert result is not None
    assert result.score == 67.5
    assert result.band == expected
    assert result.drivers  # below the healthy line, even when the band held


def test_to_health_score_builds_the_output_contract():
    result = score_account(steady_account(open_tickets={"urgent": 2}), CONFIG)
    assert result is not None

    record = to_health_score(
        result,
        account_id="acme",
        previous_score=91.0,
        delta_7d=-4.5,
        as_of=AS_OF,
        computed_at=AS_OF,
    )

    assert isinstance(record, HealthScore)
    assert record.score == result.score
    assert record.band == result.band
    assert record.drivers == list(result.drivers)
    assert record.components["support"].inputs["open_urgent"] == 2
    assert record.components["support"].weight == 0.2
    assert HealthScore.model_validate_json(record.model_dump_json()) == record
