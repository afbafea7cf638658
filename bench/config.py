"""The benchmark's knobs, from ``BENCH_*`` environment variables (a dev tool, not the engine:
the engine's own configuration stays in ``stream_app/settings.py``)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ROOT", "BenchConfig"]

ROOT = Path(__file__).resolve().parents[1]


def _loopback(address: str) -> str:
    """Refuse anything but this machine: the benchmark floods what it is pointed at."""
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    resolved = socket.gethostbyname(host) if host != "::1" else host
    if not ipaddress.ip_address(resolved).is_loopback:
        raise ValueError(f"{address} is not a loopback address; the benchmark runs locally only")
    return address


class BenchConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCH_", frozen=True, extra="ignore")

    quick: bool = False  # BENCH_QUICK=1: a few minutes instead of a quarter of an hour
    events: int | None = Field(default=None, ge=1_000)  # default 1M, 100k when quick
    accounts: int = Field(default=10_000, ge=10)
    days: int = Field(default=30, ge=1)  # event time the preload spans, ending now
    partitions: int = Field(default=8, ge=1)
    seed: int = 7
    latency_seconds: float | None = Field(default=None, gt=0)  # default 30 s, 12 s when quick
    probe_rate: float = Field(default=20.0, gt=0)  # new-account probes per second
    phase_timeout: float = Field(default=1800.0, gt=0)  # no phase runs longer than this
    # A consumer slower than events / measure_seconds is timed over this long and stopped:
    # the rate is then events consumed so far / time (bench/README.md, "Method").
    measure_seconds: float | None = Field(default=None, gt=0)  # default 240 s, 60 s when quick
    # events (30 days of them) the latency worker consumes before the load: default 20k, 5k quick
    latency_warmup: int | None = Field(default=None, ge=0)
    peers: str = "raw,naive_faust,quix"  # which peers to run (comma-separated; empty: none)
    scaleout: bool = True
    profile: bool = False  # py-spy the engine worker during its throughput run
    history: bool | None = None  # append to history.jsonl; default: only complete full runs
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", alias="REDIS_URL")
    quix_python: Path = ROOT / ".venv-quix" / "bin" / "python"
    results_dir: Path = ROOT / "bench" / "results"
    work_dir: Path = ROOT / ".local" / "bench"

    @field_validator("kafka_bootstrap")
    @classmethod
    def _kafka_local(cls, value: str) -> str:
        for server in value.split(","):
            _loopback(server.strip())
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_local(cls, value: str) -> str:
        _loopback(value.split("://", 1)[-1].split("/", 1)[0].split("@")[-1])
        return value

    @property
    def total_events(self) -> int:
        return self.events or (100_000 if self.quick else 1_000_000)

    @property
    def measure_window(self) -> float:
        return self.measure_seconds or (60.0 if self.quick else 240.0)

    @property
    def warmup_events(self) -> int:
        if self.latency_warmup is not None:
            return self.latency_warmup
        return 5_000 if self.quick else 20_000

    @property
    def latency_duration(self) -> float:
        return self.latency_seconds or (12.0 if self.quick else 30.0)

    @property
    def peer_names(self) -> list[str]:
        return [name.strip() for name in self.peers.split(",") if name.strip()]
