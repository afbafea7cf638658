"""The package's public surface is exactly what its modules declare."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import stream_app.scoring

MODULES = ["bands", "components", "config", "model", "signals"]


def test_package_exports_exist():
    for name in stream_app.scoring.__all__:
        assert hasattr(stream_app.scoring, name), name


@pytest.mark.parametrize("module", MODULES)
def test_module_exports_exist(module):
    loaded = importlib.import_module(f"stream_app.scoring.{module}")

    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name}"


def test_scoring_core_imports_no_streaming_or_storage_library():
    probe = (
        "import sys, stream_app.scoring; "
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'faust', 'aiokafka', 'kafka', 'redis'}))"
    )

    output = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout

    assert output.strip() == "[]"
