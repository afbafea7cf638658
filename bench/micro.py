"""Micro-benchmarks of the hot functions the profile names, on realistic account states.

    python -m bench.micro [--events N] [--accounts N]

States come from replaying the demo mix through the engine core (``bench.state_size``'s way),
so ledgers, day buckets, tickets and surveys have the sizes the benchmark's accounts have.
Each figure is the best of several repeats, in microseconds per call: the minimum is the
least disturbed by other processes on a shared machine. Before/after numbers for an
optimisation come from running this on the commit before it and on the commit itself.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import redis.asyncio as redis

from bench.preload import default_end, records
from stream_app.engine.backtest import build_core
from stream_app.ingest import RawRecord
from stream_app.scoring import load_scoring_config, score_account, to_health_score
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings
from stream_app.state import WindowSpec, encode_state

__all__ = ["measure"]


def _best_us(work: Callable[[], object], calls: int, repeat: int = 7) -> float:
    return min(timeit.repeat(work, number=1, repeat=repeat)) / calls * 1e6


def measure(events: int, accounts: int, seed: int = 7) -> dict[str, float]:
    settings = Settings()
    scoring = load_scoring_config(settings.scoring_config)
    spec = WindowSpec(key_features=tuple(scoring.key_features))
    core = build_core(settings, scoring, spec)
    for offset, r in enumerate(records(accounts, events, 30, seed, default_end())):
        core.ingest(r.kind, RawRecord(r.kind, 0, offset, r.key.encode(), orjson.dumps(r.value)))
    as_of = datetime.fromtimestamp(core.watermark, UTC)
    states = list(core.store.data.items())
    signals = [state.signals(account, as_of, spec) for account, state in states]
    results = [score_account(s, scoring) for s in signals]
    scores = [
        to_health_score(
            r,
            account_id=s.account_id,
            previous_score=None,
            delta_7d=None,
            as_of=as_of,
            computed_at=as_of,
        )
        for r, s in zip(results, signals, strict=True)
    ]
    ledgers = [ledger for _, state in states for ledger in state.ledgers.values()]
    store = ScoreStore(redis.Redis(), on_error=lambda: None)
    pipe = redis.Redis().pipeline(transaction=False)  # staged in memory, never sent

    def stage() -> None:
        for score in scores:
            store._stage(pipe, score)
        pipe.command_stack.clear()

    n = len(states)
    return {
        "accounts": n,
        "ledger.to_bytes": _best_us(lambda: [x.to_bytes() for x in ledgers], len(ledgers)),
        "encode_state": _best_us(lambda: [encode_state(s) for _, s in states], n),
        "AccountState.signals": _best_us(lambda: [s.signals(a, as_of, spec) for a, s in states], n),
        "score_account": _best_us(lambda: [score_account(s, scoring) for s in signals], n),
        "to_health_score": _best_us(
            lambda: [
                to_health_score(
                    r,
                    account_id="a",
                    previous_score=None,
                    delta_7d=None,
                    as_of=as_of,
                    computed_at=as_of,
                )
                for r in results
            ],
            n,
        ),
        "HealthScore.model_dump_json": _best_us(lambda: [s.model_dump_json() for s in scores], n),
        "ScoreStore._stage": _best_us(stage, n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    args = parser.parse_args()
    for name, value in measure(args.events, args.accounts).items():
        print(f"{name:<30}{value:>10.1f}")


if __name__ == "__main__":
    main()
