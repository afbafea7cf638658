"""The score store on real Redis servers: the stack's, and one of our own that the outage test
crashes (SIGKILL) and restarts on the same port. The HTTP test serves the account views from
Faust's own web server (the AppRunner/TCPSite the worker starts) without a worker or broker;
the same views over a full worker are checked with the engine."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import faust
import orjson
import pytest
import redis.asyncio as redis

from stream_app.serving.accounts_api import register_account_views
from stream_app.serving.score_store import ScoreStore
from tests.unit.serving.fixtures import RedisServer, free_port, make_score

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack_client(stack) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(stack["redis_url"])
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"it:{uuid.uuid4().hex}:"


@pytest.fixture
async def store(stack_client, prefix) -> AsyncIterator[ScoreStore]:
    """A store on the stack Redis under this test's key prefix, deleted afterwards."""
    yield ScoreStore(stack_client, prefix=prefix, on_error=lambda: None)
    keys = [key async for key in stack_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await stack_client.delete(*keys)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


async def test_scores_land_in_redis_and_read_back(store, stack_client, prefix):
    scores = [make_score("acc-a", 72.0), make_score("acc-b", 18.5), make_score("acc-c", 44.0)]
    for score in scores:
        store.enqueue(score)

    assert await store.flush() == 3

    ranked = await stack_client.zrange(f"{prefix}scores", 0, -1, withscores=True)
    assert ranked == [(b"acc-b", 18.5), (b"acc-c", 44.0), (b"acc-a", 72.0)]
    stored = await stack_client.hget(f"{prefix}account:acc-b", "json")
    assert orjson.loads(stored) == orjson.loads(scores[1].model_dump_json())
    assert [a["account_id"] for a in await store.at_risk(2)] == ["acc-b", "acc-c"]
    record = await store.get("acc-c")
    assert (record["score"], record["band"], record["updated_at"]) == (
        44.0,
        "at_risk",
        "2025-03-01T12:00:00Z",
    )


async def test_a_redis_crash_is_retried_and_caught_up(own_redis, caplog):
    # the engine's client: redis.from_url with redis-py's default retries and timeouts
    client = redis.from_url(own_redis.url)
    errors: list[None] = []
    store = ScoreStore(client, on_error=lambda: errors.append(None))
    caplog.set_level(logging.INFO, logger="stream_app.serving.score_store")
    try:
        store.enqueue(make_score("a", 40))
        store.enqueue(make_score("b", 60))
        assert await store.flush() == 2

        own_redis.kill()
        store.enqueue(make_score("a", 35))
        assert await store.flush() == 0
        assert (errors, store.pending) == ([None], 1)

        store.enqueue(make_score("a", 20))  # newer than the one that failed: it wins
        store.enqueue(make_score("c", 70))
        assert await store.flush() == 0
        assert (len(errors), store.pending) == (2, 2)

        stop = asyncio.Event()
        runner = asyncio.create_task(store.run(0.05, stop))
        await asyncio.sleep(0.5)  # the loop keeps failing, backing off
        own_redis.start()  # same port, empty: no persistence, like a replacement node
        async with asyncio.timeout(60):
            while store.pending:
                await asyncio.sleep(0.05)
        stop.set()
        async with asyncio.timeout(10):
            await runner

        assert (await store.get("a"))["score"] == 20.0
        assert (await store.get("c"))["json"] == orjson.loads(make_score("c", 70).model_dump_json())
        assert [a["account_id"] for a in await store.at_risk(10)] == ["a", "c"]
        levels = [r.levelname for r in caplog.records]
        assert levels.count("WARNING") == 1
        assert "recovered" in caplog.records[-1].getMessage()
    finally:
        await client.aclose()


async def test_the_views_on_faust_web_server(store):
    for account, value in [("acc-a", 72.0), ("acc-b", 18.5), ("acc-c", 44.0)]:
        store.enqueue(make_score(account, value))
    await store.flush()
    port = free_port()
    app = faust.App(
        f"it-{uuid.uuid4().hex}",
        broker="memory://",
        autodiscover=False,
        web_bind="127.0.0.1",
        web_port=port,
    )
    register_account_views(app, store)
    await app.web.wsgi()  # applies Faust's own blueprints, as the worker's web service does
    await app.web.start_server()
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/accounts/acc-b/health") as response:
                assert response.status == 200
                assert (await response.json())["score"] == 18.5
            async with http.get(f"{base}/accounts/at-risk?limit=2") as response:
                body = await response.json()
                assert [a["account_id"] for a in body["accounts"]] == ["acc-b", "acc-c"]
            async with http.get(f"{base}/accounts/acc-z/health") as response:
                assert response.status == 404
            async with http.get(f"{base}/accounts/a%2Fb/health") as response:
                assert response.status == 400
    finally:
        await app.web.stop_server()
