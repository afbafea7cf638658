"""The account views as Faust registers them (``app.page`` → View → aiohttp route), served by
aiohttp's test server over a real socket; no worker, no broker. The store uses the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import faust
import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from stream_app.serving.accounts_api import register_account_views
from stream_app.serving.score_store import ScoreStore
from tests.unit.serving.fixtures import make_score


@pytest.fixture
async def serve() -> AsyncIterator[Callable]:
    """Factory: an HTTP client for a fresh Faust app whose account views read ``store``."""
    clients: list[TestClient] = []

    async def start(store: ScoreStore) -> TestClient:
        app = faust.App(f"test-{uuid.uuid4().hex}", broker="memory://", autodiscover=False)
        register_account_views(app, store)
        client = TestClient(TestServer(await app.web.wsgi()))  # wsgi(): routes as the worker has
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_health_returns_the_stored_score(make_store, serve):
    store = make_store()
    score = make_score("acc-1", 33.0, previous_score=40.0)
    store.enqueue(score)
    await store.flush()
    http = await serve(store)

    response = await http.get("/accounts/acc-1/health")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == orjson.loads(score.model_dump_json())

    head = await http.head("/accounts/acc-1/health")
    assert head.status == 200


async def test_health_of_an_unknown_account_is_404(make_store, serve):
    http = await serve(make_store())

    for account_id in ("nope", "a" * 128, "at-risk"):
        response = await http.get(f"/accounts/{account_id}/health")
        assert response.status == 404
        assert await response.json() == {"error": "unknown account"}


@pytest.mark.parametrize(
    "raw_id",
    [
        "a%2Fb",
        "a%00b",
        "a%20b",
        "%C3%A9",
        "a%0Ab",
        "a" * 129,
    ],
)
async def test_health_with_an_invalid_id_is_400(make_store, dead_client, serve, errors, raw_id):
    # A dead Redis: a 400 must come from validation, before any read. (An id with "{" or "}"
    # never reaches the view: aiohttp's route pattern does not match it, a plain 404.)
    http = await serve(make_store(dead_client))

    response = await http.get(f"/accounts/{raw_id}/health")
    assert response.status == 400
    assert "invalid account id" in (await response.json())["error"]
    assert errors == []


async def test_at_risk_lists_the_lowest_scores_first(make_store, serve):
    store = make_store()
    for i in range(25):
        store.enqueue(make_score(f"acc-{i:02d}", 99.0 - i))
    await store.flush()
    http = await serve(store)

    response = await http.get("/accounts/at-risk")
    assert response.status == 200
    accounts = (await response.json())["accounts"]
    assert [a["score"] for a in accounts] == [75.0 + i for i in range(20)]  # default limit 20

    response = await http.get("/accounts/at-risk", params={"limit": "3"})
    assert [a["account_id"] for a in (await response.json())["accounts"]] == [
        "acc-24",
        "acc-23",
        "acc-22",
    ]

    response = await http.get("/accounts/at-risk?limit=1000")
    assert len((await response.json())["accounts"]) == 25


async def test_at_risk_without_scores_is_an_empty_list(make_store, serve):
    http = await serve(make_store())
    response = await http.get("/accounts/at-risk")
    assert (response.status, await response.json()) == (200, {"accounts": []})


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=%2B5",
        "limit=%205",
        "limit=%D9%A5",
        "limit=99999",
        "limit=1&limit=2",
    ],
)
async def test_at_risk_with_a_bad_limit_is_400(make_store, dead_client, serve, errors, query):
    http = await serve(make_store(dead_client))

    response = await http.get(f"/accounts/at-risk?{query}")
    assert response.status == 400
    assert await response.json() == {"error": "limit must be an integer in 1..1000"}
    assert errors == []


async def test_a_redis_failure_is_503(make_store, dead_client, serve, errors):
    http = await serve(make_store(dead_client))

    for path in ("/accounts/acc-1/health", "/accounts/at-risk"):
        response = await http.get(path)
        assert response.status == 503
        assert await response.json() == {"error": "score store unavailable"}
    assert errors == [None, None]
