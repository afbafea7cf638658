"""Generates ``schemas/<name>.schema.json`` from the pydantic models (the models are the source)."""

from __future__ import annotations

from pathlib import Path

import orjson

from stream_app.contracts.inputs import INPUT_MODELS
from stream_app.contracts.outputs import OUTPUT_MODELS

__all__ = ["render_schemas", "write_schemas"]

_FILE_NAMES = {
    "usage": "product_usage_event",
    "ticket": "ticket_event",
    "survey": "survey_event",
    "account": "account_profile",
    "health_score": "health_score",
    "risk_alert": "risk_alert",
    "dead_letter": "dead_letter",
}


def render_schemas() -> dict[str, bytes]:
    """File name -> canonical JSON Schema bytes (sorted keys, so diffs are stable)."""
    rendered = {}
    for kind, model in {**INPUT_MODELS, **OUTPUT_MODELS}.items():
        schema = model.model_json_schema(mode="validation")
        body = orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        rendered[f"{_FILE_NAMES[kind]}.schema.json"] = body
    return rendered


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in render_schemas().items():
        path = directory / name
        path.write_bytes(body)
        written.append(path)
    return written
