"""HeapFreezer on the real collector: what survives a full collection is frozen, and handed
back to the collector once the thaw interval has passed (an injected clock)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from stream_app.gc_policy import HeapFreezer


class Clock:
    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time


@pytest.fixture
def clock() -> Iterator[Clock]:
    yield Clock()
    gc.unfreeze()  # never leave the test process frozen


def test_a_full_collection_freezes_its_survivors(clock: Clock) -> None:
    freezer = HeapFreezer(thaw_every=3600, now=clock.now)
    freezer.install()
    try:
        gc.unfreeze()
        survivor = [{"state": i} for i in range(1000)]
        gc.collect(1)  # not a full collection: nothing frozen
        assert gc.get_freeze_count() == 0
        gc.collect(2)
        assert gc.get_freeze_count() >= len(survivor)
    finally:
        freezer.uninstall()
    assert gc.get_freeze_count() == 0


def test_the_permanent_generation_is_thawed_once_the_interval_has_passed(clock: Clock) -> None:
    freezer = HeapFreezer(thaw_every=60, now=clock.now)
    freezer.install()
    try:
        gc.collect()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        clock.time = 59.0
        gc.collect()
        assert freezer.thaws == 0 and gc.get_freeze_count() >= frozen
        clock.time = 60.0
        gc.collect()  # thaws: everything is collectable again ...
        assert freezer.thaws == 1 and gc.get_freeze_count() == 0
        gc.collect()  # ... and the next full collection freezes afresh
        assert gc.get_freeze_count() > 0
    finally:
        freezer.uninstall()


def test_a_cycle_frozen_before_it_became_garbage_waits_for_the_thaw(clock: Clock) -> None:
    freezer = HeapFreezer(thaw_every=60, now=clock.now)
    freezer.install()
    try:

        class Node:
            other: Node

        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        gc.collect()  # the cycle is still referenced: frozen with the rest
        del a, b
        gc.collect()
        assert alive() is not None  # garbage now, but frozen: the price of freezing
        clock.time = 60.0
        gc.collect()  # thaw
        gc.collect()
        assert alive() is None
    finally:
        freezer.uninstall()


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="thaw_every"):
        HeapFreezer(thaw_every=0)
