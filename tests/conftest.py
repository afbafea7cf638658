"""Shared fixtures. Integration and fault tests use the real local Kafka and Redis, which the
suite starts itself (``deploy/local/stack.sh up`` is idempotent); nothing is skipped for lack
of a broker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "localhost:9092")
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    """Start (or reuse) the local broker and Redis for the whole session."""
    subprocess.run([str(ROOT / "deploy/local/stack.sh"), "up"], check=True, cwd=ROOT)
    return {"kafka_bootstrap": KAFKA_BOOTSTRAP, "redis_url": REDIS_URL}
