"""Golden scenarios through the engine core (the code path of the worker and the backtest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stream_app.ingest import Outcome
from tests.unit.engine.fixtures import START, Scenario


def test_healthy_steady_account():
    s = Scenario()
    s.steady_usage("steady", 42)
    s.nps("steady", START + timedelta(days=41), 9)
    s.tick()
    score = s.published["steady"]
    assert score["band"] == "healthy"
    assert score["confidence"] >= 0.75
    assert set(score["components"]) >= {"engagement", "adoption", "sentiment", "nsm_trend"}


def test_support_storm_is_at_risk_with_ticket_drivers():
    s = Scenario()
    s.steady_usage("storm", 42)
    at = START + timedelta(days=41, hours=12)
    for t in range(6):
        s.ticket("storm", at + timedelta(minutes=t), f"T{t}", "opened")
        s.ticket("storm", at + timedelta(minutes=30 + t), f"T{t}", "escalated")
    s.tick()
    score = s.published["storm"]
    assert score["band"] == "at_risk"
    assert score["drivers"][:2] == ["6 urgent tickets open", "6 escalations in 30 days"]
    assert score["components"]["engagement"]["score"] > 90  # usage alone would say healthy


def test_detractor_wave_lowers_sentiment_with_a_driver():
    s = Scenario()
    s.steady_usage("sad", 42)
    for i in range(6):
        s.nps("sad", START + timedelta(days=36 + i), 1)
    s.tick()
    score = s.published["sad"]
    assert score["components"]["sentiment"]["score"] < 30
    assert any("detractor" in d.lower() or "nps" in d.lower() for d in score["drivers"])


def test_silent_account_falls_as_its_windows_age():
    s = Scenario()
    s.steady_usage("quiet", 42, until_day=28)  # then nothing
    before = s.published["quiet"]
    assert before["band"] == "healthy"
    s.steady_usage("other", 42)  # keeps event time moving; "quiet" is re-scored at midnights
    s.advance(START + timedelta(days=42))
    after = s.published["quiet"]
    assert after["as_of"] > before["as_of"]
    assert after["score"] < before["score"] - 20
    assert after["band"] != "healthy"
    assert after["drivers"], after


def test_late_and_out_of_order_events_count_once_and_land_in_their_day():
    s = Scenario()
    s.steady_usage("acme", 35)
    late_at = START + timedelta(days=33, hours=3)  # two days behind the watermark
    assert s.usage("acme", late_at, "new-user", "export.run") is Outcome.LATE
    assert (
        s.usage("acme", late_at, "new-user", "export.run", event_id=f"e{s.n}") is Outcome.DUPLICATE
    )
    state = s.core.store.get("acme")
    assert state.days[int(late_at.timestamp() // 86400)].events == 9


@pytest.mark.parametrize("copies", [2, 5])
def test_duplicated_events_are_counted_once(copies):
    s = Scenario()
    at = START + timedelta(hours=10)
    outcomes = [s.usage("dup", at, "u1", "login", event_id="same") for _ in range(copies)]
    assert outcomes == [Outcome.PROCESSED] + [Outcome.DUPLICATE] * (copies - 1)
    assert s.core.store.get("dup").days[int(at.timestamp() // 86400)].events == 1


def test_a_fast_topic_does_not_make_a_slow_topics_backlog_too_late():
    """Topics are consumed at their own speed: today's survey may arrive before a month of
    usage that is still being caught up; that usage must be counted, not rejected."""
    s = Scenario()
    assert s.nps("catch-up", START + timedelta(days=35), 9) is Outcome.PROCESSED
    outcomes = {
        s.usage("catch-up", START + timedelta(days=day, hours=9), "u1", "export.run")
        for day in range(35)
    }
    assert outcomes == {Outcome.PROCESSED}
    assert len(s.core.store.get("catch-up").days) == 35
