"""Catch-up scheduling: budgeted scoring while event time trails the wall clock."""

from __future__ import annotations

from datetime import timedelta

from stream_app.clock import FixedClock
from tests.unit.engine.fixtures import FEATURES, START, Scenario

DAYS = 10
ACCOUNTS = [f"acct-{i}" for i in range(6)]


def catching_up(budget: int) -> tuple[Scenario, FixedClock]:
    scenario = Scenario()
    clock = FixedClock(START + timedelta(days=60))  # a month of backlog behind the wall clock
    scenario.core.wall_clock = clock
    scenario.core.catchup_lag = 6 * 3600.0
    scenario.core.catchup_budget = budget
    return scenario, clock


def feed(scenario: Scenario, tick_each_hour: bool) -> None:
    for day in range(DAYS):
        for hour in range(8, 18):
            at = START + timedelta(days=day, hours=hour)
            for i, account in enumerate(ACCOUNTS):
                scenario.usage(account, at, f"u{(hour + i) % 5}", FEATURES[hour % 4])
            if day == 3 and hour == 9:
                scenario.ticket(ACCOUNTS[-1], at, "t1", "opened")
            if tick_each_hour:
                scenario.tick()


def test_touched_accounts_are_budgeted_and_wait_in_order() -> None:
    scenario, _ = catching_up(budget=2)
    at = START + timedelta(hours=9)
    for account in ACCOUNTS:
        scenario.usage(account, at, "u1", FEATURES[0])
    scenario.ticket(ACCOUNTS[-1], at, "t1", "opened")
    assert scenario.core.catching_up
    scenario.tick()
    assert set(scenario.published) == set(ACCOUNTS[:2])  # the two that waited longest
    scenario.tick()
    assert set(scenario.published) == set(ACCOUNTS[:4])


def test_a_catch_up_judges_an_urgent_ticket_burst_on_the_next_tick() -> None:
    """The account's score waits its turn; the burst does not, or it could leave its 24 h
    window before the account is evaluated."""
    scenario, _ = catching_up(budget=1)
    at = START + timedelta(hours=9)
    for account in ACCOUNTS:
        scenario.usage(account, at, "u1", FEATURES[0])
    for n in range(3):
        scenario.ticket(ACCOUNTS[-1], at + timedelta(minutes=n), f"t{n}", "opened")
    scenario.tick()
    assert set(scenario.published) == {ACCOUNTS[0]}
    assert [(a["rule"], a["status"]) for a in scenario.alerts] == [
        ("urgent_ticket_burst", "firing")
    ]
    assert scenario.alerts[0]["account_id"] == ACCOUNTS[-1]


def test_no_midnight_rescores_while_catching_up() -> None:
    scenario, clock = catching_up(budget=100)
    scenario.usage(ACCOUNTS[0], START + timedelta(hours=9), "u1", FEATURES[0])
    scenario.tick()
    before = scenario.core.evaluations
    scenario.usage(ACCOUNTS[1], START + timedelta(days=3, hours=9), "u1", FEATURES[0])
    scenario.tick()  # ACCOUNTS[0] is due (three midnights passed) but not re-scored yet
    assert scenario.core.evaluations == before + 1
    clock.current = START + timedelta(days=3, hours=10)  # caught up
    scenario.tick()
    assert scenario.core.evaluations == before + 2


def test_put_off_rescores_run_once_the_input_is_drained_however_old_the_log() -> None:
    scenario, _ = catching_up(budget=100)  # the wall clock stays two months ahead throughout
    scenario.usage(ACCOUNTS[0], START + timedelta(hours=9), "u1", FEATURES[0])
    scenario.tick()
    before = scenario.core.evaluations
    scenario.usage(ACCOUNTS[1], START + timedelta(days=3, hours=9), "u1", FEATURES[0])
    scenario.tick()  # input arrived since the last tick: ACCOUNTS[0]'s midnights wait
    assert scenario.core.evaluations == before + 1
    assert not scenario.core.catching_up  # nothing read since: the backlog is drained
    scenario.tick()  # an account silent since would otherwise never have its days judged
    assert scenario.core.evaluations == before + 2


def test_a_drained_catch_up_ends_where_scoring_every_hour_ends() -> None:
    reference = Scenario()
    feed(reference, tick_each_hour=True)
    scenario, clock = catching_up(budget=1)
    feed(scenario, tick_each_hour=True)
    assert scenario.core.evaluations < reference.core.evaluations / 3
    clock.current = START + timedelta(days=DAYS - 1, hours=18)  # caught up: drain
    while scenario.core.has_work:
        scenario.tick()
    for account in ACCOUNTS:
        ours, theirs = scenario.core.store.get(account), reference.core.store.get(account)
        assert (ours.days, ours.tickets, ours.ledgers) == (
            theirs.days,
            theirs.tickets,
            theirs.ledgers,
        )
        final, expected = scenario.published[account], reference.published[account]
        assert final["band"] == expected["band"]
        assert abs(final["score"] - expected["score"]) < 1.0  # both within the emission step


def test_after_a_catch_up_fresh_events_go_ahead_of_the_leftovers() -> None:
    scenario, clock = catching_up(budget=2)
    at = START + timedelta(hours=9)
    for account in ACCOUNTS[:-1]:
        scenario.usage(account, at, "u1", FEATURES[0])
    clock.current = START + timedelta(days=1)  # the next events are live
    live = START + timedelta(days=1) - timedelta(minutes=1)
    scenario.usage(ACCOUNTS[-1], live, "u1", FEATURES[0])
    assert not scenario.core.catching_up
    scenario.tick()
    # the live account, and the two leftovers that waited longest
    assert set(scenario.published) == {ACCOUNTS[-1], ACCOUNTS[0], ACCOUNTS[1]}
    while scenario.core.has_work:
        scenario.tick()
    assert set(scenario.published) == set(ACCOUNTS)


def test_a_busy_live_tick_leaves_background_work_the_minimum() -> None:
    scenario, clock = catching_up(budget=100)
    scenario.core.due_budget = 3
    at = START + timedelta(hours=9)
    leftovers = [f"left-{i}" for i in range(8)]
    for account in leftovers:
        scenario.usage(account, at, "u1", FEATURES[0])
    clock.current = START + timedelta(days=1)
    live = START + timedelta(days=1) - timedelta(minutes=1)
    scenario.usage(ACCOUNTS[0], live, "u1", FEATURES[0])
    scenario.tick()
    # the fresh account, and MIN_SPARE (4) leftovers: 3 - 1 fresh would leave only 2
    assert set(scenario.published) == {ACCOUNTS[0], *leftovers[:4]}


def test_a_backlog_of_usage_is_caught_up_after_a_live_ticket_was_read() -> None:
    """Topics of a backlog are read at different speeds: a small ticket topic is read to
    its end (the present) in seconds while a month of usage is still to come. The usage must
    still be caught up on the budget, not re-scored account by account on every tick."""
    scenario, clock = catching_up(budget=2)
    scenario.ticket(ACCOUNTS[-1], clock.current - timedelta(hours=1), "t1", "opened")
    scenario.tick()
    assert set(scenario.published) == {ACCOUNTS[-1]}  # live: scored on the next tick
    at = clock.current - timedelta(days=2)  # within the de-duplication horizon
    for account in ACCOUNTS[:-1]:
        scenario.usage(account, at, "u1", FEATURES[0])
    assert scenario.core.catching_up
    before = scenario.core.evaluations
    scenario.tick()
    assert scenario.core.evaluations == before + 2  # the budget, not all five accounts
