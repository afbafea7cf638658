"""Windowed account state: event-time windows, expiry, tickets, surveys and the codec."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.contracts import AccountProfile, ProductUsageEvent, SurveyEvent, TicketEvent
from stream_app.state import AccountState, NsmSpec, WindowSpec, decode_state, encode_state

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
SPEC = WindowSpec(key_features=("report.created", "export.run", "alert.configured"))


def usage(i, at, user="u1", event_type="login", account="acme"):
    return ProductUsageEvent(
        event_id=f"e{i}", account_id=account, occurred_at=at, user_id=user, event_type=event_type
    )


def ticket(i, at, ticket_id, action, priority="urgent"):
    return TicketEvent(
        event_id=f"t{i}",
        account_id="acme",
        occurred_at=at,
        ticket_id=ticket_id,
        action=action,
        priority=priority,
    )


def admit(state, event):
    ts = event.occurred_at.timestamp()
    state.ledger_for("usage").admit(event.event_id, ts, horizon=7 * 86400, max_ids=10_000)
    state.apply(event, SPEC)


def test_usage_fills_daily_buckets_with_distinct_users_and_features():
    state = AccountState()
    for i, user in enumerate(["a", "b", "a", "c"]):
        admit(state, usage(i, T0, user, "report.created" if i else "export.run"))
    signals = state.signals("acme", T0, SPEC)
    assert signals.active_users_7d == 3
    assert signals.events_7d == 4
    assert signals.key_features_used == frozenset({"report.created", "export.run"})


def test_baseline_is_the_mean_of_the_four_weeks_before_the_current_one():
    state = AccountState()
    n = 0
    for week in range(5):
        users = 10 if week < 4 else 4  # four steady weeks, then a drop
        for u in range(users):
            n += 1
            admit(state, usage(n, T0 + timedelta(days=7 * week), f"u{u}"))
    as_of = T0 + timedelta(days=28, hours=1)
    signals = state.signals("acme", as_of, SPEC)
    assert signals.active_users_7d == 4
    assert signals.active_users_baseline == 10
    assert signals.nsm_current == 4 and signals.nsm_baseline == 10


def test_weeks_before_the_first_event_do_not_count_as_a_zero_baseline():
    state = AccountState()
    admit(state, usage(1, T0, "a"))
    signals = state.signals("acme", T0 + timedelta(days=2), SPEC)
    assert signals.active_users_baseline is None
    assert signals.nsm_baseline is None
    assert signals.baseline_days_observed == 0


def test_silence_empties_the_current_window():
    state = AccountState()
    for i in range(5):
        admit(state, usage(i, T0, f"u{i}"))
    later = state.signals("acme", T0 + timedelta(days=10), SPEC)
    assert later.active_users_7d == 0
    assert later.events_7d == 0


def test_tickets_open_close_and_ignore_stale_status_updates():
    state = AccountState()
    admit(state, ticket(1, T0, "A", "opened"))
    admit(state, ticket(2, T0 + timedelta(hours=2), "A", "resolved"))
    admit(state, ticket(3, T0 + timedelta(hours=1), "A", "escalated"))  # late: counts, no reopen
    admit(state, ticket(4, T0, "B", "opened", "high"))
    signals = state.signals("acme", T0 + timedelta(hours=3), SPEC)
    assert signals.open_tickets == {"high": 1}
    assert signals.escalations_30d == 1


def test_no_ticket_ever_means_no_support_data():
    state = AccountState()
    admit(state, usage(1, T0))
    assert state.signals("acme", T0, SPEC).open_tickets is None


def test_surveys_keep_ninety_days_with_their_age():
    state = AccountState()
    for i, days_ago in enumerate([100, 30, 1]):
        at = T0 - timedelta(days=days_ago)
        admit(
            state,
            SurveyEvent(
                event_id=f"s{i}",
                account_id="acme",
                occurred_at=at,
                user_id="u",
                survey="nps",
                score=3 + i,
            ),
        )
    responses = state.signals("acme", T0, SPEC).surveys_90d
    assert [(r.score, round(r.age_days)) for r in responses] == [(4, 30), (5, 1)]


def test_profile_sets_segment_and_seats():
    state = AccountState()
    state.apply(AccountProfile(account_id="acme", segment="enterprise", seats=50), SPEC)
    signals = state.signals("acme", T0, SPEC)
    assert (signals.segment, signals.seats) == ("enterprise", 50)


def test_count_and_sum_nsm_measures():
    spec = WindowSpec(key_features=(), nsms=(NsmSpec("exports", "sum", frozenset({"export.run"})),))
    state = AccountState()
    for i, (event_type, quantity) in enumerate(
        [("export.run", 3), ("export.run", 2), ("login", 9)]
    ):
        event = usage(i, T0, event_type=event_type).model_copy(update={"quantity": quantity})
        state.ledger_for("usage").admit(event.event_id, T0.timestamp(), horizon=1e6, max_ids=100)
        state.apply(event, spec)
    assert state.signals("acme", T0, spec).nsm_current == 5


def test_state_stays_bounded_as_days_pass():
    state = AccountState()
    for day in range(200):
        admit(state, usage(day, T0 + timedelta(days=day), f"u{day % 7}"))
        admit(state, ticket(day, T0 + timedelta(days=day), f"T{day}", "opened"))
        admit(state, ticket(1000 + day, T0 + timedelta(days=day, hours=1), f"T{day}", "closed"))
    assert len(state.days) <= SPEC.usage_retention_days + 1
    assert len(state.tickets) <= 31


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from(["u1", "u2", "u3"]),
            st.sampled_from(["login", "export.run"]),
        ),
        max_size=60,
    )
)
def test_codec_round_trips_any_state(events):
    state = AccountState()
    for i, (day, user, event_type) in enumerate(events):
        admit(state, usage(i, T0 + timedelta(days=day), user, event_type))
    admit(state, ticket(999, T0, "X", "opened"))
    state.last_score, state.last_band, state.score_history = 55.5, "at_risk", {20000: 55.5}
    record = encode_state(state)
    restored = decode_state(record)
    assert encode_state(restored) == record
    as_of = T0 + timedelta(days=61)
    assert restored.signals("acme", as_of, SPEC) == state.signals("acme", as_of, SPEC)
    # assembled from parts, the record is still exactly what packing it whole writes
    fields = msgpack.unpackb(record, raw=False, strict_map_key=False)
    assert msgpack.packb(fields, use_bin_type=True) == record


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from(["u1", "u2", "opened", "escalated", "reopened"]),
        ),
        max_size=60,
    )
)
def test_a_state_encoded_after_every_event_encodes_like_one_never_encoded(events):
    """Day buckets keep their encoding until they change: late events, ticket counters and
    expired days included. A stale one would send an old bucket to the changelog."""
    encoded_every_time, encoded_once = AccountState(), AccountState()
    for i, (day, what) in enumerate(events):
        at = T0 + timedelta(days=day)
        event = usage(i, at, what) if what.startswith("u") else ticket(i, at, f"T{i % 3}", what)
        for state in (encoded_every_time, encoded_once):
            admit(state, event)
        encode_state(encoded_every_time)
    assert encode_state(encoded_every_time) == encode_state(encoded_once)


def test_an_nsm_sketch_equal_to_the_users_sketch_is_stored_once():
    """The default NSM (distinct users over all event types) is the day's users sketch: shared
    in memory and written once; a filtered NSM keeps its own sketch."""
    filtered = WindowSpec(
        key_features=SPEC.key_features,
        nsms=(NsmSpec(), NsmSpec(name="exporters", event_types=frozenset({"export.run"}))),
    )
    state = AccountState()
    for i, (user, event_type) in enumerate([("u1", "login"), ("u2", "export.run")]):
        state.ledger_for("usage").admit(f"e{i}", T0.timestamp(), horizon=1e9, max_ids=100)
        state.apply(usage(i, T0, user, event_type), filtered)
    bucket = state.days[min(state.days)]
    assert bucket.nsm[0] is bucket.users
    assert bucket.nsm[1] != bucket.users
    restored = decode_state(encode_state(state))
    assert restored.days == state.days
    one_copy = len(encode_state(state))
    bucket.nsm[0] = bytes(bucket.users)  # equal bytes, not the same object: still written once
    assert len(encode_state(state)) == one_copy


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.sampled_from(["u1", "u2", "u3", "u4"]), st.booleans()),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from([1, 2, 7]),
)
def test_nsm_histories_cached_across_days_equal_a_fresh_read(events, step):
    """The detector's per-step values are kept between days judged; a late event into a day
    already judged must drop them, or the next history would quote stale counts."""
    spec = WindowSpec(
        key_features=(),
        nsms=(
            NsmSpec(step_days=step),
            NsmSpec(name="exports", measure="count", event_types=frozenset({"export.run"})),
        ),
    )
    day0 = int(T0.timestamp() // 86400)
    state = AccountState()
    newest = 0
    for i, (day, user, export) in enumerate(sorted(events, key=lambda e: e[0] % 17)):
        event = usage(i, T0 + timedelta(days=day), user, "export.run" if export else "login")
        state.ledger_for("usage").admit(
            event.event_id, event.occurred_at.timestamp(), horizon=1e9, max_ids=10_000
        )
        state.apply(event, spec)
        newest = max(newest, day)
        judged = day0 + newest - 1  # every day before the newest one is closed
        cached = state.nsm_histories(judged, spec)
        assert cached == decode_state(encode_state(state)).nsm_histories(judged, spec)


def test_users_active_days_are_kept_for_the_lost_regulars_test():
    state = AccountState()
    visits = [(0, "ann"), (1, "ann"), (1, "bob"), (3, "ann"), (3, "ann"), (4, "cyd")]
    for i, (day, user) in enumerate(visits):
        admit(state, usage(i, T0 + timedelta(days=day), user))
    day0 = int(T0.timestamp() // 86400)
    (history,) = state.nsm_histories(day0 + 3, SPEC)  # day 4 is not closed yet
    assert history.days == 4
    assert sorted(history.user_days) == [0b0010, 0b1011]  # bob on day 1; ann on 0, 1 and 3
    assert history.observed_days == 3  # the first day is partial: not evidence


def test_tracked_users_are_capped_and_a_slot_frees_when_a_user_expires():
    spec = WindowSpec(key_features=(), nsms=(NsmSpec(tracked_users=2),))
    state = AccountState()

    def visit(i, day, user):
        at = T0 + timedelta(days=day)
        state.ledger_for("usage").admit(f"e{i}", at.timestamp(), horizon=1e12, max_ids=10_000)
        state.apply(usage(i, at, user), spec)

    def tracked():
        return {key for key, mask in state.nsm_users[0].items() if mask}

    ann, bob, cyd = (zlib.crc32(name.encode()) for name in ("ann", "bob", "cyd"))
    for i, user in enumerate(["ann", "bob", "cyd"]):
        visit(i, 0, user)
    assert tracked() == {ann, bob}  # cyd is counted in the sketches, not tracked
    for day in range(1, 60):
        visit(100 + day, day, "ann")
    visit(200, 60, "cyd")
    assert tracked() == {ann, cyd}  # bob's days expired, so cyd has his slot
    assert state.users_from == int(T0.timestamp() // 86400) + 60 - spec.usage_retention_days
    assert all(mask < 1 << (spec.usage_retention_days + 1) for mask in state.nsm_users[0].values())


def test_a_late_event_before_the_first_tracked_day_moves_the_masks():
    state = AccountState()
    admit(state, usage(1, T0 + timedelta(days=2), "ann"))
    admit(state, usage(2, T0, "bob"))
    day0 = int(T0.timestamp() // 86400)
    assert state.users_from == day0
    (history,) = state.nsm_histories(day0 + 2, SPEC)
    assert sorted(history.user_days) == [0b001, 0b100]


def test_a_version_3_state_reads_without_tracked_users():
    state = AccountState()
    admit(state, usage(1, T0, "ann"))
    fields = msgpack.unpackb(encode_state(state), raw=False, strict_map_key=False)
    version_3 = msgpack.packb([3, *fields[1:-2]], use_bin_type=True)
    restored = decode_state(version_3)
    assert restored.nsm_users == {} and restored.users_from is None
    assert restored.days == state.days
