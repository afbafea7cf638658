"""The score tick's schedule: a fixed rate, from the start of one tick to the start of the next.

Faust's ``app.timer`` sleeps its whole interval after the callback returns, so under load the
period was the interval plus the tick itself. In the bench's latency phase at 1,300 events/s a
tick took about 180 ms, the period became 430 ms instead of 250, and every score waited for the
longer cycle (decisions §37). Here the next tick is due one interval after the last one was;
a tick that overruns its interval is followed by the next at once, after one pass of the event
loop, and the schedule then restarts from that moment instead of firing a burst of ticks to
make up for the missed ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["fixed_rate"]


async def fixed_rate(
    interval: float, now: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
) -> AsyncIterator[None]:
    """Yield every ``interval`` seconds of ``now``; the caller's work between two yields
    counts towards the interval. ``sleep(0)`` is awaited even when late, so a slow tick never
    holds the event loop from one tick to the next."""
    due = now() + interval
    while True:
        await sleep(max(0.0, due - now()))
        yield
        due = max(due + interval, now())
