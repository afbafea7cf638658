"""The fetch guard's test for records a fetch skipped (stream_app/streaming/fetch_guard.py).

The guard itself wraps faust-streaming's consumer, which needs a broker and a fetch that Faust
cuts short; tests/faults/test_crash.py runs that end to end. This pins which offsets count as
skipped.
"""

from __future__ import annotations

from faust.types import TP

from stream_app.streaming.fetch_guard import find_holes

A, B = TP("usage", 0), TP("usage", 1)


def test_a_partition_whose_batch_starts_past_the_next_offset_has_a_hole():
    last_read = {A: 99, B: 40}.get
    batch = [(A, 104), (B, 41), (A, 105), (B, 42)]
    assert find_holes(batch, last_read) == {A: (100, 104)}


def test_consecutive_offsets_and_partitions_never_read_have_none():
    last_read = {A: 99}.get
    assert find_holes([(A, 100), (A, 101), (B, 7)], last_read) == {}


def test_a_jump_inside_a_batch_is_not_a_hole_of_the_fetch():
    # only the first record of each partition is compared with what was read before: a
    # jump between records of one fetch is the broker's (transaction markers, compaction)
    assert find_holes([(A, 100), (A, 109)], {A: 99}.get) == {}
