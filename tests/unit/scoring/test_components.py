"""Each score component on hand-checked cases: score, inputs and driver texts."""

from __future__ import annotations

import json

import pytest

from stream_app.scoring.components import adoption, engagement, nsm_trend, sentiment, support

from .fixtures import CONFIG, KEY_FEATURES, csat, nps, steady_account

MODEL = CONFIG.for_segment("default")


def driver_texts(result):
    return [driver.text for driver in result.drivers]


@pytest.mark.parametrize(
    ("overrides", "score", "drivers"),
    [
        pytest.param({}, 100.0, [], id="steady"),
        pytest.param(
            {"seats": None, "active_users_7d": 0.58 * 30, "events_7d": 1_150.0},
            100 * (0.5 * (0.58 / 0.9) ** 1.5 + 0.2) / 0.7,
            ["weekly active users down 42% vs 4-week baseline"],
            id="users-down",
        ),
        pytest.param(
            {"active_users_baseline": None, "events_baseline": None, "active_users_7d": 3.0},
            100 * (3 / 50 / 0.5) ** 1.5,
            ["only 3 of 50 seats active this week"],
            id="seats-only-without-baseline",
        ),
        pytest.param(
            {"active_users_baseline": 0.0, "events_baseline": 0.0, "active_users_7d": 25.0},
            100.0,
            [],
            id="zero-baseline-falls-back-to-seats",
        ),
        pytest.param(
            {"active_users_baseline": None, "events_baseline": None, "seats": None},
            75.0,
            [],
            id="new-account",
        ),
        pytest.param(
            {
                "active_users_baseline": None,
                "events_baseline": None,
                "seats": None,
                "active_users_7d": 0.0,
            },
            0.0,
            ["no active users this week"],
            id="new-account-gone-quiet",
        ),
        pytest.param(
            {"active_users_7d": 0.0, "events_7d": 0.0, "baseline_days_observed": 10},
            0.0,
            ["no active users this week", "no usage events this week"],
            id="stopped-using",
        ),
        pytest.param(
            {"seats": None, "events_7d": 575.0, "baseline_days_observed": 5},
            100 * (0.5 + 0.2 * (0.5 / 0.9) ** 1.5) / 0.7,
            ["usage events down 50% vs baseline"],
            id="events-down-short-baseline",
        ),
    ],
)
def test_engagement(overrides, score, drivers):
    result = engagement(steady_account(**overrides), MODEL.engagement)

    assert result is not None
    assert result.score == pytest.approx(score)
    assert driver_texts(result) == drivers
    if "new_account" not in result.inputs:  # every lost point is attributed to a reason
        assert sum(d.cost for d in result.drivers) == pytest.approx(100.0 - result.score)


def test_engagement_without_usage_is_missing():
    assert engagement(steady_account(active_users_7d=None), MODEL.engagement) is None


@pytest.mark.parametrize(
    ("used", "score", "drivers"),
    [
        pytest.param(KEY_FEATURES, 100.0, [], id="all"),
        pytest.param(
            {"report.created", "login"},
            25.0,
            [
                "uses 1 of 4 key features "
                "(missing: export.run, alert.configured, integration.synced)"
            ],
            id="one-plus-unrelated",
        ),
        pytest.param(
            set(),
            0.0,
            ["uses 0 of 4 key features (missing: report.created, export.run, alert.configured, …)"],
            id="none",
        ),
    ],
)
def test_adoption(used, score, drivers):
    result = adoption(steady_account(key_features_used=frozenset(used)), KEY_FEATURES)

    assert result is not None
    assert result.score == score
    assert driver_texts(result) == drivers
    assert [d.cost for d in result.drivers] == [100.0 - score] * len(drivers)


def test_adoption_without_usage_is_missing():
    assert adoption(steady_account(key_features_used=None), KEY_FEATURES) is None


@pytest.mark.parametrize(
    ("open_tickets", "escalations", "reopens", "score", "drivers"),
    [
        pytest.param({"normal": 4, "low": 1}, 0, 0, 100.0, [], id="only-routine-tickets"),
        pytest.param({"urgent": 1}, 0, 0, 80.0, ["1 urgent ticket open"], id="one-urgent"),
        pytest.param(
            {"high": 2},
            0,
            1,
            79.0,
            ["2 high-priority tickets open", "1 reopened ticket in 30 days"],
            id="high-and-reopen",
        ),
        pytest.param(
            {"urgent": 5},
            3,
            0,
            0.0,
            ["5 urgent tickets open", "3 escalations in 30 days"],
            id="storm",
        ),
        pytest.param({}, 2, 0, 76.0, ["2 escalations in 30 days"], id="escalations-only"),
    ],
)
def test_support(open_tickets, escalations, reopens, score, drivers):
    signals = steady_account(
        open_tickets=open_tickets, escalations_30d=escalations, reopens_30d=reopens
    )

    result = support(signals, MODEL.support)

    assert result is not None
    assert result.score == score
    assert driver_texts(result) == drivers
    assert sum(d.cost for d in result.drivers) == pytest.approx(100.0 - score)


