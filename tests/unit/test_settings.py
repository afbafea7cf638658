"""Settings: secrets from the environment or from files, masked everywhere; security options
that only make sense together are checked together."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from pydantic import ValidationError

from stream_app.settings import SECRET_FIELDS, Settings, TlsFiles

SECRET = "s3cr3t-value-never-shown"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HS_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("name", SECRET_FIELDS)
def test_each_secret_can_come_from_a_file_without_its_trailing_newline(name, tmp_path, monkeypatch):
    path = tmp_path / name
    path.write_text(SECRET + "\n")
    monkeypatch.setenv(f"HS_{name.upper()}_FILE", str(path))
    settings = Settings()
    assert getattr(settings, name).get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings.redacted())


def test_a_secret_set_twice_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "pw"
    path.write_text(SECRET)
    monkeypatch.setenv("HS_REDIS_PASSWORD", "other")
    monkeypatch.setenv("HS_REDIS_PASSWORD_FILE", str(path))
    with pytest.raises(ValidationError, match="HS_REDIS_PASSWORD or HS_REDIS_PASSWORD_FILE"):
        Settings()


def test_an_unreadable_secret_file_is_named_not_guessed(tmp_path, monkeypatch):
    monkeypatch.setenv("HS_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(ValidationError, match="HS_KAFKA_SASL_PASSWORD_FILE: cannot read"):
        Settings()


def test_secrets_from_the_environment_are_masked_in_dumps(monkeypatch):
    monkeypatch.setenv("HS_REDIS_URL", f"redis://user:{SECRET}@redis:6379/0")
    monkeypatch.setenv("HS_KAFKA_SASL_PASSWORD", SECRET)
    settings = Settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.redacted())
    assert settings.redacted()["kafka_sasl_password"] == "**********"


def test_sasl_needs_a_username_and_a_password():
    with pytest.raises(ValidationError, match="HS_KAFKA_SASL_USERNAME"):
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="hs")
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="hs",
        kafka_sasl_password=SECRET,
    )
    assert not settings.kafka_tls


def test_a_client_certificate_needs_its_key(tmp_path, monkeypatch):
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    monkeypatch.setenv("HS_KAFKA_SSL__CERTFILE", str(cert))
    with pytest.raises(ValidationError, match="go together"):
        Settings()
    monkeypatch.delenv("HS_KAFKA_SSL__CERTFILE")
    monkeypatch.setenv("HS_REDIS_SSL__KEYFILE", str(cert))
    with pytest.raises(ValidationError, match="go together"):
        Settings()


def test_tls_files_come_from_nested_variables_and_must_exist(tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    monkeypatch.setenv("HS_KAFKA_SSL__CAFILE", str(ca))
    monkeypatch.setenv("HS_KAFKA_SSL__CHECK_HOSTNAME", "false")
    settings = Settings()
    assert settings.kafka_ssl == TlsFiles(cafile=ca, check_hostname=False)
    monkeypatch.setenv("HS_KAFKA_SSL__CAFILE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(ValidationError, match="cafile"):
        Settings()


def test_tls_follows_the_protocol_and_the_url_scheme():
    assert Settings(kafka_security_protocol="SSL").kafka_tls
    assert Settings(redis_url="rediss://redis:6380/0").redis_tls
    assert not Settings().redis_tls and not Settings().kafka_tls


def test_group_liveness_settings_are_consistent():
    with pytest.raises(ValidationError, match="at most half"):
        Settings(broker_session_timeout=timedelta(seconds=4), broker_heartbeat_interval=3)
    assert Settings().table_standby_replicas == 1
