"""Micro-benchmark: the engine's own work per event and per score, in-process, no Kafka.

The worker's throughput is this work plus Faust, aiokafka and Redis I/O; measuring it alone, in
CPU time, gives before/after numbers for optimisations that hold even on a machine shared with
other developers (wall-clock runs there swing by tens of percent). It drives the same code the
worker does: ``EngineCore`` over the backtest's dict store, plus what the adapters do with the
results: encode the state for the changelog on every write (the table codec) and, per emitted
score, its JSON for the scores topic and its staging into a Redis pipeline (``ScoreStore``).

    python -m bench.core [--events N] [--accounts N] [--tick-every N] [--profile]
    python -m bench.core --live [--live-events N] [--live-rate R] [--profile]

``--live`` is the latency phase's work instead of a backlog's: the preload (30 days of
history, drained as a caught-up worker would), then ``--live-events`` of the demo mix with
event time from the end of the preload on, ``--live-rate`` events per second of event time,
ticked every 250 ms of it. Nearly every live event is an account evaluated and half of them
a score published, so this is the CPU per event that sets the live worker's capacity.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as redis

from bench.preload import default_end, records
from bench.replay import new_core, raw_records
from stream_app.clock import SystemClock
from stream_app.demo.generator import DemoGenerator
from stream_app.engine.core import DictStateStore, EngineCore
from stream_app.ingest import RawRecord
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings
from stream_app.state import AccountState, encode_state

__all__ = ["CoreResult", "run_core"]


class ChangelogStore(DictStateStore):
    """The dict store, paying the changelog encoding on every write as the worker's table does."""

    encoded_bytes: int = 0

    def put(self, account_id: str, state: AccountState) -> None:
        super().put(account_id, state)
        self.encoded_bytes += len(encode_state(state))


class Stepper:
    """One batch of input, then one tick, as the worker does them, in CPU time per side; each
    published score is serialised once for its topic and staged for Redis with that record
    (the pipeline is never sent)."""

    def __init__(self, core: EngineCore) -> None:
        self.core = core
        self.ingest = self.tick = 0.0
        self.scores = 0
        self._score_store = ScoreStore(redis.Redis(), on_error=lambda: None)
        self._pipe = redis.Redis().pipeline(transaction=False)

    def step(self, batch: list[tuple[str, RawRecord]]) -> None:
        began = time.process_time()
        for kind, record in batch:
            self.core.ingest(kind, record)
        ticked = time.process_time()
        scores = self.core.tick().scores
        if scores:
            staged = [(score, score.model_dump_json().encode()) for score in scores]
            self._score_store._stage(self._pipe, staged)
            self.scores += len(scores)
        self._pipe.command_stack.clear()
        self.ingest += ticked - began
        self.tick += time.process_time() - ticked


@dataclass(frozen=True)
class CoreResult:
    events: int
    scores: int
    evaluations: int
    ingest_us_per_event: float
    tick_us_per_score: float
    core_eps: float  # events / (ingest + tick CPU seconds)


def run_core(
    events: int, accounts: int, tick_every: int, seed: int = 7, catchup: bool = False
) -> CoreResult:
    core = new_core().core
    if catchup:  # the worker's clocks: the preload ends now, so most of it is a catch-up
        settings = Settings()
        core.wall_clock = SystemClock()
        core.catchup_lag = settings.catchup_lag.total_seconds()  # type: ignore[union-attr]
        core.catchup_budget = settings.catchup_budget
    core.store = ChangelogStore({})
    inputs = list(raw_records(records(accounts, events, 30, seed, default_end())))
    stepper = Stepper(core)
    batches = [inputs[start : start + tick_every] for start in range(0, len(inputs), tick_every)]
    while batches or core.has_work:  # then drained: what is dirty or due once caught up
        stepper.step(batches.pop(0) if batches else [])
    ingest, tick, scores = stepper.ingest, stepper.tick, stepper.scores
    return CoreResult(
        events=len(inputs),
        scores=scores,
        evaluations=core.evaluations,
        ingest_us_per_event=1e6 * ingest / len(inputs),
        tick_us_per_score=1e6 * tick / max(scores, 1),
        core_eps=len(inputs) / (ingest + tick),
    )


@dataclass(frozen=True)
class LiveResult:
    events: int
    evaluations: int
    scores: int
    ingest_us_per_event: float
    tick_us_per_event: float  # evaluations, the scores' JSON and Redis staging
    core_eps: float


def run_live(
    events: int,
    accounts: int,
    preload_events: int,
    rate: float,
    seed: int = 7,
    profiler: cProfile.Profile | None = None,
) -> LiveResult:
    end = default_end() - timedelta(hours=1)  # room for the live events' event time
    core = new_core().core
    core.store = ChangelogStore({})
    for kind, record in raw_records(records(accounts, preload_events, 30, seed, end)):
        core.ingest(kind, record)
    while core.has_work:
        core.tick()
    spacing = timedelta(seconds=1 / rate)
    live = list(raw_records(DemoGenerator(accounts, seed=seed + 1).records(end, events, spacing)))
    per_tick = max(1, round(rate * Settings().tick_interval.total_seconds()))
    evaluated_before = core.evaluations
    stepper = Stepper(core)
    if profiler is not None:
        profiler.enable()
    for start in range(0, len(live), per_tick):
        stepper.step(live[start : start + per_tick])
    ingest, tick, scores = stepper.ingest, stepper.tick, stepper.scores
    if profiler is not None:
        profiler.disable()
    return LiveResult(
        events=len(live),
        evaluations=core.evaluations - evaluated_before,
        scores=scores,
        ingest_us_per_event=1e6 * ingest / len(live),
        tick_us_per_event=1e6 * tick / len(live),
        core_eps=len(live) / (ingest + tick),
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument(
        "--tick-every", type=int, default=5_000, help="events between ticks (~1 s of a worker)"
    )
    parser.add_argument(
        "--catchup",
        action="store_true",
        help="the worker's wall clock and catch-up settings (default: the backtest's event time)",
    )
    parser.add_argument(
        "--live", action="store_true", help="the latency phase's work: live events on history"
    )
    parser.add_argument("--live-events", type=int, default=20_000)
    parser.add_argument("--live-rate", type=float, default=1_200.0, help="events/s of event time")
    parser.add_argument("--profile", action="store_true", help="cProfile, top 30 by own time")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None and not args.live:
        profiler.enable()
    result: CoreResult | LiveResult
    if args.live:  # the profile covers the live events only, not the preload
        result = run_live(
            args.live_events, args.accounts, args.events, args.live_rate, profiler=profiler
        )
    else:
        result = run_core(args.events, args.accounts, args.tick_every, catchup=args.catchup)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    print(result)


if __name__ == "__main__":
    main()
