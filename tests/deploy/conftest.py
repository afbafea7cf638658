from __future__ import annotations

import os

import pytest

from stream_app.settings import Settings


@pytest.fixture
def settings_from_env(monkeypatch):
    """Factory: the Settings a process gets from exactly these ``HS_*`` variables."""

    def build(env: dict[str, str]) -> Settings:
        for name in [n for n in os.environ if n.startswith("HS_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return Settings()

    return build
