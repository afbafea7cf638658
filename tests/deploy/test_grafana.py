"""deploy/grafana/: the dashboard only queries metrics the code exports (or our recording
rules record), through its datasource and instance variables; provisioning points at it.
Whether each query returns data is tested live in tests/integration/test_observability.py."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from stream_app.metrics import create_metrics
from tests.deploy.fixtures import DEPLOY, load_json, load_yaml

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards/healthstream.json"
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}
METRIC = re.compile(r"\b([a-z_]+:)?(healthscore_[a-z_]+)(:[a-z0-9_]+)?\b")


def exported_series_names() -> set[str]:
    metrics = create_metrics(CollectorRegistry())
    return {
        family.name + suffix
        for family in metrics.registry.collect()
        for suffix in SUFFIXES[family.type]
    }


def recorded_names() -> set[str]:
    groups = load_yaml(DEPLOY / "prometheus/rules.yml")["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def targets() -> list[tuple[dict, dict]]:
    return [
        (panel, target)
        for panel in load_json(DASHBOARD)["panels"]
        for target in panel.get("targets", [])
    ]


def test_every_query_uses_exported_or_recorded_metrics():
    exported, recorded = exported_series_names(), recorded_names()
    used = set()
    for panel, target in targets():
        names = {"".join(m) for m in METRIC.findall(target["expr"])}
        if not names:  # Prometheus' own scrape health, the one series we do not export
            assert 'up{job="healthstream"' in target["expr"], panel["title"]
            continue
        unknown = names - exported - recorded
        assert not unknown, f"{panel['title']}: {sorted(unknown)} are neither exported nor recorded"
        used |= names
    # the dashboard shows every metric family of DESIGN §6
    families = {re.sub(r"_(total|bucket|sum|count|gsum|gcount)$", "", n) for n in used}
    assert {f.name for f in create_metrics(CollectorRegistry()).registry.collect()} - families == {
        "healthscore_build_info"  # used by the instance variable instead
    }


def test_panels_follow_the_template_variables():
    dashboard = load_json(DASHBOARD)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    instance = variables["instance"]
    assert instance["query"]["query"] == "label_values(healthscore_build_info, instance)"
    assert instance["includeAll"] and instance["allValue"] == ".*"
    for panel, target in targets():
        assert panel["datasource"]["uid"] == target["datasource"]["uid"] == "${datasource}"
        fleet_wide = all(":" in "".join(m) for m in METRIC.findall(target["expr"]))
        if not fleet_wide:  # recording rules are per job: the instance filter does not apply
            assert 'instance=~"$instance"' in target["expr"], panel["title"]


def test_layout_is_consistent():
    panels = load_json(DASHBOARD)["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["type"] == "row" or panel["description"], f"{panel['title']}: describe it"


def test_provisioning_loads_the_dashboard_from_prometheus():
    (source,) = load_yaml(GRAFANA / "provisioning/datasources/prometheus.yml")["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    (provider,) = load_yaml(GRAFANA / "provisioning/dashboards/healthstream.yml")["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
