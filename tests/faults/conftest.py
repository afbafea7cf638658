"""Fault-test fixtures: a private broker for the session, a private Redis per test, workers.

Nothing here touches the shared broker (9092) or Redis (6379): fault tests kill, restart and
misconfigure what they run against (``services.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.faults.runs import RunResult, collect, event_counts, wait_drained
from tests.faults.services import KafkaUser, PrivateKafka, PrivateRedis
from tests.faults.tls import TlsMaterial, make_tls_material
from tests.faults.workload import FaultLog, build_log, produce
from tests.integration.fixtures import Deployment, Worker

# Short consumer-group sessions so a killed worker's partitions move in seconds, not 45 s;
# no idle advance, so every run's windows end at the log's own newest event. The log packs 40
# days of event time into ~20 s of processing, so one commit interval of replay after a crash
# spans days: the de-duplication horizon covers the whole log, so every replayed event is
# recognised as a duplicate rather than rejected as older than the ledger (see decisions §23).
FAULT_ENV = {
    "HS_BROKER_SESSION_TIMEOUT": "PT6S",
    "HS_BROKER_HEARTBEAT_INTERVAL": "PT1S",
    "HS_IDLE_ADVANCE_AFTER": "P30D",
    "HS_DEDUPE_HORIZON": "P60D",
}
WORKER_USER = "hs-worker"
PARTITIONS = 4

# "what was injected, how often, what was compared": one line per fault, shown after the run
_REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if _REPORT:
        terminalreporter.section("fault report")
        for line in _REPORT:
            terminalreporter.write_line(line)


@pytest.fixture
def fault_report(request) -> Callable[[str], None]:
    def add(line: str) -> None:
        _REPORT.append(f"{request.node.name}: {line}")

    return add


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return make_tls_material(tmp_path_factory.mktemp("tls"), client_cn=WORKER_USER)


@pytest.fixture(scope="session")
def kafka_worker_password() -> str:
    """The SCRAM password of the worker's Kafka user: random, so a log grep cannot miss it."""
    return "kp-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def private_kafka(
    tmp_path_factory: pytest.TempPathFactory, tls_material: TlsMaterial, kafka_worker_password: str
) -> Iterator[PrivateKafka]:
    kafka = PrivateKafka(
        tmp_path_factory.mktemp("kafka"),
        tls=tls_material,
        users=[KafkaUser(WORKER_USER, kafka_worker_password)],
    )
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    """Persistent (AOF), so a stopped and restarted Redis comes back with its data."""
    server = PrivateRedis(tmp_path / "redis", persistent=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fault_log() -> FaultLog:
    return build_log()


@pytest.fixture(scope="session")
def reference(private_kafka, fault_log, tmp_path_factory) -> RunResult:
    """The uninterrupted single-worker run of ``fault_log`` that fault runs are compared with;
    computed once per session."""
    home = tmp_path_factory.mktemp("reference")
    with PrivateRedis(home / "redis") as redis_server:
        deployment = Deployment(
            private_kafka.bootstrap, redis_server.url, home, PARTITIONS, extra_env=FAULT_ENV
        )
        worker = Worker(deployment)
        try:
            worker.wait_ready()
            produce(private_kafka.bootstrap, deployment.topics, fault_log.records, PARTITIONS)
            wait_drained(deployment, worker)
            counts = event_counts(worker, deployment)
        finally:
            worker.stop()
    result = collect(deployment, fault_log.as_of)
    result.counts = counts
    return result


@pytest.fixture
def new_deployment(private_kafka, private_redis, tmp_path) -> Callable[..., Deployment]:
    """Factory: an isolated deployment (topics, app id, Redis prefix) on the private services."""
    count = 0

    def make(partitions: int = PARTITIONS, **env: str) -> Deployment:
        nonlocal count
        count += 1
        folder = tmp_path / f"deployment-{count}"
        folder.mkdir()
        return Deployment(
            private_kafka.bootstrap,
            private_redis.url,
            folder,
            partitions=partitions,
            extra_env=FAULT_ENV | env,
        )

    return make


@pytest.fixture
def workers() -> Iterator[Callable[[Deployment], Worker]]:
    """Factory: start a worker process (not waiting for readiness); all stopped at the end."""
    started: list[Worker] = []

    def start(deployment: Deployment) -> Worker:
        worker = Worker(deployment)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
