from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from tests.integration.fixtures import Deployment, Worker


@pytest.fixture
def deployment(stack, tmp_path) -> Iterator[Deployment]:
    """An isolated deployment; its topics and Redis keys are deleted after the test (after
    its workers stopped: ``start_worker`` depends on this fixture, so it is torn down first)."""
    deployment = Deployment(stack["kafka_bootstrap"], stack["redis_url"], tmp_path)
    yield deployment
    try:
        deployment.remove()
    except Exception as exc:  # a leftover topic must not fail the test that passed
        warnings.warn(f"could not delete deployment {deployment.run_id}: {exc!r}", stacklevel=1)


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
