from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.fixtures import Deployment, Worker


@pytest.fixture
def deployment(stack, tmp_path) -> Deployment:
    return Deployment(stack["kafka_bootstrap"], stack["redis_url"], tmp_path)


@pytest.fixture
def start_worker(deployment) -> Iterator:
    """Factory: start a real worker process for this test's deployment; all stopped at the end."""
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(deployment)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
