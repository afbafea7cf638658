"""The Dockerfile, read with buildkit's own parser (the ``dockerfile`` package), and the wheel
the image installs: a non-editable install must carry the package data the worker needs."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import dockerfile

from tests.deploy.fixtures import ROOT, image_env, run

DOCKERFILE = ROOT / "Dockerfile"


def final_stage() -> list[dockerfile.Command]:
    commands = dockerfile.parse_file(str(DOCKERFILE))
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def instruction(cmd: str) -> list[dockerfile.Command]:
    return [c for c in final_stage() if c.cmd == cmd]


def test_runs_the_worker_as_a_fixed_non_root_user():
    (user,) = instruction("USER")
    assert user.value == ("10001",)
    (entrypoint,) = instruction("ENTRYPOINT")
    (cmd,) = instruction("CMD")
    assert entrypoint.value + cmd.value == ("python", "-m", "stream_app", "worker")


def test_serves_http_on_all_interfaces_with_a_liveness_healthcheck():
    env = image_env()
    assert env["HS_WEB_HOST"] == "0.0.0.0"
    (expose,) = instruction("EXPOSE")
    assert expose.value == (env["HS_WEB_PORT"],)
    (healthcheck,) = instruction("HEALTHCHECK")
    assert f"127.0.0.1:{env['HS_WEB_PORT']}/livez" in " ".join(healthcheck.value)


def test_copied_sources_exist_and_are_not_docker_ignored():
    ignored = (ROOT / ".dockerignore").read_text()
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "COPY" and not any(f.startswith("--from") for f in command.flags):
            for source in command.value[:-1]:
                assert (ROOT / source).exists(), source
                assert f"!{source}" in ignored or f"!{source}/" in ignored, source


def test_the_installed_package_carries_the_score_model(tmp_path: Path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", tmp_path, ROOT)  # fmt: skip
    (wheel,) = tmp_path.glob("healthstream-*.whl")
    assert "stream_app/scoring/default.toml" in zipfile.ZipFile(wheel).namelist()
