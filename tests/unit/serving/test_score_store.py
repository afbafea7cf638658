from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from stream_app.serving.score_store import ScoreStoreUnavailable
from tests.unit.serving.fixtures import RedisServer, make_score

LOGGER = "stream_app.serving.score_store"


async def test_enqueue_keeps_only_the_latest_score_per_account(make_store):
    store = make_store()
    for value in (50, 40, 30):
        store.enqueue(make_score("acc-1", value))
    store.enqueue(make_score("acc-2", 80))

    assert store.pending == 2
    assert await store.flush() == 2
    assert store.pending == 0
    assert (await store.get("acc-1"))["score"] == 30.0


async def test_flush_writes_the_hash_and_the_sorted_set(make_store, redis_client, prefix):
    store = make_store()
    score = make_score("acc-1", 42.5, previous_score=55.0, delta_7d=-12.5, drivers=["a", "b"])
    store.enqueue(score)

    assert await store.flush() == 1

    fields = await redis_client.hgetall(f"{prefix}account:acc-1")
    assert {k.decode(): v.decode() for k, v in fields.items()} == {
        "score": "42.5",
        "band": "at_risk",
        "drivers": '["a","b"]',
        "confidence": "0.9",
        "model_version": "test-1",
        "as_of": "2025-03-01T12:00:00Z",
        "updated_at": "2025-03-01T12:00:00Z",
        "previous_score": "55.0",
        "delta_7d": "-12.5",
        "json": score.model_dump_json(),
    }
    assert await redis_client.zrange(f"{prefix}scores", 0, -1, withscores=True) == [
        (b"acc-1", 42.5)
    ]


async def test_a_score_enqueued_with_its_topic_record_is_stored_as_that_very_record(
    make_store, redis_client, prefix
):
    store = make_store()
    score = make_score("acc-1", 42.5)
    # the worker hands over the bytes it sent to the scores topic, and those very bytes are
    # what Redis serves (indented here, so a store that serialised the score again would fail)
    record = orjson.dumps(orjson.loads(score.model_dump_json()), option=orjson.OPT_INDENT_2)
    assert record != score.model_dump_json().encode()
    store.enqueue(score, record)

    assert await store.flush() == 1
    assert await redis_client.hget(f"{prefix}account:acc-1", "json") == record
    assert (await store.get("acc-1"))["updated_at"] == "2025-03-01T12:00:00Z"


async def test_get_parses_the_hash(make_store):
    store = make_store()
    score = make_score("acc:1@x.y_z-2", 12.0)
    store.enqueue(score)
    await store.flush()

    assert await store.get("acc:1@x.y_z-2") == {
        "score": 12.0,
        "band": "critical",
        "drivers": ["score 12.0"],
        "confidence": 0.9,
        "model_version": "test-1",
        "as_of": "2025-03-01T12:00:00Z",
        "updated_at": "2025-03-01T12:00:00Z",
        "previous_score": None,
        "delta_7d": None,
        "json": orjson.loads(score.model_dump_json()),
    }
    assert await store.get("unknown") is None


async def test_get_works_with_a_decoding_client(make_store, redis_server):
    client = redis.Redis(port=redis_server.port, decode_responses=True)
    try:
        store = make_store(client)
        store.enqueue(make_score("acc-1", 61.0))
        await store.flush()
        assert (await store.get("acc-1"))["json"]["score"] == 61.0
        assert [a["account_id"] for a in await store.at_risk(5)] == ["acc-1"]
    finally:
        await client.aclose()


@pytest.mark.parametrize("account_id", ["", "a/b", "a b", "a\x00", "é", "a" * 129])
async def test_get_refuses_an_invalid_id_before_touching_redis(
    make_store, dead_client, errors, account_id
):
    store = make_store(dead_client)
    with pytest.raises(ValueError):
        await store.get(account_id)
    assert errors == []


async def test_flush_in_chunks_writes_everything(make_store, redis_client, prefix):
    store = make_store(chunk_size=2)
    for i in range(5):
        store.enqueue(make_score(f"acc-{i}", 10.0 * i))

    assert await store.flush() == 5
    # one ZADD per chunk ranks every account of it, the odd last chunk too
    assert await redis_client.zrange(f"{prefix}scores", 0, -1, withscores=True) == [
        (f"acc-{i}".encode(), 10.0 * i) for i in range(5)
    ]
    for i in range(5):
        assert await redis_client.hget(f"{prefix}account:acc-{i}", "score") == b"%.1f" % (10.0 * i)
    assert await store.flush() == 0


