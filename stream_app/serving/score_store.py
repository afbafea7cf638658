"""Redis serving layer for the latest health score of every account (DESIGN §7).

Writes never block the stream: agents call :meth:`ScoreStore.enqueue`, which only replaces the
account's entry in a dict, and :meth:`ScoreStore.run` flushes that dict in pipelined batches in
the background. Only the latest score of an account is worth serving, so keeping one pending
entry per account loses nothing and bounds memory through a burst or a Redis outage. A failed
write is put back (unless a newer score arrived meanwhile) and retried with backoff until it
lands; every failure calls ``on_error`` (``healthscore_redis_errors_total``).

Layout, with the default prefix ``hs:``:

- ``hs:account:{account_id}`` HASH: ``score``, ``band``, ``drivers`` (JSON list), ``confidence``,
  ``model_version``, ``as_of``, ``updated_at`` (= ``computed_at``), ``previous_score`` and
  ``delta_7d`` (empty string for null), and ``json``: the full HealthScore JSON, as published
  on the scores topic, which the HTTP API returns.
- ``hs:scores`` SORTED SET: member ``account_id``, score the health score, so ascending order
  lists the riskiest accounts first.

Failed reads raise :class:`ScoreStoreUnavailable` so the HTTP layer can answer 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import redis.asyncio as redis
from pydantic import TypeAdapter
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from stream_app.contracts.inputs import AccountId
from stream_app.contracts.outputs import HealthScore
from stream_app.errors import HealthstreamError

__all__ = ["ScoreStore", "ScoreStoreUnavailable", "validate_account_id"]

log = logging.getLogger(__name__)

# redis-py wraps socket failures in its own ConnectionError/TimeoutError; OSError covers what a
# connection can still raise outside that wrapping (e.g. a bare asyncio timeout).
_REDIS_ERRORS = (RedisError, OSError)
_FLOAT_FIELDS = ("score", "confidence", "previous_score", "delta_7d")
_ACCOUNT_ID = TypeAdapter(AccountId)


class ScoreStoreUnavailable(HealthstreamError):
    """A read failed because Redis is unreachable or answered with an error."""


def validate_account_id(value: str) -> str:
    """Return ``value`` if it is an account id by the input contract's rule, else ValueError.

    Read paths call this before a request's id becomes part of a Redis key.
    """
    return _ACCOUNT_ID.validate_python(value)


class ScoreStore:
    """Latest health scores in Redis: buffered non-blocking writes, pipelined reads."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "hs:",
        on_error: Callable[[], None],
        chunk_size: int = 500,
        max_backoff: float = 5.0,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._scores_key = f"{prefix}scores"
        self._on_error = on_error
        self._chunk_size = chunk_size
        self._max_backoff = max_backoff
        # account -> its latest score, and that score's JSON if the caller had it already
        self._pending: dict[str, tuple[HealthScore, bytes | None]] = {}
        # Two flushes at once could land an older score after a newer one.
        self._flush_lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Scores waiting to be written (at most one per account)."""
        return len(self._pending)

    def enqueue(self, score: HealthScore, document: bytes | None = None) -> None:
        """Remember ``score`` for the next flush, replacing the account's older pending one.

        ``document`` is the score's JSON (``model_dump_json``) if the caller serialised it
        already, as the worker does for the scores topic: it is stored as it is, not built
        a second time (14 us a score, a fifth of what writing it to Redis costs)."""
        self._pending[score.account_id] = (score, document)

    async def flush(self) -> int:
        """Write all pending scores; return how many, or 0 when Redis failed (never raises).

        On failure the unwritten scores stay pending for the next call, and ``on_error`` is
        called once.
        """
        written, error = await self._flush()
        return 0 if error is not None else written

    async def run(self, interval: float, stop: asyncio.Event | None = None) -> None:
        """Flush every ``interval`` seconds until ``stop`` is set (then flush once more).

        While writes fail, the wait doubles up to ``max_backoff``; one WARNING per outage and
        one INFO when it ends, however many retries happen in between. Once started it never
        raises (cancellation aside); a bad ``interval`` is refused up front.
        """
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        stop = stop if stop is not None else asyncio.Event()
        delay = interval
        failing_since: float | None = None
        while True:
            stopping = await _wait(stop, delay)
            try:
                written, error = await self._flush()
            except Exception as exc:  # a bug, not Redis: keep serving what we can
                written, error = 0, exc
            if error is None:
                if failing_since is not None:
                    log.info(
                        "Redis writes recovered after %.1f s; caught up %d scores",
                        time.monotonic() - failing_since,
                        written,
                    )
                failing_since = None
                delay = interval
            else:
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning(
                        "Redis writes failing (%s: %s); keeping the latest score per account "
                        "(%d pending) and retrying with backoff up to %.1f s",
                        type(error).__name__,
                        error,
                        self.pending,
                        self._max_backoff,
                        exc_info=None if isinstance(error, _REDIS_ERRORS) else error,
                    )
                delay = max(interval, min(self._max_backoff, delay * 2))
            if stopping:
                return

    async def get(self, account_id: str) -> dict[str, Any] | None:
        """The account's hash with typed values (``json`` parsed too), or None if unknown."""
        key = self._account_key(validate_account_id(account_id))
        with self._reading():
            fields = await self._client.hgetall(key)
        if not fields:
            return None
        record: dict[str, Any] = {_text(name): _text(value) for name, value in fields.items()}
        for name in _FLOAT_FIELDS:
            record[name] = float(record[name]) if record[name] else None
        record["drivers"] = orjson.loads(record["drivers"])
        record["json"] = orjson.loads(record["json"])
        return record

    async def at_risk(self, limit: int) -> list[dict[str, Any]]:
        """The HealthScore JSON of the ``limit`` lowest-scored accounts, lowest first."""
        if limit < 1:  # ZRANGE 0 -1 would return every account
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._reading():
            members = await self._client.zrange(self._scores_key, 0, limit - 1)
            if not members:
                return []
            async with self._client.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.hget(self._account_key(_text(member)), "json")
                documents = await pipe.execute()
        # A hash can vanish between the two round trips (expired or deleted by hand).
        return [orjson.loads(document) for document in documents if document is not None]

    async def _flush(self) -> tuple[int, Exception | None]:
        async with self._flush_lock:
            if not self._pending:
                return 0, None
            scores = list(self._pending.values())
            self._pending = {}
            written = 0
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for start in range(0, len(scores), self._chunk_size):
                        chunk = scores[start : start + self._chunk_size]
                        self._stage(pipe, chunk)
                        await pipe.execute()
                        written += len(chunk)
            except _REDIS_ERRORS as exc:
                self._requeue(scores[written:])
                self._on_error()
                return written, exc
            except BaseException:  # cancelled at shutdown, or a bug: lose nothing either way
                self._requeue(scores[written:])
                raise
            return written, None

    def _requeue(self, scores: list[tuple[HealthScore, bytes | None]]) -> None:
        # A newer score enqueued meanwhile wins; rewriting a chunk that partly landed is harmless.
        for entry in scores:
            self._pending.setdefault(entry[0].account_id, entry)

    def _stage(self, pipe: Pipeline, chunk: list[tuple[HealthScore, bytes | None]]) -> None:
        """One hash per account, then one ZADD for the whole chunk. Redis-py packs each
        command and parses each reply on our CPU: with a ZADD per score, a flush of 1,982
        scores cost 70-93 us a score, with one per chunk 57-62 (interleaved, best of 15)."""
        for score, document in chunk:
            pipe.hset(self._account_key(score.account_id), mapping=_fields(score, document))
        pipe.zadd(self._scores_key, {score.account_id: score.score for score, _ in chunk})

    def _account_key(self, account_id: str) -> str:
        return f"{self._prefix}account:{account_id}"

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except _REDIS_ERRORS as exc:
            self._on_error()
            raise ScoreStoreUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def _wait(stop: asyncio.Event, timeout: float) -> bool:
    """Sleep ``timeout`` seconds or until ``stop`` is set; True if it was set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout)
    except TimeoutError:
        return False
    return True


def _fields(score: HealthScore, document: bytes | None) -> dict[str, Any]:
    # Serialised once; the timestamps are read back from that JSON so they are the very
    # strings the record carries (a second, Python-mode dump cost more than the JSON one).
    if document is None:
        document = score.model_dump_json().encode()
    stamps = orjson.loads(document)
    return {
        "score": score.score,
        "band": score.band,
        "drivers": orjson.dumps(score.drivers),
        "confidence": score.confidence,
        "model_version": score.model_version,
        "as_of": stamps["as_of"],
        "updated_at": stamps["computed_at"],
        "previous_score": _nullable(score.previous_score),
        "delta_7d": _nullable(score.delta_7d),
        "json": document,
    }


def _nullable(value: float | None) -> float | str:
    return "" if value is None else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
