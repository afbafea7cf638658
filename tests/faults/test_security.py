"""Security against real services: Redis AUTH and TLS, Kafka SASL_SSL (SCRAM) and mutual TLS
behind the standard authorizer with exactly the ACLs of docs/security.md, secrets only from
files and never in a log, and HTTP endpoints that expose nothing and reject malformed paths."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from redis.backoff import NoBackoff
from redis.retry import Retry

from stream_app.cli.topics import create_topics
from stream_app.connections import kafka_client_options
from stream_app.settings import Settings, TlsFiles, TopicNames
from tests.faults.conftest import WORKER_USER
from tests.faults.runs import wait_drained
from tests.faults.services import KAFKA_LIBS, PrivateRedis
from tests.faults.workload import latest_by_key, produce, read_to_end
from tests.integration.fixtures import ROOT, Deployment, Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

SECURITY_DOC = ROOT / "docs" / "security.md"
NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries auth failures (a ConnectionError) by default


def _secret_file(folder: Path, name: str, value: str) -> Path:
    path = folder / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


@dataclass
class DefaultNames(Deployment):
    """A deployment with the production topic names and app id, so the ACLs of
    docs/security.md apply to it verbatim (safe: the broker is private)."""

    @property
    def topics(self) -> TopicNames:
        return TopicNames()

    @property
    def app_id(self) -> str:
        return "healthstream"


def apply_documented_acls(bootstrap: str) -> list[str]:
    """Run the ACL block of docs/security.md with Kafka's own kafka-acls (AclCommand)."""
    blocks = re.findall(r"```bash\n(.*?)```", SECURITY_DOC.read_text(), flags=re.S)
    script = next(block for block in blocks if "$KAFKA_ACLS" in block)
    tool = f"java -XX:TieredStopAtLevel=1 kafka.admin.AclCommand --bootstrap-server {bootstrap}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        # the class path goes in CLASSPATH: inside $KAFKA_ACLS a libs/* would be globbed
        env={"PATH": "/usr/bin:/bin", "CLASSPATH": f"{KAFKA_LIBS}/*", "KAFKA_ACLS": tool},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in script.splitlines() if line.startswith("$KAFKA_ACLS")]


@pytest.fixture(scope="module")
def documented_acls(private_kafka) -> list[str]:
    return apply_documented_acls(private_kafka.bootstrap)


def test_redis_requirepass_is_enforced(tmp_path):
    password = secrets.token_urlsafe(16)
    with PrivateRedis(tmp_path / "redis", password=password) as server:
        for wrong in (None, "not-the-password"):
            client = redis.Redis(port=server.port, password=wrong, retry=NO_RETRY)
            with pytest.raises(redis.AuthenticationError):
                client.set("k", "v")
            client.close()
        settings = Settings(
            redis_url=server.url, redis_password_file=_secret_file(tmp_path, "pw", password)
        )
        assert settings.redis_password.get_secret_value() == password


def test_redis_tls_verifies_the_server_certificate(tmp_path, tls_material):
    with PrivateRedis(tmp_path / "redis", tls=tls_material) as server:
        trusted = redis.Redis.from_url(server.url, ssl_ca_certs=str(tls_material.ca_cert))
        assert trusted.ping()
        trusted.close()
        stranger = redis.Redis.from_url(server.url, retry=NO_RETRY)  # system CAs only
        with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            stranger.ping()
        stranger.close()
        plain = redis.Redis(port=server.port, socket_timeout=2, retry=NO_RETRY)
        with pytest.raises(redis.ConnectionError):
            plain.ping()
        plain.close()


