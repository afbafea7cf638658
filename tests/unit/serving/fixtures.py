"""Helpers for score-store tests: a throwaway redis-server and a HealthScore factory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import redis

from stream_app.contracts.outputs import HealthScore

__all__ = ["RedisServer", "free_port", "make_score"]

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_score(account_id: str, score: float, **fields: Any) -> HealthScore:
    band = "critical" if score < 40 else "at_risk" if score < 70 else "healthy"
    values: dict[str, Any] = {
        "account_id": account_id,
        "score": score,
        "band": band,
        "components": {},
        "drivers": [f"score {score}"],
        "confidence": 0.9,
        "model_version": "test-1",
        "as_of": NOW,
        "computed_at": NOW,
    }
    return HealthScore(**(values | fields))


class RedisServer:
    """A redis-server of our own on a fixed port, so a test can SIGKILL it and start it again.

    No persistence: a restarted server is empty, like a replacement node after a crash.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", *args, "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} exited at start")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise
                    time.sleep(0.05)

    def kill(self) -> None:
        """Crash it: SIGKILL, no shutdown, connections reset."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
