"""Security settings -> client options, for Faust, kafka-python and redis-py (no servers here;
tests/faults/test_security.py runs them against a real TLS/SASL broker and Redis)."""

from __future__ import annotations

import ssl

import faust
import pytest
import redis.asyncio as redis
from redis.asyncio.connection import Connection, SSLConnection

from stream_app.connections import (
    faust_credentials,
    kafka_client_options,
    kafka_ssl_context,
    redis_client,
)
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings, TlsFiles
from tests.faults.tls import make_tls_material
from tests.unit.serving.fixtures import make_score

PASSWORD = "pw-for-tests"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_material(tmp_path_factory.mktemp("tls"))


def test_plaintext_needs_no_credentials():
    settings = Settings()
    assert faust_credentials(settings) is None
    assert kafka_ssl_context(settings) is None
    assert kafka_client_options(settings) == {
        "bootstrap_servers": "localhost:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_goes_to_faust_and_kafka_python_alike(tls):
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="hs-worker",
        kafka_sasl_password=PASSWORD,
        kafka_ssl=TlsFiles(cafile=tls.ca_cert),
    )
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-256"
    assert (credentials.username, credentials.password) == ("hs-worker", PASSWORD)
    assert PASSWORD not in repr(credentials)
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_mutual_tls_loads_the_client_certificate(tls):
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl=TlsFiles(
            cafile=tls.ca_cert,
            certfile=tls.client_cert,
            keyfile=tls.client_key,
            check_hostname=False,
        ),
    )
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.context.verify_mode == ssl.CERT_REQUIRED
    assert not credentials.context.check_hostname
    assert "sasl_mechanism" not in kafka_client_options(settings)


def test_redis_auth_and_tls_options(tls):
    settings = Settings(
        redis_url="rediss://127.0.0.1:6380/0",
        redis_username="hs-worker",
        redis_password=PASSWORD,
        redis_ssl=TlsFiles(cafile=tls.ca_cert),
    )
    client = redis_client(settings)
    pool = client.connection_pool
    assert issubclass(pool.connection_class, SSLConnection)
    kwargs = pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("hs-worker", PASSWORD)
    assert kwargs["ssl_ca_certs"] == tls.ca_cert
    assert kwargs["socket_timeout"] == 5.0
    assert PASSWORD not in repr(client)


def test_redis_commands_are_packed_to_the_same_bytes_as_redis_py_packs_them():
    """The client packs with hiredis (decisions §41); what reaches Redis must not change.
    The commands are a score store flush: hashes of text, numbers, bytes and blanks, and
    one ZADD of float scores."""
    scores = [
        make_score("acme", 72.5, previous_score=None, delta_7d=-0.1),
        make_score("globex", 1e-07, drivers=["Support: 3 urgent tickets open"]),
        make_score("initech", 100.0, previous_score=99.9, delta_7d=None),
    ]
    pipe = redis.Redis().pipeline(transaction=False)
    ScoreStore(redis.Redis(), on_error=lambda: None)._stage(pipe, [(s, None) for s in scores])
    commands = [command for command, _ in pipe.command_stack]
    client = redis_client(Settings(redis_url="redis://127.0.0.1:6379/0"))
    packing = client.connection_pool.make_connection()
    assert type(packing) is not Connection  # hiredis is a dependency: this is its packer
    plain = Connection()
    for command in [*commands, ("CONFIG GET", "maxmemory")]:
        assert b"".join(packing.pack_command(*command)) == b"".join(plain.pack_command(*command))
    assert b"".join(packing.pack_commands(commands)) == b"".join(plain.pack_commands(commands))
