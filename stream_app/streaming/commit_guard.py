"""The offset a partition can be committed to, counted once per offset.

faust-streaming 0.15.3 commits a partition up to the end of the first run of consecutive
offsets in its list of acknowledged ones (``Consumer._new_offset``). Before that it adds the
offsets of the gaps it recorded (offsets with no record, or records read another way) to the
list, without checking whether they are already in it. The drain loop records a gap *including*
the offset of the record that revealed it, and a gap can cover records that were delivered
after all, so an offset can be in the list twice. Sorted, ``[5, 5, 6, 7]`` has the run ``[5]``:
each commit then gets one offset past a duplicate. The crash test saw a partition whose list
held 600 duplicates commit 3 to 4 offsets per commit interval while its records were all
processed, so the group's lag never drained (docs/decisions.md §33).

:func:`new_offset` is the same computation on a set: the same rule for where the run must
start, the same clean-up of the list, the gaps and the index.
"""

from __future__ import annotations

from faust.transport.consumer import Consumer
from faust.types import TP

from stream_app.streaming.patching import wrap_once

__all__ = ["install", "new_offset"]


def new_offset(consumer: Consumer, tp: TP) -> int | None:
    """The offset ``tp`` may be committed to, or None; forgets the offsets below it."""
    acked = consumer._acked[tp]
    if not acked:
        return None
    done = set(acked)
    gaps = consumer._gap[tp]
    merged = gaps.overlap(0, max(done)) if gaps else ()
    for interval in merged:
        done.update(range(interval.begin, interval.end))
    if merged:
        gaps.chop(0, max(done) + 1)
    ordered = sorted(done)
    committed = consumer._committed_offset[tp]
    # Faust's rule, kept: the run may start one past the committed offset, no further
    if committed and ordered[0] - committed > 1:
        acked[:] = ordered
        return None
    run_end = ordered[0]
    for offset in ordered[1:]:
        if offset != run_end + 1:
            break
        run_end = offset
    acked[:] = [offset for offset in ordered if offset > run_end]
    consumer._acked_index[tp].difference_update(range(ordered[0], run_end + 1))
    return run_end + 1


def install() -> None:
    """Replace Faust's ``Consumer._new_offset`` once per process."""
    wrap_once(Consumer, "_new_offset", lambda original: new_offset)
