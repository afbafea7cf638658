"""Metrics, rules and dashboard against real tools: a worker fed by demo traffic, its /metrics
linted by ``promtool check metrics``, scraped by a real Prometheus running our rules, and every
panel query of the Grafana dashboard evaluated through Prometheus' HTTP API."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.fixtures import (
    ROOT,
    Deployment,
    Prometheus,
    Worker,
    producer,
    send_json,
    wait_for,
)

pytestmark = pytest.mark.integration

SCRAPE_INTERVAL = "1s"
RATE_INTERVAL = "5s"  # what Grafana's $__rate_interval becomes at a 1 s scrape: >= 4 samples
DASHBOARD = ROOT / "deploy/grafana/dashboards/healthstream.json"
# 40 accounts at 40 events/s: traffic keeps flowing for the whole test (the fixture stops it)
DEMO_ARGS = ("--accounts", "40", "--rate", "40", "--count", "4000")


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL expression) for every query of every panel."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def substitute(expr: str, instance: str) -> str:
    """What Grafana sends for one selected worker of the `instance` variable."""
    expr = expr.replace("$__rate_interval", RATE_INTERVAL).replace("$instance", instance)
    assert "$" not in expr, f"unknown template variable left in {expr!r}"
    return expr


def scrape_config(worker_port: int) -> dict:
    """deploy/prometheus/prometheus.yml, pointed at this test's worker and sped up."""
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    config["global"] = {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": "1s"}
    config["rule_files"] = [str(ROOT / "deploy/prometheus/rules.yml")]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "healthstream"]
    del job["dns_sd_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
    config["scrape_configs"] = [job]
    return config


@pytest.fixture
def observed(deployment: Deployment, start_worker, tmp_path) -> Iterator[tuple[Worker, Prometheus]]:
    """A worker with fast gauges and the lowest-N gauge on, demo traffic flowing, and a
    Prometheus scraping it every second."""
    deployment.extra_env |= {"HS_CENSUS_INTERVAL": "PT1S", "HS_METRICS_LOWEST_ACCOUNTS": "5"}
    worker = start_worker()
    demo = subprocess.Popen(
        [sys.executable, "-m", "stream_app", "produce-demo", *DEMO_ARGS],
        cwd=ROOT,
        env=deployment.env(worker.port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    kafka = producer(deployment.kafka_bootstrap)
    for raw in (b"not json", b'{"account_id": "acme"}'):  # two dead letters for the DLQ panel
        send_json(kafka, deployment.topics.tickets, "acme", raw)
    kafka.flush()
    kafka.close()
    prometheus = Prometheus(scrape_config(worker.port), tmp_path)
    try:
        prometheus.wait_ready()
        yield worker, prometheus
    finally:
        prometheus.stop()
        demo.terminate()
        demo.wait(30)


def test_metrics_pass_promtool_lint(observed):
    worker, _ = observed
    # scored, not only known: the lowest-N gauge holds scored accounts, and a census that
    # ran between the first events and the first tick counts accounts none of them scored
    wait_for(
        lambda: (
            worker.metric("healthscore_event_lag_seconds_count") > 0
            and worker.metric("healthscore_accounts_by_score_gcount") > 0
        ),
        90,
        "events processed and accounts scored",
    )
    status, body = worker.get("/metrics")
    assert status == 200
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=body, capture_output=True, timeout=60
    )
    assert lint.returncode == 0, (lint.stdout + lint.stderr).decode()
    text = body.decode()
    for name in (
        "healthscore_consumer_lag",
        "healthscore_batch_duration_seconds_bucket",
        "healthscore_accounts_by_score_bucket",
        "healthscore_account_score",
        "healthscore_alerts_firing",
    ):
        assert re.search(rf"^{name}\{{", text, re.M), f"{name} missing from /metrics"


def test_every_dashboard_panel_query_returns_data(observed, deployment):
    _, prometheus = observed
    up = wait_for(lambda: prometheus.query('up{job="healthstream"} == 1'), 60, "worker scraped")
    instance = up[0]["metric"]["instance"]
    # the dashboard's `instance` variable: label_values(healthscore_build_info, instance)
    variable = prometheus.api("label/instance/values", **{"match[]": "healthscore_build_info"})
    assert instance in variable
    queries = [(title, substitute(expr, instance)) for title, expr in panel_queries()]
    assert len(queries) >= 15

    def unanswered() -> list[str]:
        missing = []
        for title, expr in queries:
            values = [float(s["value"][1]) for s in prometheus.query(expr)]
            if not any(math.isfinite(v) for v in values):
                missing.append(f"{title}: {expr} -> {values}")
        return missing

    # every query: at least one series with a finite value (alert series count at 0)
    last: list[str] = []

    def all_answered() -> bool:
        nonlocal last
        last = unanswered()
        return not last

    try:
        wait_for(all_answered, 120, "every panel query to return data", interval=2)
    except AssertionError:
        raise AssertionError("panels without data:\n" + "\n".join(last)) from None

    # and the numbers mean something: traffic flowed, accounts were scored, lag is per partition
    def total(expr: str) -> float:
        return sum(float(s["value"][1]) for s in prometheus.query(expr))

    assert total('sum(rate(healthscore_events_total{outcome="processed"}[10s]))') > 0
    assert total('sum(healthscore_dlq_total{reason="not_json"})') == 1
    assert total('sum(healthscore_accounts{band!="unscored"})') > 0
    lag = prometheus.query("healthscore_consumer_lag")
    assert deployment.topics.usage in {s["metric"]["topic"] for s in lag}
    assert {s["metric"]["partition"] for s in lag} <= {"0", "1", "2"}
    assert len(prometheus.query("healthscore_account_score")) == 5


def series(worker: Worker, name: str) -> list[dict[str, str]]:
    status, body = worker.get("/metrics")
    if status != 200:
        return []
    return [
        sample.labels
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == name
    ]


def test_two_workers_split_partitions_and_count_each_account_once(deployment, start_worker):
    """Each worker serves only its own registry: the census counts an account only on the
    worker that owns its partition as an active, and consumer lag is reported only by the owner
    of each partition, so sums over workers are right."""
    accounts = 30
    deployment.extra_env |= {"HS_CENSUS_INTERVAL": "PT1S"}
    first, second = start_worker(), start_worker()
    demo = ("--accounts", str(accounts), "--rate", "200", "--count", "600")
    subprocess.run(
        [sys.executable, "-m", "stream_app", "produce-demo", *demo],
        cwd=ROOT,
        env=deployment.env(first.port),
        check=True,
        capture_output=True,
        timeout=120,
    )
    usage = deployment.topics.usage

    def settled() -> bool:
        owned = [
            {s["partition"] for s in series(w, "healthscore_consumer_lag") if s["topic"] == usage}
            for w in (first, second)
        ]
        known = sum(w.metric("healthscore_accounts") for w in (first, second))
        return (
            all(owned)
            and not owned[0] & owned[1]
            and owned[0] | owned[1] == {"0", "1", "2"}
            and known == accounts
        )

    wait_for(settled, 120, "both workers owning disjoint partitions and 30 accounts in total")
    assert first.metric("healthscore_accounts") > 0 and second.metric("healthscore_accounts") > 0
