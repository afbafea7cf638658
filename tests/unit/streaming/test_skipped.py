"""Which offsets the agent counts as skipped by the consumer (stream_app/streaming/skipped.py).

Reading the skipped offsets back needs a broker; tests/faults/test_crash.py covers that path
end to end (the worker logs and counts every record it reads back).
"""

from __future__ import annotations

from stream_app.streaming.skipped import OffsetTracker


def test_records_in_order_leave_no_hole():
    tracker = OffsetTracker()
    assert [tracker.hole("t", 0, offset, 1, lambda: 10) for offset in (10, 11, 12)] == [None] * 3


def test_a_jump_is_a_hole_from_the_next_expected_offset():
    tracker = OffsetTracker()
    tracker.hole("t", 0, 10, 1, lambda: 10)
    assert tracker.hole("t", 0, 14, 1, lambda: 10) == (11, 14)
    assert tracker.hole("t", 0, 15, 1, lambda: 10) is None


def test_the_first_record_of_a_generation_is_checked_against_the_committed_offset():
    tracker = OffsetTracker()
    assert tracker.hole("t", 0, 104, 5, lambda: 99) == (99, 104)
    assert tracker.hole("t", 1, 7, 5, lambda: None) is None  # nothing committed yet
    tracker.hole("t", 0, 105, 5, lambda: 99)
    assert tracker.hole("t", 0, 42, 6, lambda: 42) is None  # a new generation starts over


def test_a_replayed_older_record_does_not_move_the_expectation_back():
    tracker = OffsetTracker()
    tracker.hole("t", 0, 20, 1, lambda: 20)
    assert tracker.hole("t", 0, 15, 1, lambda: 20) is None
    assert tracker.hole("t", 0, 21, 1, lambda: 20) is None
