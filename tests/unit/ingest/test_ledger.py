"""Event ledger: exact de-duplication, bounded memory, and a floor that never lies."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from stream_app.ingest import Admission, EventLedger

DAY = 86_400.0
HORIZON = 7 * DAY


def admit(ledger, event_id, ts, max_ids=1000):
    return ledger.admit(event_id, ts, horizon=HORIZON, max_ids=max_ids)


def test_a_repeated_event_id_is_a_duplicate():
    ledger = EventLedger()
    assert admit(ledger, "e1", 100.0) is Admission.NEW
    assert admit(ledger, "e1", 100.0) is Admission.DUPLICATE
    assert admit(ledger, "e1", 999.0) is Admission.DUPLICATE  # same id, other payload: still once


def test_out_of_order_events_within_the_horizon_are_new():
    ledger = EventLedger()
    assert admit(ledger, "late", 10 * DAY) is Admission.NEW
    assert admit(ledger, "earlier", 4 * DAY) is Admission.NEW
    assert ledger.watermark == 10 * DAY


def test_events_behind_the_horizon_are_too_late_once_it_has_moved():
    ledger = EventLedger()
    admit(ledger, "old", 1 * DAY)
    admit(ledger, "new", 20 * DAY)  # horizon moves to day 13: "old" is forgotten
    assert len(ledger) == 1
    assert admit(ledger, "old", 1 * DAY) is Admission.TOO_LATE  # never counted twice


def test_the_id_cap_evicts_the_oldest_and_raises_the_floor():
    ledger = EventLedger()
    for i in range(200):
        admit(ledger, f"e{i}", float(i), max_ids=100)
    assert len(ledger) <= 100
    assert ledger.floor >= 99.0
    assert admit(ledger, "e5", 5.0, max_ids=100) is Admission.TOO_LATE
    assert admit(ledger, "e199", 199.0, max_ids=100) is Admission.DUPLICATE


def test_bytes_round_trip_preserves_everything():
    ledger = EventLedger()
    for i in range(50):
        admit(ledger, f"e{i}", i * 1000.0)
    restored = EventLedger.from_bytes(ledger.to_bytes())
    assert restored == ledger
    assert admit(restored, "e7", 7000.0) is Admission.DUPLICATE


def test_an_empty_ledger_round_trips():
    assert EventLedger.from_bytes(EventLedger().to_bytes()) == EventLedger()


@given(st.lists(st.integers(0, 200), max_size=400), st.integers(16, 64))
def test_no_event_is_ever_admitted_twice(arrivals, max_ids):
    """Redelivery in any order: an event (same id, same time) is admitted at most once."""
    ledger = EventLedger()
    admitted: set[str] = set()
    for number in arrivals:
        event_id, ts = f"e{number}", number * 0.2 * DAY
        outcome = ledger.admit(event_id, ts, horizon=HORIZON, max_ids=max_ids)
        if outcome is Admission.NEW:
            assert event_id not in admitted
            admitted.add(event_id)
        assert len(ledger) <= max_ids


def test_the_encoding_is_the_changelog_layout_whatever_happened_to_the_ledger():
    """Header, then every id, then every time, in insertion order: what older workers wrote
    (``array("q")``/``array("d")``) and recovery reads, after appends, expiry and eviction."""
    from array import array

    def layout(ledger: EventLedger) -> bytes:
        ids = array("q", list(ledger._seen)).tobytes()
        times = array("d", list(ledger._seen.values())).tobytes()
        return struct.pack("<dd", ledger.watermark, ledger.floor) + ids + times

    ledger = EventLedger()
    assert ledger.to_bytes() == layout(ledger)
    for i in range(300):
        admit(ledger, f"e{i}", i * 0.1 * DAY, max_ids=120)  # both the horizon and the cap bite
        assert ledger.to_bytes() == layout(ledger)
    restored = EventLedger.from_bytes(ledger.to_bytes())
    admit(restored, "next", 31 * DAY, max_ids=120)
    assert restored.to_bytes() == layout(restored)
