"""Before/after micro-benchmark of an optimisation, both versions in one process.

    python -m bench.ab {encode,ledger,owns,pack,stage} --before REV

The "before" module is the file as it was at git revision ``REV``, loaded under another name;
the two versions then run alternately, chunk by chunk, on the same realistic states
(``bench.replay``), and each keeps its best chunk. Interleaving is what makes the comparison
hold on a machine shared with other developers, where separate runs differ by 2x.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import subprocess
import sys
import timeit
import types
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as redis
from faust.types import TP

from bench.config import ROOT
from bench.micro import CHUNK, health_scores
from bench.replay import replay
from stream_app.connections import redis_client
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings
from stream_app.state import AccountState, encode_state
from stream_app.state.spec import DAY_SECONDS
from stream_app.streaming.routing import AccountPartitioner
from stream_app.streaming.table_store import TableStateStore

__all__ = ["compare"]

ROUNDS = 40
STAGE_GROUP = 100  # scores per flush chunk in the stage benchmark


def _module_at(rev: str, path: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    name = f"_before_{path.replace('/', '_').removesuffix('.py')}"
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up while being built
    exec(compile(source, f"{rev}:{path}", "exec"), module.__dict__)
    return module


def compare(
    label: str,
    before: Callable[[Any], object],
    after: Callable[[Any], object],
    items: Sequence,
    per_item: int = 1,
) -> tuple[float, float]:
    """Microseconds per item, or per ``per_item``-th of an item when items are groups."""
    chunk = items[:CHUNK]
    best = [float("inf"), float("inf")]
    for _ in range(ROUNDS):
        for i, call in enumerate((before, after)):
            seconds = timeit.timeit(lambda call=call: [call(x) for x in chunk], number=1)
            best[i] = min(best[i], seconds / (len(chunk) * per_item) * 1e6)
    change = best[1] / best[0] - 1
    print(f"{label:<22} before {best[0]:8.1f} us   after {best[1]:8.1f} us   ({change:+.0%})")
    return best[0], best[1]


def ledger(rev: str) -> None:
    old = _module_at(rev, "stream_app/ingest/ledger.py")
    states = list(replay().core.store.data.values())  # type: ignore[attr-defined]
    ledgers = [ledger for state in states for ledger in state.ledgers.values()]
    pairs = [(old.EventLedger.from_bytes(x.to_bytes()), x) for x in ledgers]
    compare("ledger.to_bytes", lambda p: p[0].to_bytes(), lambda p: p[1].to_bytes(), pairs)
    with_old = []
    for state in states:
        twin = copy.copy(state)
        twin.ledgers = {
            k: old.EventLedger.from_bytes(v.to_bytes()) for k, v in state.ledgers.items()
        }
        with_old.append((twin, state))
    compare("encode_state", lambda p: encode_state(p[0]), lambda p: encode_state(p[1]), with_old)


def encode(rev: str) -> None:
    """A state's changelog encoding after an event changed its newest day, as the worker
    writes it once per account per input batch. Since 2026-11-25 the other days' encodings
    are kept from the last write (decisions §39); before, every day was packed again."""
    old = _module_at(rev, "stream_app/state/codec.py")
    states = [s for s in replay().core.store.data.values() if s.days]  # type: ignore[attr-defined]
    for state in states:
        encode_state(state)  # the previous write

    def after(state: AccountState) -> bytes:
        state._bucket(max(state.days) * DAY_SECONDS)  # what applying an event does first
        return encode_state(state)

    compare("encode_state", old.encode_state, after, states)


def stage(rev: str) -> None:
    """Staging a flush's scores for Redis, per score, in groups of ``STAGE_GROUP``."""
    old = _module_at(rev, "stream_app/serving/score_store.py")
    before = old.ScoreStore(redis.Redis(), on_error=lambda: None)
    after = ScoreStore(redis.Redis(), on_error=lambda: None)
    compare(
        "ScoreStore._stage",
        _stager(before),
        _stager(after),
        _score_groups(),
        per_item=STAGE_GROUP,
    )


def pack(rev: str) -> None:
    """Packing a flush's Redis commands into bytes (per score: its hash and a share of the
    chunk's ZADD), with the client ``redis_client`` built at ``rev`` and now (decisions §41)."""
    old = _module_at(rev, "stream_app/connections.py")
    pipe = redis.Redis().pipeline(transaction=False)
    store = ScoreStore(redis.Redis(), on_error=lambda: None)
    chunks = []
    for group in _score_groups():
        store._stage(pipe, [(score, None) for score in group])
        chunks.append([command for command, _ in pipe.command_stack])
        pipe.command_stack.clear()
    settings = Settings()
    before = old.redis_client(settings).connection_pool.make_connection()
    after = redis_client(settings).connection_pool.make_connection()
    compare(
        "Connection.pack_commands",
        before.pack_commands,
        after.pack_commands,
        chunks,
        per_item=STAGE_GROUP,
    )


def _score_groups() -> list[list[Any]]:
    """The replayed accounts' scores in whole groups of ``STAGE_GROUP``, as a flush chunks them."""
    scores = health_scores(replay())
    return [
        scores[i : i + STAGE_GROUP] for i in range(0, len(scores) - STAGE_GROUP + 1, STAGE_GROUP)
    ]


def _stager(store: Any) -> Callable[[Sequence[Any]], None]:
    """Stage a group of scores on a pipeline that is never sent; revisions before 2026-11-24
    staged one score a call, later ones a flush's chunk."""
    pipe = redis.Redis().pipeline(transaction=False)

    def stage_chunk(group: Sequence[Any]) -> None:
        store._stage(pipe, [(score, None) for score in group])
        pipe.command_stack.clear()

    def stage_each(group: Sequence[Any]) -> None:
        for score in group:
            store._stage(pipe, score)
        pipe.command_stack.clear()

    # decided once, outside the timed calls
    return stage_chunk if "chunk" in inspect.signature(store._stage).parameters else stage_each


def owns(rev: str) -> None:
    """``TableStateStore.owns``, asked once per account scored, with a worker's assignment:
    the 8 partitions of its 4 inputs, the re-key topic and the changelog (one app attribute
    bag stands in for the Faust app; the store reads nothing else)."""
    old = _module_at(rev, "stream_app/streaming/table_store.py")
    actives = {TP(f"topic-{t}", p) for t in range(6) for p in range(8)}
    assignor = types.SimpleNamespace(assigned_actives=lambda: set(actives))
    app = types.SimpleNamespace(assignor=assignor, rebalancing=False, consumer_generation_id=3)
    partitioner = AccountPartitioner(8)
    before = old.TableStateStore(app, None, partitioner)
    after = TableStateStore(app, None, partitioner)  # type: ignore[arg-type]
    accounts = [f"acct-{i:05d}" for i in range(CHUNK)]
    compare("TableStateStore.owns", before.owns, after.owns, accounts)


BENCHMARKS = {"encode": encode, "ledger": ledger, "owns": owns, "pack": pack, "stage": stage}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS))
    parser.add_argument("--before", required=True, help="git revision of the 'before' code")
    args = parser.parse_args()
    BENCHMARKS[args.benchmark](args.before)


if __name__ == "__main__":
    main()
