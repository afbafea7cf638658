"""The score tick's fixed-rate schedule, on an injected clock (no event loop timing involved)."""

from __future__ import annotations

import asyncio

from stream_app.streaming.ticker import fixed_rate


class SteppedClock:
    """A clock that moves only when slept on or told to (a tick's own run time)."""

    def __init__(self) -> None:
        self.time = 100.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds


def starts(durations: list[float], interval: float = 0.25) -> tuple[list[float], list[float]]:
    """When each tick started (relative to the first call) if tick i runs ``durations[i]``."""
    clock = SteppedClock()
    began: list[float] = []

    async def run() -> None:
        ticks = fixed_rate(interval, clock.now, clock.sleep)
        for duration in durations:
            await anext(ticks)
            began.append(round(clock.time - 100.0, 6))
            clock.time += duration

    asyncio.run(run())
    return began, clock.sleeps


def test_ticks_start_one_interval_apart_however_long_each_takes_within_it() -> None:
    began, sleeps = starts([0.0, 0.1, 0.2, 0.24])
    assert began == [0.25, 0.5, 0.75, 1.0]  # Faust's timer: 0.25, 0.5, 0.85, 1.3
    assert [round(s, 6) for s in sleeps] == [0.25, 0.25, 0.15, 0.05]


def test_an_overrun_is_followed_at_once_and_the_schedule_restarts_from_there() -> None:
    began, sleeps = starts([0.6, 0.0, 0.0])
    # the first tick ends at 0.85, two intervals late: one tick follows at once (no burst of
    # make-up ticks), the next an interval after that
    assert began == [0.25, 0.85, 1.1]
    assert [round(s, 6) for s in sleeps] == [0.25, 0.0, 0.25]