async def test_a_newer_score_moves_the_account_in_the_ranking(make_store):
    store = make_store()
    for account, value in [("a", 50), ("b", 20), ("c", 90), ("d", 30)]:
        store.enqueue(make_score(account, value))
    await store.flush()
    assert [a["account_id"] for a in await store.at_risk(2)] == ["b", "d"]

    store.enqueue(make_score("c", 5))
    await store.flush()
    ranking = await store.at_risk(100)
    assert [(a["account_id"], a["score"]) for a in ranking] == [
        ("c", 5.0),
        ("b", 20.0),
        ("d", 30.0),
        ("a", 50.0),
    ]


async def test_at_risk_skips_accounts_whose_hash_vanished(make_store, redis_client, prefix):
    store = make_store()
    for account, value in [("a", 10), ("b", 20), ("c", 30)]:
        store.enqueue(make_score(account, value))
    await store.flush()
    await redis_client.delete(f"{prefix}account:b")

    assert [a["account_id"] for a in await store.at_risk(3)] == ["a", "c"]


async def test_at_risk_is_empty_without_scores_and_refuses_a_zero_limit(make_store):
    store = make_store()
    assert await store.at_risk(10) == []
    with pytest.raises(ValueError):
        await store.at_risk(0)


async def test_a_failed_flush_keeps_the_scores_and_counts_the_error(
    make_store, dead_client, errors
):
    store = make_store(dead_client)
    store.enqueue(make_score("a", 10))
    store.enqueue(make_score("b", 20))

    assert await store.flush() == 0
    assert errors == [None]
    assert store.pending == 2


async def test_a_score_enqueued_during_a_failing_flush_wins(make_store, errors):
    server = RedisServer()  # not started yet: the first flush fails to connect
    client = redis.Redis(port=server.port, retry=Retry(NoBackoff(), 0))
    try:
        store = make_store(client)
        store.enqueue(make_score("a", 10))
        store.enqueue(make_score("b", 20))

        flush = asyncio.create_task(store.flush())
        await asyncio.sleep(0)  # the flush has taken the batch and waits on the connection
        assert store.pending == 0
        store.enqueue(make_score("a", 99))
        assert await flush == 0
        assert errors == [None]
        assert store.pending == 2

        server.start()
        assert await store.flush() == 2
        assert (await store.get("a"))["score"] == 99.0
        assert (await store.get("b"))["score"] == 20.0
    finally:
        await client.aclose()
        server.stop()


async def test_failed_reads_raise_unavailable_and_count(make_store, dead_client, errors):
    store = make_store(dead_client)
    with pytest.raises(ScoreStoreUnavailable):
        await store.get("a")
    with pytest.raises(ScoreStoreUnavailable):
        await store.at_risk(5)
    assert errors == [None, None]


async def test_run_flushes_periodically_and_once_more_on_stop(make_store):
    store = make_store()
    stop = asyncio.Event()
    runner = asyncio.create_task(store.run(0.02, stop))

    store.enqueue(make_score("a", 10))
    async with asyncio.timeout(5):
        while await store.get("a") is None:
            await asyncio.sleep(0.01)

    store.enqueue(make_score("b", 20))
    stop.set()
    async with asyncio.timeout(5):
        await runner
    assert (await store.get("b"))["score"] == 20.0


async def test_run_backs_off_and_warns_once_per_outage(make_store, dead_client, errors, caplog):
    store = make_store(dead_client, max_backoff=0.08)
    store.enqueue(make_score("a", 10))
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger=LOGGER)

    runner = asyncio.create_task(store.run(0.01, stop))
    await asyncio.sleep(0.6)
    stop.set()
    async with asyncio.timeout(5):
        await runner

    # without backoff: ~60 attempts; with it: 0.01, 0.02, 0.04, then every 0.08 s
    assert 3 <= len(errors) <= 12
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()
    assert store.pending == 1


async def test_run_refuses_a_non_positive_interval(make_store):
    with pytest.raises(ValueError):
        await make_store().run(0)
