"""Kafka security settings -> the options of both Kafka clients. (The local broker speaks
PLAINTEXT only, so TLS/SASL handshakes themselves are not exercised here.)"""

from __future__ import annotations

import ssl
import subprocess

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from stream_app.kafka_auth import faust_credentials, kafka_python_options
from stream_app.settings import Settings

SELF_SIGNED = ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1")
SELF_SIGNED += ("-subj", "/CN=healthstream")


def test_plaintext_by_default():
    settings = Settings()
    assert faust_credentials(settings) is None
    assert kafka_python_options(settings) == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_with_scram():
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="healthstream",
        kafka_sasl_password="s3cret",
    )
    credentials = faust_credentials(settings)
    assert isinstance(credentials, SASLCredentials)
    aiokafka = credentials_to_aiokafka_auth(credentials)
    assert aiokafka["security_protocol"] == "SASL_SSL"
    assert aiokafka["sasl_mechanism"] == "SCRAM-SHA-512"
    assert aiokafka["sasl_plain_password"] == "s3cret"
    assert isinstance(aiokafka["ssl_context"], ssl.SSLContext)
    options = kafka_python_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_username"] == "healthstream"
    assert options["sasl_plain_password"] == "s3cret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "s3cret" not in str(settings.redacted())


def test_sasl_plaintext_has_no_tls():
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
    )
    assert credentials_to_aiokafka_auth(faust_credentials(settings)) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
        "ssl_context": None,
    }
    assert "ssl_context" not in kafka_python_options(settings)


def test_mutual_tls_loads_the_client_certificate(tmp_path):
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    subprocess.run(
        [*SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cert,
        kafka_ssl_certfile=cert,
        kafka_ssl_keyfile=key,
    )
    credentials = faust_credentials(settings)
    assert isinstance(credentials, SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"
    context = kafka_python_options(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    "fields",
    [
        {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "u"},
        {"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "/tmp/only-the-cert.pem"},
    ],
)
def test_incomplete_security_settings_are_rejected(fields):
    with pytest.raises(ValidationError):
        Settings(**fields)
