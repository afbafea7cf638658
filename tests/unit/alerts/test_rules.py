"""The risk rules other than NSM decline: fire, hold and resolve criteria."""

from __future__ import annotations

from stream_app.alerts import (
    Condition,
    SurveyFact,
    band_critical,
    detractor_response,
    score_drop,
    urgent_ticket_burst,
)
from stream_app.alerts.config import DetractorParams, ScoreDropParams, UrgentBurstParams

DAY, HOUR = 86_400.0, 3_600.0
NOW = 100 * DAY


def test_band_critical_follows_the_band():
    firing = band_critical(31.0, "critical")
    assert (firing.condition, firing.severity) == (Condition.FIRING, "critical")
    assert band_critical(45.0, "at_risk").condition is Condition.CLEAR


def test_score_drop_fires_holds_and_clears_against_the_seven_day_peak():
    history = {93: 80.0, 95: 78.0, 99: 70.0}
    params = ScoreDropParams()
    fired = score_drop(62.0, history, 100, params)
    assert fired.condition is Condition.FIRING and fired.severity == "warning"
    assert fired.metric.baseline == 80.0 and fired.metric.current == 62.0
    assert score_drop(54.0, history, 100, params).severity == "critical"
    assert score_drop(68.0, history, 100, params).condition is Condition.HOLDING  # 12 down
    assert score_drop(72.0, history, 100, params).condition is Condition.CLEAR
    # the peak ages out of the 7-day window: the fall no longer counts
    assert score_drop(62.0, {92: 80.0}, 100, params).condition is Condition.CLEAR


def test_urgent_burst_fires_on_three_in_a_day_and_clears_when_none_is_open():
    params = UrgentBurstParams()
    opened = [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - HOUR]
    assert urgent_ticket_burst(opened, 3, NOW, params).condition is Condition.FIRING
    assert urgent_ticket_burst(opened, 0, NOW, params).condition is Condition.CLEAR  # all fixed
    spread = [NOW - 3 * DAY, NOW - 2 * DAY, NOW - HOUR]
    assert urgent_ticket_burst(spread, 3, NOW, params).condition is Condition.HOLDING
    assert urgent_ticket_burst(spread, 0, NOW, params).condition is Condition.CLEAR
    five = [NOW - h * HOUR for h in range(5)]
    assert urgent_ticket_burst(five, 5, NOW, params).severity == "critical"


def test_detractor_fires_on_a_fresh_response_and_resolves_after_a_quiet_month():
    params = DetractorParams()
    fresh = [SurveyFact(NOW - DAY, "nps", 5), SurveyFact(NOW - 2 * DAY, "nps", 10)]
    fired = detractor_response(fresh, NOW, params)
    assert (fired.condition, fired.severity) == (Condition.FIRING, "warning")
    assert detractor_response([SurveyFact(NOW, "nps", 2)], NOW, params).severity == "critical"
    aging = [SurveyFact(NOW - 10 * DAY, "nps", 5)]
    assert detractor_response(aging, NOW, params).condition is Condition.HOLDING
    assert detractor_response(aging, NOW + 21 * DAY, params).condition is Condition.CLEAR
    assert detractor_response([SurveyFact(NOW, "csat", 1)], NOW, params).condition is (
        Condition.CLEAR
    )


def test_no_rule_text_carries_a_survey_comment():
    # SurveyFact has no comment field at all: the rule cannot copy what it never receives
    assert "comment" not in SurveyFact.__dataclass_fields__
