"""All runtime configuration, read once at start-up from ``HS_*`` environment variables.

Every default here is documented in README.md ("Configuration"); secrets are ``SecretStr`` so
they never appear in a log line or a ``repr``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "TopicNames"]

KIB = 1024


class TopicNames(BaseModel):
    """Kafka topic names; the defaults are the contract in DESIGN §1."""

    model_config = ConfigDict(frozen=True)

    usage: str = "cs.product-usage.v1"
    tickets: str = "cs.tickets.v1"
    surveys: str = "cs.surveys.v1"
    accounts: str = "cs.accounts.v1"
    health_scores: str = "cs.health-scores.v1"
    risk_alerts: str = "cs.risk-alerts.v1"
    dlq: str = "cs.events-dlq.v1"

    def inputs(self) -> dict[str, str]:
        """Input topic name -> event kind."""
        return {
            self.usage: "usage",
            self.tickets: "ticket",
            self.surveys: "survey",
            self.accounts: "account",
        }

    def outputs(self) -> list[str]:
        return [self.health_scores, self.risk_alerts, self.dlq]


class Settings(BaseSettings):
    """The engine's one typed configuration object (env prefix ``HS_``)."""

    model_config = SettingsConfigDict(
        env_prefix="HS_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    app_id: str = "healthstream"
    kafka_bootstrap: str = "localhost:9092"
    # Kafka security (stream_app/kafka_auth.py): TLS and/or SASL, as brokers in production use.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None  # None: the system trust store
    kafka_ssl_certfile: Path | None = None  # client certificate, for mutual TLS
    kafka_ssl_keyfile: Path | None = None
    redis_url: SecretStr = SecretStr("redis://localhost:6379/0")
    redis_prefix: str = Field(default="hs:", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    topics: TopicNames = TopicNames()
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    data_dir: Path = Path(".local/worker")
    log_level: str = "INFO"

    max_message_bytes: int = Field(default=256 * KIB, ge=KIB)
    max_future_skew: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(hours=1)
    dedupe_horizon: timedelta = timedelta(days=7)
    dedupe_max_ids_per_account: int = Field(default=20_000, ge=16)

    scoring_config: Path = Field(
        default=Path(__file__).parent / "scoring" / "default.toml",
        description="TOML file with the score model, key features and segment overrides.",
    )
    tick_interval: timedelta = timedelta(seconds=1)
    due_budget: int = Field(default=5_000, ge=1)
    idle_advance_after: timedelta | None = timedelta(minutes=5)
    redis_flush_interval: timedelta = timedelta(milliseconds=200)

    census_interval: timedelta = Field(
        default=timedelta(seconds=15),
        description="How often the account-population and consumer-lag gauges are refreshed.",
    )
    metrics_lowest_accounts: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Export healthscore_account_score for this many lowest-scored accounts per "
        "worker (0: off). Each is one series labelled with an account id.",
    )

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @model_validator(mode="after")
    def _kafka_security(self) -> Self:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"HS_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "HS_KAFKA_SASL_USERNAME and HS_KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("HS_KAFKA_SSL_CERTFILE and HS_KAFKA_SSL_KEYFILE go together")
        return self

    @cached_property
    def broker_url(self) -> str:
        return ",".join(f"kafka://{s.strip()}" for s in self.kafka_bootstrap.split(","))

    def redacted(self) -> dict[str, object]:
        """A dump safe for logs: secrets stay masked."""
        return self.model_dump(mode="json")
