"""All runtime configuration, read once at start-up from ``HS_*`` environment variables.

Every default here is documented in README.md ("Configuration"); secrets are ``SecretStr`` so
they never appear in a log line or a ``repr``. Each secret can also come from a file named by
``HS_<NAME>_FILE`` (a mounted Kubernetes/Docker secret), never from a command-line argument.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SECRET_FIELDS", "Settings", "TlsFiles", "TopicNames"]

KIB = 1024

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

# Secrets that may also be read from the file named by HS_<NAME>_FILE.
SECRET_FIELDS = ("redis_url", "redis_password", "kafka_sasl_password", "kafka_ssl_key_password")


def _read_secret(name: str, path: object) -> str:
    """A secret file's text without its trailing newline (``echo pw > file`` adds one)."""
    try:
        text = Path(str(path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # the message names the file, never its content
        raise ValueError(
            f"HS_{name.upper()}_FILE: cannot read {path}: {type(exc).__name__}"
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


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


class TlsFiles(BaseModel):
    """Client-side TLS towards one service: whom to trust and, for mutual TLS, who we are."""

    model_config = ConfigDict(frozen=True)

    cafile: FilePath | None = None  # PEM bundle; None: the system's CAs
    certfile: FilePath | None = None  # client certificate (mutual TLS) ...
    keyfile: FilePath | None = None  # ... and its key
    check_hostname: bool = True

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> TlsFiles:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("CERTFILE and KEYFILE go together (a client certificate and its key)")
        return self


class Settings(BaseSettings):
    """The engine's one typed configuration object (env prefix ``HS_``).

    A secret ``X`` in :data:`SECRET_FIELDS` may instead be read from the file ``X_file`` names
    (``HS_REDIS_PASSWORD_FILE=/run/secrets/redis``); setting both is an error.
    """

    model_config = SettingsConfigDict(
        env_prefix="HS_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    app_id: str = "healthstream"
    kafka_bootstrap: str = "localhost:9092"
    redis_url: SecretStr = SecretStr("redis://localhost:6379/0")
    redis_url_file: Path | None = None
    redis_prefix: str = Field(default="hs:", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # AUTH (ACL user or requirepass) and TLS; TLS is on when redis_url is rediss://
    redis_username: str | None = None
    redis_password: SecretStr | None = None
    redis_password_file: Path | None = None
    redis_ssl: TlsFiles = TlsFiles()
    redis_socket_timeout: timedelta = timedelta(seconds=5)
    topics: TopicNames = TopicNames()
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    # Kafka client security (every client: worker, topics create, producers)
    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    kafka_ssl: TlsFiles = TlsFiles()
    kafka_ssl_key_password: SecretStr | None = None
    kafka_ssl_key_password_file: Path | None = None
    # consumer-group liveness: how soon a dead worker's partitions move to another one
    broker_session_timeout: timedelta = Field(
        default=timedelta(seconds=45), ge=timedelta(seconds=2), le=timedelta(minutes=5)
    )
    broker_heartbeat_interval: timedelta = Field(
        default=timedelta(seconds=3), gt=timedelta(0), le=timedelta(minutes=1)
    )
    # warm copies of other workers' state partitions, so a failover need not replay the changelog
    table_standby_replicas: int = Field(default=1, ge=0, le=8)

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
    # how long a score waits for its tick: the bulk of the end-to-end latency when live
    tick_interval: timedelta = timedelta(milliseconds=250)
    # due (midnight) re-scores per tick: spreads a midnight over ticks without stalling the
    # scores of accounts that just had events (40 per tick: 10k accounts in about a minute)
    due_budget: int = Field(default=40, ge=1)
    catchup_lag: timedelta | None = Field(
        default=timedelta(hours=6),
        description="Event time this far behind the wall clock is a catch-up: scoring is "
        "budgeted (HS_CATCHUP_BUDGET) and midnight re-scores wait (None: never).",
    )
    catchup_budget: int = Field(
        default=25,
        ge=1,
        description="Accounts touched only by usage events evaluated per tick during catch-up.",
    )
    idle_advance_after: timedelta | None = timedelta(minutes=5)
    gc_freeze: bool = Field(
        default=False,
        description="Freeze the objects that survive a full garbage collection out of the next "
        "ones (the account states), so full collections stay short (stream_app/gc_policy.py). "
        "Off by default: with it on, two of three CI runs had a worker hang after a restart "
        "(decisions §37).",
    )
    gc_thaw_interval: timedelta = Field(
        default=timedelta(hours=1),
        gt=timedelta(0),
        description="How often the frozen objects are handed back for one complete collection.",
    )
    redis_flush_interval: timedelta = timedelta(milliseconds=200)
    producer_linger: timedelta = Field(
        default=timedelta(milliseconds=5), ge=timedelta(0), le=timedelta(seconds=1)
    )
    input_batch_max: int = Field(
        default=2_000,
        ge=1,
        description="Input records taken per batch; an account's state is written to the "
        "changelog once per batch it was touched in.",
    )
    input_batch_within: timedelta = Field(
        default=timedelta(milliseconds=50), gt=timedelta(0), le=timedelta(seconds=5)
    )
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

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name in SECRET_FIELDS:
            path = data.get(f"{name}_file")
            if path is None or path == "":
                continue
            if data.get(name) not in (None, ""):
                raise ValueError(f"set HS_{name.upper()} or HS_{name.upper()}_FILE, not both")
            data = {**data, name: _read_secret(name, path)}
        return data

    @model_validator(mode="after")
    def _consistent_security(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and (not self.kafka_sasl_username or self.kafka_sasl_password is None):
            raise ValueError(
                f"HS_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "HS_KAFKA_SASL_USERNAME and HS_KAFKA_SASL_PASSWORD (or _FILE)"
            )
        if self.broker_heartbeat_interval * 2 > self.broker_session_timeout:
            raise ValueError(
                "HS_BROKER_HEARTBEAT_INTERVAL must be at most half the session timeout"
            )
        return self

    @property
    def redis_tls(self) -> bool:
        return self.redis_url.get_secret_value().startswith("rediss://")

    @property
    def kafka_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def rekey_topic(self) -> str:
        """Internal topic that moves badly keyed records to their account's partition."""
        return f"{self.app_id}-events-by-account"

    @cached_property
    def broker_url(self) -> str:
        return ",".join(f"kafka://{s.strip()}" for s in self.kafka_bootstrap.split(","))

    def redacted(self) -> dict[str, object]:
        """A dump safe for logs: secrets stay masked."""
        return self.model_dump(mode="json")