def test_mutual_tls_client_uses_the_documented_acls(
    private_kafka, tls_material, documented_acls, fault_report
):
    """``topics create`` as the worker's certificate (principal User:hs-worker by CN)."""
    admin = Settings(kafka_bootstrap=private_kafka.bootstrap, partitions=4)
    create_topics(admin)  # as an administrator: the worker principal may not create them
    env = {
        "PATH": "/usr/bin:/bin",
        "HS_KAFKA_BOOTSTRAP": private_kafka.ssl_bootstrap,
        "HS_PARTITIONS": "4",
        "HS_KAFKA_SECURITY_PROTOCOL": "SSL",
        "HS_KAFKA_SSL__CAFILE": str(tls_material.ca_cert),
        "HS_KAFKA_SSL__CERTFILE": str(tls_material.client_cert),
        "HS_KAFKA_SSL__KEYFILE": str(tls_material.client_key),
    }
    command = [sys.executable, "-m", "stream_app", "topics", "create"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("exists ") == 8, result.stdout
    no_certificate = Settings(
        kafka_bootstrap=private_kafka.ssl_bootstrap,
        kafka_security_protocol="SSL",
        kafka_ssl=TlsFiles(cafile=tls_material.ca_cert),
    )
    with pytest.raises(KafkaError):
        KafkaAdminClient(**kafka_client_options(no_certificate), bootstrap_timeout_ms=5000)
    fault_report(
        "mTLS listener (client certificate required): topics create as CN=hs-worker "
        "sees all 8 topics with the documented ACLs; without a certificate: refused"
    )


def test_worker_over_sasl_ssl_and_redis_tls_logs_no_secret(
    private_kafka,
    tls_material,
    kafka_worker_password,
    documented_acls,
    fault_log,
    tmp_path,
    fault_report,
):
    redis_password = "rp-" + secrets.token_urlsafe(18)
    redis_server = PrivateRedis(
        tmp_path / "redis", tls=tls_material, username=WORKER_USER, password=redis_password
    )
    redis_server.start()
    try:
        _run_secure_worker(
            private_kafka,
            tls_material,
            kafka_worker_password,
            redis_server,
            fault_log,
            tmp_path,
            fault_report,
            len(documented_acls),
        )
    finally:
        redis_server.stop()


def _run_secure_worker(
    kafka, tls, kafka_password, redis_server, fault_log, tmp_path, fault_report, acl_commands
) -> None:
    deployment = DefaultNames(kafka.bootstrap, redis_server.url, tmp_path, partitions=4)
    create_topics(Settings(kafka_bootstrap=kafka.bootstrap, partitions=4))
    deployment.extra_env = {
        "HS_KAFKA_BOOTSTRAP": kafka.sasl_ssl_bootstrap,
        "HS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "HS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "HS_KAFKA_SASL_USERNAME": WORKER_USER,
        "HS_KAFKA_SASL_PASSWORD_FILE": str(_secret_file(tmp_path, "kafka-pw", kafka_password)),
        "HS_KAFKA_SSL__CAFILE": str(tls.ca_cert),
        "HS_REDIS_USERNAME": WORKER_USER,
        "HS_REDIS_PASSWORD_FILE": str(_secret_file(tmp_path, "redis-pw", redis_server.password)),
        "HS_REDIS_SSL__CAFILE": str(tls.ca_cert),
        "HS_LOG_LEVEL": "DEBUG",
    }
    worker = Worker(deployment)
    try:
        worker.wait_ready(timeout=120)
        accounts = {r.key for r in fault_log.records[:400] if r.key}
        produce(kafka.bootstrap, deployment.topics, fault_log.records[:400], 4)
        wait_drained(deployment, worker, timeout=180)
        scores = latest_by_key(read_to_end(kafka.bootstrap, deployment.topics.health_scores))
        assert scores and set(scores) <= accounts
        client = redis_server.client()
        key = f"{deployment.redis_prefix}scores"
        wait_for(lambda: client.zcard(key) == len(scores), 30, "scores in Redis over TLS")
        client.close()
        checked = _http_exposes_nothing(
            worker, sorted(scores)[0], [kafka_password, redis_server.password]
        )
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")
    assert "DEBUG" in log, "the log must be at DEBUG level for the grep to mean anything"
    for secret in (kafka_password, redis_server.password):
        assert secret not in log
    fault_report(
        f"worker over SASL_SSL (SCRAM-SHA-512, {acl_commands} documented kafka-acls commands, "
        f"authorizer on) and Redis TLS + ACL user, secrets from files: {len(scores)} accounts "
        f"scored; {len(log) // 1024} KiB DEBUG log contains neither secret; {checked} HTTP "
        f"requests: no secret in any body, malformed paths 400/404"
    )


# a route parameter cannot hold { } or / (aiohttp's router answers 404 before our check runs)
REJECTED = (400, 404)
MALFORMED = [
    ("/accounts/%00/health", 400),
    ("/accounts/a%0Ab/health", 400),
    ("/accounts/..%2F..%2Fetc%2Fpasswd/health", 400),
    ("/accounts/" + "a" * 129 + "/health", 400),
    ('/accounts/x"}/health', REJECTED),
    ("/accounts/a:b*/health", 400),
    ("/accounts/%7Bx%7D/health", REJECTED),
    ("/accounts/at-risk?limit=1001", 400),
    ("/accounts/at-risk?limit=-1", 400),
    ("/accounts/at-risk?limit=1&limit=2", 400),
    ("/accounts/at-risk?limit=%F0%9F%92%A5", 400),
    ("/../../etc/passwd", 404),
    ("/table/account-state/", 404),
    ("/router/", 404),
    ("/graph/", 404),
    ("/stats/", 404),
    ("/accounts", 404),
]


def _http_exposes_nothing(worker: Worker, account: str, secret_values: list[str]) -> int:
    ok = ["/metrics", "/livez", "/readyz", f"/accounts/{account}/health", "/accounts/at-risk"]
    bodies = []
    for path in ok:
        status, body = worker.get(path)
        assert status == 200, (path, status)
        bodies.append(body)
    for path, expected in MALFORMED:
        status, body = worker.get(path)
        assert status in (expected if isinstance(expected, tuple) else (expected,)), (path, status)
        bodies.append(body)
    assert orjson.loads(bodies[3])["account_id"] == account
    for body in bodies:
        for secret in secret_values:
            assert secret.encode() not in body
        assert b"password" not in body.lower()
    return len(bodies)
