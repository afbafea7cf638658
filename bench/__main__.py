"""``python -m bench run``: the whole benchmark of issue 6 (``make bench``); see bench/README.md.

``python -m bench latency --rate R``: the latency phase alone, at ``R`` events/s offered (where
a run offers half of its ``engine_eps``), to find the live worker's knee.

Order: preload -> engine throughput (one worker) -> latency at half of it (a second, warmed-up
worker on its own topics) -> state bytes per account -> one then two workers (scale-out) ->
raw aiokafka ceiling -> naive Faust -> Quix Streams. Every phase is bounded in time; every
topic and Redis key the run created is deleted at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import latency, report
from bench.config import BenchConfig
from bench.deployment import BenchDeployment, PeerProcess, cleanup, peak_rss_mb
from bench.machine import machine_info
from bench.preload import default_end, preload, records
from bench.profile import Profiler, format_summary
from bench.state_size import encoded_state_sizes
from bench.throughput import EVENTS, poll_events
from stream_app.cli.topics import create_topics
from tests.integration.fixtures import wait_for

log = logging.getLogger("bench")
TICK_SECONDS = 0.25  # HS_TICK_INTERVAL default: scores are debounced by up to this much
PEER_KEYS = {"raw": "raw_ceiling_eps", "naive_faust": "naive_faust_eps", "quix": "quix_eps"}


LATENCY_KEYS = (
    "p50_ms",
    "p99_ms",
    "latency_offered_eps",
    "latency_achieved_eps",
    "latency_probes",
    "latency_probes_scored",
)


class Run:
    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.run_id = f"bench-{uuid.uuid4().hex[:8]}"
        self.workdir = config.work_dir / self.run_id
        self.workdir.mkdir(parents=True)
        self.results: dict[str, Any] = {"run_id": self.run_id, "quick": config.quick}
        self.deployment = self._deployment("engine")
        self.end: datetime = default_end()

    def _deployment(self, app: str, run_id: str | None = None) -> BenchDeployment:
        c = self.config
        return BenchDeployment(
            c.kafka_bootstrap,
            c.redis_url,
            self.workdir,
            c.partitions,
            run_id or self.run_id,
            app=app,
        )

    def _load(self, deployment: BenchDeployment, events: int) -> int:
        c = self.config
        create_topics(deployment.settings())
        loaded = preload(
            c.kafka_bootstrap,
            deployment.topics,
            accounts=c.accounts,
            events=events,
            days=c.days,
            seed=c.seed,
            end=self.end,
        )
        log.info("preloaded %s in %.0f s", loaded.counts, loaded.seconds)
        return loaded.total

    # ------------------------------------------------------------------ phases

    def load(self) -> None:
        c = self.config
        total = self._load(self.deployment, c.total_events)
        self.results |= {
            "events": total,
            "accounts": c.accounts,
            "days": c.days,
            "partitions": c.partitions,
            "measure_seconds": c.measure_window,
        }

    def engine(self) -> None:
        c, target = self.config, self.results["events"]
        worker = self.deployment.start_worker()
        profiler = None
        try:
            worker.wait_ready(timeout=180)
            if c.profile:
                raw = c.results_dir / "profile-latest.pyspy.txt"
                profiler = Profiler(worker.process.pid, raw)
            samples = poll_events(
                [worker], target, measure_seconds=c.measure_window, timeout=c.phase_timeout
            )
            self.results["engine_eps"] = samples.full()
            self.results["engine_events_consumed"] = samples.consumed
            self.results["rss_mb"] = round(peak_rss_mb(worker.process.pid), 1)
            log.info("engine: %.0f events/s", self.results["engine_eps"])
        finally:
            if profiler is not None:
                summary = format_summary(profiler.stop())
                (c.results_dir / "profile-latest.txt").write_text(summary + "\n")
                print(summary)
            worker.stop()

    def latency(self, rate: float) -> None:
        """A second engine deployment on its own topics: warmed up, caught up, then loaded."""
        c = self.config
        deployment = self._deployment("engine", run_id=f"{self.run_id}-lat")
        warmup = self._load(deployment, c.warmup_events) if c.warmup_events else 0
        worker = deployment.start_worker()
        profiler = None
        try:
            worker.wait_ready(timeout=180)
            wait_for(
                lambda: worker.metric(EVENTS) >= warmup,
                timeout=c.phase_timeout,
                what="the latency worker to consume its warm-up",
            )
            if c.profile:  # live scoring, not the backlog: what sets the latency
                raw = c.results_dir / "profile-latency.pyspy.txt"
                profiler = Profiler(worker.process.pid, raw)
            topics = deployment.topics
            since = latency.end_offsets(c.kafka_bootstrap, topics.health_scores)
            sent, achieved, probes = latency.offered_load(
                c.kafka_bootstrap,
                topics,
                run_id=self.run_id,
                accounts=c.accounts,
                seed=c.seed,
                rate=rate,
                seconds=c.latency_duration,
                probe_rate=c.probe_rate,
            )
            wait_for(
                lambda: worker.metric(EVENTS) >= warmup + sent,
                timeout=120,
                what="the worker to consume the offered load",
            )
            time.sleep(2 * TICK_SECONDS + 1)  # the last tick, and its send
            result = latency.probe_latencies(
                c.kafka_bootstrap,
                topics.health_scores,
                since,
                probes,
                offered=rate,
                achieved=achieved,
                sent=sent,
            )
        finally:
            if profiler is not None:
                summary = format_summary(profiler.stop())
                (c.results_dir / "profile-latency.txt").write_text(summary + "\n")
            worker.stop()
        log.info("latency: %s", result)
        self.results |= {
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "latency_offered_eps": round(result.offered_eps),
            "latency_achieved_eps": round(result.achieved_eps),
            "latency_probes": result.probes,
            "latency_probes_scored": result.probes_scored,
        }

    def state_size(self) -> None:
        c = self.config
        size = encoded_state_sizes(
            records(c.accounts, self.results["events"], c.days, c.seed, self.end)
        )
        log.info("state: %s", size)
        self.results |= {
            "bytes_per_account": round(size.mean_bytes),
            "state_accounts": size.accounts,
            "state_bytes_p99": size.p99_bytes,
            "state_bytes_max": size.max_bytes,
        }

    def scaleout(self) -> None:
        """One worker, then two in one group, back to back under the same window rule: on a
        shared machine the load changes over a run, so engine_eps from earlier is no baseline."""
        c, target = self.config, self.results["events"]
        rates = {}
        for n in (1, 2):
            workers = [self._deployment(f"scale{n}").start_worker() for _ in range(n)]
            try:
                for worker in workers:
                    worker.wait_ready(timeout=180)
                samples = poll_events(
                    workers, target, measure_seconds=c.measure_window, timeout=c.phase_timeout
                )
            finally:
                for worker in workers:
                    worker.stop()
            rates[n] = samples.window()
            log.info("scale-out: %.0f events/s with %d worker(s)", rates[n], n)
        self.results["engine_eps_1_worker"] = rates[1]
        self.results["engine_eps_2_workers"] = rates[2]
        self.results["scaleout_ratio"] = rates[2] / rates[1]

    def peer(self, name: str) -> None:
        c, topics = self.config, self.deployment.topics
        python = c.quix_python if name == "quix" else Path(sys.executable)
        spec = {
            "bootstrap": c.kafka_bootstrap,
            "topics": [topics.usage, topics.tickets, topics.surveys],
            "expected": self.results["events"],
            "measure_seconds": c.measure_window,
            "group": f"healthstream-{self.run_id}-{name}",
            "partitions": c.partitions,
            "result": str(self.workdir / f"{name}.json"),
            "state_dir": str(self.workdir / f"{name}-state"),
        }
        result = PeerProcess(name, python, spec, self.workdir).wait_result(c.phase_timeout)
        self.results[PEER_KEYS[name]] = result["eps"]
        self.results[f"{PEER_KEYS[name]}_detail"] = result
        log.info("%s: %.0f events/s", name, result["eps"])


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def run(config: BenchConfig) -> int:
    bench = Run(config)
    bench.results["machine"] = machine_info()
    log.info(
        "run %s: %d events, %d accounts, %d days",
        bench.run_id,
        config.total_events,
        config.accounts,
        config.days,
    )
    started = time.monotonic()
    try:
        bench.load()
        bench.engine()
        bench.latency(bench.results["engine_eps"] / 2)
        bench.state_size()
        if config.scaleout:
            bench.scaleout()
        for name in config.peer_names:
            bench.peer(name)
    finally:
        topics, keys = cleanup(config.kafka_bootstrap, config.redis_url, bench.run_id)
        log.info("cleanup: deleted %d topics and %d Redis keys", topics, keys)
    bench.results["seconds"] = round(time.monotonic() - started)
    bench.results["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    results = _finite(bench.results)
    complete = not config.quick and config.scaleout and len(config.peer_names) == len(PEER_KEYS)
    history = config.history if config.history is not None else complete
    path = report.write_results(config.results_dir, results, history=history)
    print(report.format_table(bench.results))
    print(f"\nwrote {path}" + (" and appended history.jsonl" if history else ""))
    shutil.rmtree(bench.workdir, ignore_errors=True)
    return 0


def latency_alone(config: BenchConfig, rate: float) -> int:
    bench = Run(config)
    try:
        bench.latency(rate)
    finally:
        cleanup(config.kafka_bootstrap, config.redis_url, bench.run_id)
        shutil.rmtree(bench.workdir, ignore_errors=True)
    print(json.dumps(_finite({key: bench.results[key] for key in LATENCY_KEYS})))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "latency"])
    parser.add_argument("--rate", type=float, help="latency: events/s offered")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)  # retries while new topics elect leaders
    if args.command == "latency":
        if args.rate is None or args.rate <= 0:
            parser.error("latency needs --rate, a positive number of events/s")
        return latency_alone(BenchConfig(), args.rate)
    return run(BenchConfig())


if __name__ == "__main__":
    sys.exit(main())
