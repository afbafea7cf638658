"""Which offset a partition is committed to (stream_app/streaming/commit_guard.py).

The bookkeeping lives on faust-streaming's consumer, which needs a broker to build; these tests
give it a stand-in holding only the four structures ``_new_offset`` reads and changes, the way
Faust's own consumer initialises them. tests/faults/test_crash.py runs it end to end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from faust.transport.consumer import Consumer
from faust.types import TP
from intervaltree import IntervalTree

from stream_app.streaming import commit_guard

P = TP("usage", 2)


@dataclass
class Bookkeeping:
    _acked: defaultdict = field(default_factory=lambda: defaultdict(list))
    _acked_index: defaultdict = field(default_factory=lambda: defaultdict(set))
    _gap: defaultdict = field(default_factory=lambda: defaultdict(IntervalTree))
    _committed_offset: defaultdict = field(default_factory=lambda: defaultdict(lambda: None))

    def acknowledge(self, *offsets: int) -> None:
        for offset in offsets:
            self._acked[P].append(offset)
            self._acked_index[P].add(offset)


def processed_with_a_gap_over_delivered_records() -> Bookkeeping:
    """Records 100..109 all delivered and acknowledged; the drain loop also recorded 103..105
    as a gap (it counts the record that revealed a jump, and the jump was refetched)."""
    books = Bookkeeping()
    books._committed_offset[P] = 100
    books.acknowledge(*range(100, 110))
    books._gap[P].addi(103, 106)
    return books


def test_faust_commits_one_offset_past_a_duplicate_per_commit():
    commit_guard.install()
    faust_new_offset = Consumer._new_offset.__wrapped__
    books = processed_with_a_gap_over_delivered_records()
    assert faust_new_offset(books, P) == 104  # stops at the first duplicate, 103
    books._committed_offset[P] = 104
    assert faust_new_offset(books, P) == 105  # and the next commit one further on


def test_every_processed_offset_counts_once():
    books = processed_with_a_gap_over_delivered_records()
    assert commit_guard.new_offset(books, P) == 110
    assert books._acked[P] == []
    assert not books._gap[P]
    assert not books._acked_index[P]


def test_a_gap_stands_for_offsets_never_delivered():
    books = Bookkeeping()
    books._committed_offset[P] = 100
    books.acknowledge(100, 101, 105, 106)
    books._gap[P].addi(102, 105)  # read from the broker by the agent, not through Faust
    assert commit_guard.new_offset(books, P) == 107


def test_the_run_ends_at_the_first_offset_neither_acknowledged_nor_a_gap():
    books = Bookkeeping()
    books._committed_offset[P] = 100
    books.acknowledge(100, 101, 103, 104)
    assert commit_guard.new_offset(books, P) == 102
    assert books._acked[P] == [103, 104]  # kept for the commit after 102 is done
    assert books._acked_index[P] == {103, 104}


def test_nothing_is_committed_past_an_unacknowledged_head():
    books = Bookkeeping()
    books._committed_offset[P] = 100
    books.acknowledge(102, 103)  # 100 and 101 still in processing
    assert commit_guard.new_offset(books, P) is None
    assert books._acked[P] == [102, 103]
