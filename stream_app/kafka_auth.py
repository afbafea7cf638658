"""Kafka connection security (TLS, SASL) from :class:`Settings`, for both Kafka clients we use:
Faust/aiokafka in the worker, kafka-python in the CLI (``topics create``, ``produce-demo``,
``replay``). One TLS context serves both, so they trust and present the same certificates."""

from __future__ import annotations

import ssl

from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT

from stream_app.settings import Settings

__all__ = ["faust_credentials", "kafka_python_options", "ssl_context"]


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile is not None:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


def _password(settings: Settings) -> str | None:
    secret = settings.kafka_sasl_password
    return secret.get_secret_value() if secret is not None else None


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """``broker_credentials`` for ``faust.App``; None for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "SSL":
        return SSLCredentials(ssl_context(settings))
    if protocol.startswith("SASL_"):
        # SASLCredentials switches to SASL_SSL when given a TLS context
        return SASLCredentials(
            username=settings.kafka_sasl_username,
            password=_password(settings),
            ssl_context=ssl_context(settings),
            mechanism=settings.kafka_sasl_mechanism,
        )
    return None


def kafka_python_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments for kafka-python's producer and admin client."""
    options: dict[str, object] = {"security_protocol": settings.kafka_security_protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": _password(settings),
        }
    return options
