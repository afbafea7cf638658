"""Helpers for tests against the real broker: isolated topic sets, worker processes, polling."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from stream_app.settings import Settings, TopicNames

ROOT = Path(__file__).resolve().parents[2]


def die_with_parent() -> None:
    """A ``preexec_fn``: the child gets SIGTERM when the test process dies, however it dies
    (Linux ``PR_SET_PDEATHSIG``), so a killed test run leaves no worker or broker behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.25
) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Deployment:
    """One isolated engine deployment: its own app id, topic names and data dir."""

    kafka_bootstrap: str
    redis_url: str
    tmp: Path
    partitions: int = 3
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: dict[str, str] = field(default_factory=dict)  # HS_* overrides for the workers

    @property
    def redis_prefix(self) -> str:
        return f"hs-test-{self.run_id}:"

    @property
    def topics(self) -> TopicNames:
        return TopicNames(
            **{name: f"{value}.{self.run_id}" for name, value in TopicNames().model_dump().items()}
        )

    def env(self, web_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HS_")}
        env |= {
            "HS_APP_ID": self.app_id,
            "HS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "HS_REDIS_URL": self.redis_url,
            "HS_PARTITIONS": str(self.partitions),
            "HS_WEB_PORT": str(web_port),
            "HS_DATA_DIR": str(self.tmp / f"worker-{web_port}"),
            "HS_LOG_LEVEL": "WARNING",
            "HS_REDIS_PREFIX": self.redis_prefix,
        }
        env |= {f"HS_TOPICS__{k.upper()}": v for k, v in self.topics.model_dump().items()}
        return env | self.extra_env

    @property
    def app_id(self) -> str:
        return f"healthstream-test-{self.run_id}"

    def settings(self) -> Settings:
        return Settings(
            app_id=self.app_id,
            kafka_bootstrap=self.kafka_bootstrap,
            partitions=self.partitions,
            topics=self.topics,
        )

    def remove(self) -> tuple[int, int]:
        """Delete this deployment's topics and Redis keys (its workers must be stopped)."""
        return delete_run(self.kafka_bootstrap, self.redis_url, self.run_id, self.redis_prefix)


def delete_run(bootstrap: str, redis_url: str, run_id: str, key_prefix: str) -> tuple[int, int]:
    """Delete every topic whose name carries ``run_id`` and every Redis key that starts with
    ``key_prefix``; returns how many of each. Left behind, a developer's broker collected the
    topics of hundreds of test runs (7,000 partition directories), and it then took longer to
    start than ``make stack-up`` waits."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="healthstream-tests")
    try:
        topics = [name for name in admin.list_topics() if run_id in name]
        if topics:
            admin.delete_topics(topics, timeout_ms=60_000)
    finally:
        admin.close()
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
    return len(topics), len(keys)


def sum_samples(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(
        sample.value
        for sample in samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


class Worker:
    """A real ``python -m stream_app worker`` process."""

    def __init__(self, deployment: Deployment) -> None:
        self.port = free_port()
        self.log_path = deployment.tmp / f"worker-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stream_app", "worker"],
            cwd=ROOT,
            env=deployment.env(self.port),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:
            return 0, b""

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log_tail()}")
            return self.get("/readyz")[0] == 200

        wait_for(ready, timeout, "worker /readyz")

    def samples(self) -> list[Sample] | None:
        """Every sample on ``/metrics`` (one scrape), or None when it does not answer."""
        status, body = self.get("/metrics")
        if status != 200:
            return None
        return [
            sample
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
        ]

    def metric(self, name: str, **labels: str) -> float:
        samples = self.samples()
        if samples is None:
            return float("nan")
        return sum_samples(samples, name, **labels)

    def log_tail(self, lines: int = 60) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
        return self.process.returncode


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 * 1024 * 1024)


def send_json(kafka: KafkaProducer, topic: str, key: str | None, value: Any) -> None:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    kafka.send(topic, key=key.encode() if key is not None else None, value=raw)


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[Any]:
    """Read a topic from the beginning until ``expected`` records arrived (or time runs out)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=1000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for message in consumer:
                records.append(orjson.loads(message.value))
    finally:
        consumer.close()
    return records


def alert_transition(record: dict) -> tuple[str, ...]:
    """An alert record as a pager acts on it: which incident, firing or resolved, at which
    severity, notified when."""
    return (
        record["dedup_key"],
        record["alert_id"],
        record["status"],
        record["severity"],
        record["started_at"],
        record["updated_at"],
    )


def nsm_alerts(records: list[dict]) -> list[tuple]:
    """The NSM-decline records of an alerts topic, without the point-in-time health score:
    everything that depends on event time only, so two runs over one log must agree on it."""
    return [
        (*alert_transition(r), orjson.dumps(r["metric"]))
        for r in records
        if r["rule"] == "nsm_decline"
    ]


class Prometheus:
    """A real Prometheus server (Debian's package) on a free port with a throw-away data dir.

    Runs under ``timeout`` so it stops by itself even if the test process dies first.
    """

    MAX_LIFETIME_S = 600

    def __init__(self, config: dict[str, Any], tmp: Path) -> None:
        self.port = free_port()
        config_path = tmp / "prometheus.yml"
        config_path.write_text(orjson.dumps(config).decode())  # JSON is YAML
        self.log_path = tmp / "prometheus.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                "timeout",
                str(self.MAX_LIFETIME_S),
                "prometheus",
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def api(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = orjson.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query at now: the result vector (or [] for anything else)."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] == "vector" else []

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/-/ready", timeout=2
                ) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(ready, timeout, "prometheus /-/ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
