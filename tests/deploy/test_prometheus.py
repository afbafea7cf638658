"""deploy/prometheus/ through the real ``promtool``: config, rules, rule unit tests, runbooks."""

from __future__ import annotations

import re

from tests.deploy.fixtures import DEPLOY, ROOT, load_yaml, run, tool

PROMETHEUS = DEPLOY / "prometheus"
ENGINE_ALERTS = {
    "HealthstreamWorkerDown",
    "HealthstreamConsumerLagGrowing",
    "HealthstreamNoEventsReceived",
    "HealthstreamDLQRateHigh",
    "HealthstreamRedisErrors",
    "HealthstreamScoreCoverageLow",
}


def alerts() -> list[dict]:
    groups = load_yaml(PROMETHEUS / "rules.yml")["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_scrape_config_and_rules():
    out = run(tool("promtool"), "check", "config", PROMETHEUS / "prometheus.yml").stdout
    assert "SUCCESS: 1 rule files found" in out
    out = run(tool("promtool"), "check", "rules", PROMETHEUS / "rules.yml").stdout
    assert "SUCCESS" in out


def test_promtool_rule_unit_tests_pass():
    out = run(tool("promtool"), "test", "rules", PROMETHEUS / "rules.test.yml").stdout
    assert "SUCCESS" in out


def test_every_engine_alert_exists_and_is_unit_tested():
    assert {rule["alert"] for rule in alerts()} == ENGINE_ALERTS
    tested = {
        case["alertname"]
        for test in load_yaml(PROMETHEUS / "rules.test.yml")["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert tested == ENGINE_ALERTS, "every alert needs a test in which it fires"


def github_anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_links_an_existing_runbook_section():
    runbooks = (ROOT / "docs/runbooks.md").read_text()
    anchors = {github_anchor(h) for h in re.findall(r"^#{2,3} (.+)$", runbooks, re.M)}
    for rule in alerts():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert path == "docs/runbooks.md", rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in docs/runbooks.md"
