"""deploy/docker-compose.yml: valid against the compose-spec schema (check-jsonschema ships it,
so no network), and consistent with the image, the settings and the Prometheus/Grafana files."""

from __future__ import annotations

import re

from tests.deploy.fixtures import (
    DEPLOY,
    ROOT,
    load_yaml,
    run,
    settings_fields,
    tool,
)

COMPOSE = DEPLOY / "docker-compose.yml"
SECRETS = {"REDIS_PASSWORD": "s3cret", "GRAFANA_ADMIN_PASSWORD": "s3cret"}


def services() -> dict:
    return load_yaml(COMPOSE)["services"]


def interpolate(value: str) -> str:
    """Compose's ${VAR:?message} with this test's values for the required secrets."""
    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: SECRETS[m.group(1)], value)


def test_compose_file_matches_the_compose_spec():
    out = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", COMPOSE).stdout
    assert "ok -- validation done" in out


def test_stack_has_every_part():
    assert set(services()) == {"kafka", "redis", "worker", "prometheus", "grafana"}


def test_worker_environment_is_valid_settings(settings_from_env):
    env = {k: interpolate(v) for k, v in services()["worker"]["environment"].items()}
    assert settings_fields(env) >= {"kafka_bootstrap", "redis_url", "web_host", "partitions"}
    settings = settings_from_env(env)
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.redis_url.get_secret_value() == "redis://:s3cret@redis:6379/0"
    assert settings.web_host == "0.0.0.0"
    assert services()["worker"]["deploy"]["replicas"] <= settings.partitions


def test_worker_is_built_from_the_repository_dockerfile():
    build = services()["worker"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"


def test_bind_mounts_exist_and_feed_prometheus_and_grafana():
    mounts = {}
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} missing"
                mounts[target] = (DEPLOY / source).resolve()
    assert mounts["/etc/prometheus"] == DEPLOY / "prometheus"
    assert mounts["/etc/grafana/provisioning"] == DEPLOY / "grafana/provisioning"
    provider = load_yaml(DEPLOY / "grafana/provisioning/dashboards/healthstream.yml")
    dashboards_dir = provider["providers"][0]["options"]["path"]
    assert mounts[dashboards_dir] == DEPLOY / "grafana/dashboards"


def test_prometheus_discovers_every_worker_replica(settings_from_env):
    config = load_yaml(DEPLOY / "prometheus/prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "healthstream"]
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["worker"] and sd["type"] == "A"
    env = {k: interpolate(v) for k, v in services()["worker"]["environment"].items()}
    assert sd["port"] == settings_from_env(env).web_port
