"""Kafka and Redis clients from :class:`Settings`, with TLS, SASL and AUTH applied.

One place turns the ``HS_*`` security settings into what each library takes: Faust's
``broker_credentials`` (the worker), kafka-python keyword arguments (``topics create``, the CLI
producers) and a redis-py client. Secrets leave their ``SecretStr`` only here, at the moment a
client is built, and nothing here logs.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust
import redis.asyncio as redis
from faust.types.auth import CredentialsT
from pydantic import SecretStr
from redis.asyncio.connection import AbstractConnection
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE

from stream_app.settings import Settings, TlsFiles

__all__ = ["faust_credentials", "kafka_client_options", "kafka_ssl_context", "redis_client"]


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def _ssl_context(files: TlsFiles, key_password: SecretStr | None) -> ssl.SSLContext:
    """Server verification always on (against ``cafile``, else the system CAs); hostname
    checking only switchable for servers reached by an address they are not named by; a
    client certificate if given."""
    context = ssl.create_default_context(cafile=files.cafile)
    context.check_hostname = files.check_hostname
    if files.certfile is not None:
        context.load_cert_chain(files.certfile, files.keyfile, _reveal(key_password))
    return context


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.kafka_tls:
        return None
    return _ssl_context(settings.kafka_ssl, settings.kafka_ssl_key_password)


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """The worker's ``broker_credentials``: None (PLAINTEXT), SSL or SASL (over TLS or not)."""
    protocol = settings.kafka_security_protocol
    context = kafka_ssl_context(settings)
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials switches itself to SASL_SSL when given a context
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=_reveal(settings.kafka_sasl_password),
        ssl_context=context,
        mechanism=settings.kafka_sasl_mechanism,
    )


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python clients (``KafkaAdminClient``, ``KafkaProducer``)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": _reveal(settings.kafka_sasl_password),
        }
    return options


def redis_client(settings: Settings) -> redis.Redis:
    """The asyncio client for the score store. TLS when the URL is ``rediss://``; credentials
    in the URL win over ``HS_REDIS_USERNAME``/``HS_REDIS_PASSWORD`` (redis-py's rule)."""
    timeout = settings.redis_socket_timeout.total_seconds()
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if settings.redis_password is not None:
        options["password"] = _reveal(settings.redis_password)
    if settings.redis_username:
        options["username"] = settings.redis_username
    if settings.redis_tls:
        tls = settings.redis_ssl
        options |= {
            # redis-py hands these to ssl.SSLContext, which takes paths (None = system CAs)
            "ssl_ca_certs": tls.cafile,
            "ssl_certfile": tls.certfile,
            "ssl_keyfile": tls.keyfile,
            "ssl_check_hostname": tls.check_hostname,
        }
    client = redis.from_url(settings.redis_url.get_secret_value(), **options)
    if HIREDIS_AVAILABLE:  # as redis-py decides it for its sync connections
        pool = client.connection_pool
        pool.connection_class = _packing_with_hiredis(pool.connection_class)
    return client


class _HiredisPacking(AbstractConnection):
    """Commands packed by hiredis (C), as redis-py's sync connections pack them; its asyncio
    connections pack in Python (redis/redis-py#4176, fix pending in #4191), which cost a
    live worker about 5 % of its CPU (decisions §41). Same bytes either way."""

    _serializer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._serializer.pack(*args)


def _packing_with_hiredis(
    connection_class: type[AbstractConnection],
) -> type[AbstractConnection]:
    """``connection_class`` (plain, TLS or Unix socket, as the URL chose it) with hiredis
    packing."""
    return type(f"Hiredis{connection_class.__name__}", (_HiredisPacking, connection_class), {})
