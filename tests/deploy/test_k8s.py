"""deploy/k8s/: built-in kinds validated strictly by kubernetes-validate (Kubernetes' schemas,
bundled), the ServiceMonitor by the schema generated from the Prometheus Operator's CRD
(@kubernetes-models/prometheus-operator, tests/deploy/node), and the pieces agree."""

from __future__ import annotations

import json
import subprocess

import dockerfile

from tests.deploy.fixtures import (
    DEPLOY,
    ROOT,
    image_env,
    load_yaml,
    run,
    settings_fields,
    tool,
)

K8S = DEPLOY / "k8s"
NODE_CHECKS = ROOT / "tests/deploy/node"
CRD_KINDS = {"ServiceMonitor"}


def manifests() -> dict[str, dict]:
    """kind -> manifest, for every file the kustomization applies."""
    kustomization = load_yaml(K8S / "kustomization.yaml")
    docs = [load_yaml(K8S / name) for name in kustomization["resources"]]
    return {doc["kind"]: doc for doc in docs}


def test_kustomization_applies_every_manifest():
    listed = set(load_yaml(K8S / "kustomization.yaml")["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_builtin_kinds_pass_strict_kubernetes_schemas():
    files = [
        K8S / name
        for name in load_yaml(K8S / "kustomization.yaml")["resources"]
        if load_yaml(K8S / name)["kind"] not in CRD_KINDS
    ]
    out = run(tool("kubernetes-validate"), "--strict", *files)
    report = out.stdout + out.stderr
    assert report.count(" passed for resource ") == len(files), report
    assert "Couldn't find schema" not in report


def test_service_monitor_passes_the_operator_crd_schema():
    docs = [doc for doc in manifests().values() if doc["kind"] in CRD_KINDS]
    assert (NODE_CHECKS / "node_modules").is_dir(), "run `make setup` (setup.sh node-checks)"
    result = subprocess.run(
        [tool("node"), "validate_crd.mjs"],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        cwd=NODE_CHECKS,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": valid") == len(docs) == 1


def pod_spec() -> dict:
    return manifests()["Deployment"]["spec"]["template"]["spec"]


def container() -> dict:
    (worker,) = pod_spec()["containers"]
    return worker


def test_configmap_and_secret_refs_are_settings(settings_from_env):
    config = manifests()["ConfigMap"]["data"]
    secret_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container()["env"]}
    assert settings_fields(config)
    assert settings_fields(dict.fromkeys(secret_env, "")) == {
        "redis_url",
        "kafka_sasl_username",
        "kafka_sasl_password",
    }
    settings = settings_from_env(
        config
        | {"HS_REDIS_URL": "redis://:pw@redis:6379/0"}
        | {"HS_KAFKA_SASL_USERNAME": "healthstream", "HS_KAFKA_SASL_PASSWORD": "pw"}
    )
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.web_host == "0.0.0.0"
    replicas = manifests()["Deployment"]["spec"]["replicas"]
    assert 1 < replicas <= settings.partitions, "workers beyond the partition count sit idle"


def test_probes_hit_livez_and_readyz_on_the_http_port():
    worker = container()
    (port,) = worker["ports"]
    assert port["name"] == "http" and port["containerPort"] == 6066
    probes = {k: worker[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert {p["port"] for p in probes.values()} == {"http"}
    assert probes["livenessProbe"]["path"] == "/livez"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert set(worker["resources"]["requests"]) == {"cpu", "memory"}
    assert "memory" in worker["resources"]["limits"]


def test_service_and_service_monitor_select_the_workers():
    labels = manifests()["Deployment"]["spec"]["template"]["metadata"]["labels"]
    service = manifests()["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    monitor = manifests()["ServiceMonitor"]["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["endpoints"][0]["path"] == "/metrics"
    # the rules and dashboard filter on job="healthstream": the operator uses the Service name
    assert service["metadata"]["name"] == "healthstream"
    pdb = manifests()["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


def test_pod_runs_the_image_user_with_a_writable_data_dir():
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    image_user = [c.value[0] for c in commands if c.cmd == "USER"][-1]
    assert str(pod_spec()["securityContext"]["runAsUser"]) == image_user
    assert container()["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container()["volumeMounts"]}
    assert image_env()["HS_DATA_DIR"] in mounts, "Faust writes its data dir: mount it writable"
