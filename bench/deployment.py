"""One benchmark run's isolated names and processes on the shared local broker and Redis.

Reuses the integration tests' ``Deployment``/``Worker`` (a real ``python -m stream_app worker``
process with its own app id, topics and Redis prefix); a run only changes the names, so several
engine deployments (one worker, then two) can read the same preloaded topics.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.config import ROOT
from tests.integration.fixtures import Deployment, Worker, delete_run

__all__ = ["BenchDeployment", "PeerProcess", "cleanup", "peak_rss_mb"]


@dataclass
class BenchDeployment(Deployment):
    """``app`` names the consumer group (engine, scale2, ...); topics are the run's."""

    app: str = "engine"

    @property
    def app_id(self) -> str:
        return f"healthstream-{self.run_id}-{self.app}"

    @property
    def redis_prefix(self) -> str:
        return f"hs-{self.run_id}-{self.app}:"

    def env(self, web_port: int) -> dict[str, str]:
        # INFO, the engine's default: at WARNING Faust's worker installs its terminal spinner,
        # which lowers the root logger to DEBUG and formats every aiokafka debug line (~5 %).
        # BENCH_HS_<NAME>=value sets HS_<NAME> for the engine's workers only: settings are
        # compared in one harness (every other HS_ variable is kept away from the workers)
        overrides = {
            name.removeprefix("BENCH_"): value
            for name, value in os.environ.items()
            if name.startswith("BENCH_HS_")
        }
        return (
            super().env(web_port) | {"HS_APP_ID": self.app_id, "HS_LOG_LEVEL": "INFO"} | overrides
        )

    def start_worker(self) -> Worker:
        return Worker(self)


class PeerProcess:
    """A peer (``bench/peers/<name>.py``) in its own session; waits for its result file."""

    def __init__(self, name: str, python: Path, spec: dict[str, Any], workdir: Path) -> None:
        self.name = name
        self.result = Path(spec["result"])
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(python), "-m", f"bench.peers.{name}", json.dumps(spec)],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("HS_")},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_result(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        try:
            while not self.result.exists():
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited {self.process.returncode}:\n{self.tail()}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{self.name}: no result after {timeout:.0f}s\n{self.tail()}"
                    )
                time.sleep(0.2)
            return json.loads(self.result.read_text())
        finally:
            self.stop()

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


def peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cleanup(bootstrap: str, redis_url: str, run_id: str) -> tuple[int, int]:
    """Delete every topic and Redis key this run created (their names carry ``run_id``)."""
    return delete_run(bootstrap, redis_url, run_id, f"hs-{run_id}-")
