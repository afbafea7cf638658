"""Micro-benchmarks of the hot functions the profile names, on realistic account states.

    python -m bench.micro [--events N] [--accounts N]

States come from replaying the demo mix through the engine core (``bench.replay``), so
ledgers, day buckets, tickets and surveys have the sizes the benchmark's accounts have.
Figures are microseconds per call: the best, over many repeats, of the mean over a chunk of
100 calls. Chunks are short enough (a few ms) that some run without another process taking
the core, and the minimum is that undisturbed figure; on the shared 2-core machine, means
over whole runs swing by 2x. For before/after figures use ``bench.ab``, which interleaves
the two versions in one process.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as redis

from bench.replay import Replayed, replay
from stream_app.contracts.outputs import HealthScore
from stream_app.scoring import score_account, to_health_score
from stream_app.serving.score_store import ScoreStore
from stream_app.state import encode_state

__all__ = ["best_us", "health_scores", "measure"]

T = TypeVar("T")
CHUNK = 100


def best_us(call: Callable[[T], object], items: Sequence[T], repeat: int = 30) -> float:
    chunk = items[:CHUNK]
    best = min(timeit.repeat(lambda: [call(item) for item in chunk], number=1, repeat=repeat))
    return best / len(chunk) * 1e6


def health_scores(replayed: Replayed) -> list[HealthScore]:
    """Every account's score as the worker would publish it."""
    as_of, spec, scoring = replayed.as_of, replayed.spec, replayed.scoring
    return [
        to_health_score(
            score_account(state.signals(account, as_of, spec), scoring),  # type: ignore[arg-type]
            account_id=account,
            previous_score=None,
            delta_7d=None,
            as_of=as_of,
            computed_at=as_of,
        )
        for account, state in replayed.core.store.data.items()  # type: ignore[attr-defined]
    ]


def measure(events: int, accounts: int) -> dict[str, Any]:
    replayed = replay(events=events, accounts=accounts)
    as_of, spec, scoring = replayed.as_of, replayed.spec, replayed.scoring
    states = list(replayed.core.store.data.items())  # type: ignore[attr-defined]
    signals = [state.signals(account, as_of, spec) for account, state in states]
    results = [score_account(s, scoring) for s in signals]
    scores = health_scores(replayed)
    ledgers = [ledger for _, state in states for ledger in state.ledgers.values()]
    store = ScoreStore(redis.Redis(), on_error=lambda: None)
    pipe = redis.Redis().pipeline(transaction=False)  # staged in memory, never sent
    return {
        "accounts": len(states),
        "ledger.to_bytes": best_us(lambda x: x.to_bytes(), ledgers),
        "encode_state": best_us(lambda x: encode_state(x[1]), states),
        "AccountState.signals": best_us(lambda x: x[1].signals(x[0], as_of, spec), states),
        "score_account": best_us(lambda x: score_account(x, scoring), signals),
        "to_health_score": best_us(
            lambda r: to_health_score(
                r,
                account_id="a",
                previous_score=None,
                delta_7d=None,
                as_of=as_of,
                computed_at=as_of,
            ),
            results,
        ),
        "HealthScore.model_dump_json": best_us(lambda x: x.model_dump_json(), scores),
        "ScoreStore._stage, 1 score": best_us(lambda x: store._stage(pipe, [(x, None)]), scores),
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