def test_support_without_ticket_history_is_missing():
    assert support(steady_account(open_tickets=None, escalations_30d=2), MODEL.support) is None


@pytest.mark.parametrize(
    ("surveys", "score", "drivers"),
    [
        pytest.param((nps(10, 0),), 100.0, [], id="promoter"),
        pytest.param((csat(4, 3),), 75.0, [], id="csat-linear"),
        pytest.param(
            (nps(4, 2),), 40.0, ["1 detractor NPS response in 90 days (latest 4/10)"], id="detr"
        ),
        pytest.param(
            (nps(0, 90), nps(10, 0)),
            100 / 1.125,
            ["1 detractor NPS response in 90 days (latest 0/10)"],
            id="old-detractor-weighs-an-eighth",
        ),
        pytest.param(
            (nps(3, 20), nps(4, 5), csat(1, 8), csat(2, 40)),
            None,
            [
                "2 detractor NPS responses in 90 days (latest 4/10)",
                "2 low CSAT ratings in 90 days (latest 1/5)",
            ],
            id="detractors-and-low-csat",
        ),
    ],
)
def test_sentiment(surveys, score, drivers):
    result = sentiment(steady_account(surveys_90d=surveys), MODEL.sentiment)

    assert result is not None
    if score is not None:
        assert result.score == pytest.approx(score)
    assert driver_texts(result) == drivers
    assert sum(d.cost for d in result.drivers) <= 100.0 - result.score + 1e-9


def test_sentiment_without_responses_is_missing():
    assert sentiment(steady_account(surveys_90d=()), MODEL.sentiment) is None


@pytest.mark.parametrize(
    ("current", "baseline", "score", "drivers"),
    [
        pytest.param(100.0, 100.0, 75.0, [], id="flat"),
        pytest.param(110.0, 100.0, 87.5, [], id="growing"),
        pytest.param(150.0, 100.0, 100.0, [], id="growth-capped"),
        pytest.param(
            75.0,
            100.0,
            37.5,
            ["weekly active users down 25% vs baseline (north-star metric)"],
            id="down-25",
        ),
        pytest.param(
            50.0,
            100.0,
            0.0,
            ["weekly active users down 50% vs baseline (north-star metric)"],
            id="down-50",
        ),
        pytest.param(
            20.0,
            100.0,
            0.0,
            ["weekly active users down 80% vs baseline (north-star metric)"],
            id="down-80-floored",
        ),
    ],
)
def test_nsm_trend(current, baseline, score, drivers):
    signals = steady_account(nsm_current=current, nsm_baseline=baseline)

    result = nsm_trend(signals, MODEL.nsm_trend)

    assert result is not None
    assert result.score == pytest.approx(score)
    assert driver_texts(result) == drivers
    assert [d.cost for d in result.drivers] == [pytest.approx(75.0 - score)] * len(drivers)


def test_nsm_driver_humanises_the_metric_name():
    signals = steady_account(nsm_name="reports.created_weekly", nsm_current=40, nsm_baseline=80)

    result = nsm_trend(signals, MODEL.nsm_trend)

    assert result is not None
    assert driver_texts(result) == [
        "reports created weekly down 50% vs baseline (north-star metric)"
    ]


@pytest.mark.parametrize(
    ("current", "baseline"),
    [(None, 10.0), (10.0, None), (10.0, 0.0)],
    ids=["no-current", "no-baseline", "zero-baseline"],
)
def test_nsm_trend_without_a_baseline_is_missing(current, baseline):
    signals = steady_account(nsm_current=current, nsm_baseline=baseline)

    assert nsm_trend(signals, MODEL.nsm_trend) is None


def test_component_inputs_are_json_serialisable():
    signals = steady_account()
    results = [
        engagement(signals, MODEL.engagement),
        adoption(signals, KEY_FEATURES),
        support(signals, MODEL.support),
        sentiment(signals, MODEL.sentiment),
        nsm_trend(signals, MODEL.nsm_trend),
    ]

    for result in results:
        assert result is not None
        json.dumps(result.inputs)
