"""Engine throughput from the outside: poll the workers' ``healthscore_events_total``.

A rate is always the difference of two real samples over their time apart, so it is neither
flattered nor penalised by the polling interval. Polling stops when the workers have consumed
``target`` events or ``measure_seconds`` after the first one, whichever comes first.

``full`` runs from the first sample that saw an event to the last sample; ``window`` from the
first sample where *every* worker had started to the last one (or the one that saw 90 % of the
events, if they all arrived), the same cut for one worker and for two, so the scale-out ratio
compares like with like: no group join, no uneven tail.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.integration.fixtures import Worker

__all__ = ["EVENTS", "Samples", "poll_events"]

EVENTS = "healthscore_events_total"
WINDOW_END = 0.9


@dataclass
class Samples:
    target: int
    times: list[float]
    counts: list[tuple[float, ...]]  # per worker

    def total(self, i: int) -> float:
        return sum(self.counts[i])

    @property
    def consumed(self) -> int:
        return int(self.total(-1))

    def _rate(self, start: int, end: int) -> float:
        return (self.total(end) - self.total(start)) / (self.times[end] - self.times[start])

    def _first(self, predicate: Callable[[int], bool]) -> int:
        return next(i for i in range(len(self.times)) if predicate(i))

    def full(self) -> float:
        return self._rate(self._first(lambda i: self.total(i) > 0), len(self.times) - 1)

    def window(self) -> float:
        start = self._first(lambda i: all(c > 0 for c in self.counts[i]))
        end = len(self.times) - 1
        if self.total(end) >= self.target:
            end = self._first(lambda i: self.total(i) >= WINDOW_END * self.target)
        return self._rate(start, end)


def _count(worker: Worker, previous: float) -> float:
    value = worker.metric(EVENTS)
    return previous if math.isnan(value) else value  # a scrape can miss during a rebalance


def poll_events(
    workers: list[Worker],
    target: int,
    *,
    measure_seconds: float,
    timeout: float,
    interval: float = 0.25,
) -> Samples:
    """Sample every worker's event counter until ``target`` or the measuring time is up."""
    samples = Samples(target, [], [])
    deadline = time.monotonic() + timeout
    last = tuple(0.0 for _ in workers)
    first: float | None = None
    while True:
        now = time.perf_counter()
        last = tuple(_count(w, prev) for w, prev in zip(workers, last, strict=True))
        samples.times.append(now)
        samples.counts.append(last)
        if first is None and sum(last) > 0:
            first = now
        done = sum(last) >= target or (first is not None and now - first >= measure_seconds)
        if done and first is not None and first != now:  # a rate needs two samples
            return samples
        for worker in workers:
            if worker.process.poll() is not None:
                tail = worker.log_tail()
                raise RuntimeError(f"worker exited {worker.process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"engine saw {sum(last):.0f} of {target} events in {timeout:.0f}s")
        time.sleep(interval)
