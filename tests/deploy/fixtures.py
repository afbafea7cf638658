"""Helpers for the deployment-artefact tests: run a real validator, read YAML and JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a command-line tool; a missing one fails the test (setup.sh installs them)."""
    path = shutil.which(name) or shutil.which(name, path=str(VENV_BIN))
    assert path, f"{name} not found: run `make setup` (deploy/local/setup.sh installs it)"
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a tool; the assertion message carries its output, so a failure explains itself."""
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}{result.stderr}"
    )
    return result


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def settings_fields(env: dict[str, str]) -> set[str]:
    """The Settings fields that ``HS_*`` variables in ``env`` set; fails on a name that no
    field has (pydantic-settings would silently ignore a typo)."""
    from stream_app.settings import Settings

    fields = set()
    for name in env:
        assert name.startswith("HS_"), name
        field, _, nested = name[3:].lower().partition("__")
        assert field in Settings.model_fields, f"{name} is not a setting"
        if nested:
            model = Settings.model_fields[field].annotation
            assert nested in model.model_fields, f"{name} is not a setting"  # type: ignore[union-attr]
        fields.add(field)
    return fields


def image_env() -> dict[str, str]:
    """The ENV of the Dockerfile (set in the runtime stage), read with buildkit's parser."""
    import dockerfile

    env: dict[str, str] = {}
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "ENV":
            env |= dict(zip(command.value[::2], command.value[1::2], strict=True))
    return env
