"""Score-store unit tests run against a real redis-server that this package starts itself on a
free port (``make test-unit`` needs no stack); each test writes under its own key prefix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from stream_app.serving.score_store import ScoreStore
from tests.unit.serving.fixtures import RedisServer, free_port


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[redis.Redis]:
    client = redis.Redis(port=redis_server.port)
    yield client
    await client.aclose()


@pytest.fixture
async def dead_client() -> AsyncIterator[redis.Redis]:
    """A real client aimed at a port nobody listens on: every command fails to connect.

    Retries are off so each failure takes milliseconds instead of redis-py's default backoff.
    """
    client = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    yield client
    await client.aclose()


@pytest.fixture
def errors() -> list[None]:
    """Calls of the store's on_error hook."""
    return []


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def make_store(
    redis_client: redis.Redis, errors: list[None], prefix: str
) -> AsyncIterator[Callable[..., ScoreStore]]:
    """Factory: a ScoreStore under this test's key prefix (on the shared client unless given
    one); the test's keys are deleted afterwards."""

    def make(client: redis.Redis | None = None, **options: object) -> ScoreStore:
        return ScoreStore(
            client or redis_client, prefix=prefix, on_error=lambda: errors.append(None), **options
        )

    yield make
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis_client.delete(*keys)
