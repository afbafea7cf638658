"""Full garbage collections that skip the long-lived heap (a worker's account states).

CPython's full (generation 2) collection scans every container object alive, and it runs
whenever the objects that survived since the last one reach a quarter of those that survived
it. A worker's heap is mostly account state that lives as long as its partition is assigned;
a worker logging its collections in the bench's latency phase ran one every ~3 s while its
states grew, 28-246 ms each, 0.9 s in 24 s. Every score waiting in such a pause is late by it.

After each full collection, :class:`HeapFreezer` moves what survived it to the permanent
generation (``gc.freeze()``), so the next full collection scans only what is newer: the same
24 s took 0.13-0.18 s of collections, none over 10 ms (decisions §37). Frozen objects are
still freed by reference counting, which is all that acyclic state needs; a reference cycle
among them would wait for the next thaw, every ``thaw_every`` seconds, when the permanent
generation is handed back to the collector for one complete collection.

Opt-in (``HS_GC_FREEZE``, off by default): a coroutine abandoned inside a reference cycle is
finalised, and its ``finally`` blocks run, only when the collector frees it; frozen, not
until the thaw. Two CI runs with it on had a worker hang after a restart (decisions §37).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

__all__ = ["HeapFreezer"]


class HeapFreezer:
    def __init__(self, thaw_every: float, now: Callable[[], float] = time.monotonic) -> None:
        if thaw_every <= 0:
            raise ValueError(f"thaw_every must be positive, got {thaw_every}")
        self.thaw_every = thaw_every
        self._now = now
        self._thawed_at = now()
        self.thaws = 0

    def install(self) -> None:
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)

    def uninstall(self) -> None:
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)
        gc.unfreeze()

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        if self._now() - self._thawed_at >= self.thaw_every:
            # the next full collection sees everything again, then freezes afresh
            gc.unfreeze()
            self._thawed_at = self._now()
            self.thaws += 1
        else:
            gc.freeze()
