"""The committed ``schemas/`` must match the models: regenerate with ``make schemas``."""

from __future__ import annotations

from pathlib import Path

from stream_app.contracts.export import render_schemas, write_schemas

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_committed_schemas_match_the_models():
    rendered = render_schemas()
    committed = {p.name: p.read_bytes() for p in SCHEMAS.glob("*.schema.json")}
    assert sorted(committed) == sorted(rendered), "schema files added or removed: run make schemas"
    drifted = [name for name, body in rendered.items() if committed[name] != body]
    assert not drifted, f"schemas drifted from the models: {drifted}; run make schemas"


def test_export_writes_every_schema(tmp_path):
    written = write_schemas(tmp_path)
    assert {p.name for p in written} == set(render_schemas())
    assert all(p.read_bytes().startswith(b"{") for p in written)
