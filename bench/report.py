"""The run's table (with the issue's targets as ratios), latest.json and history.jsonl."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["format_table", "targets", "write_results"]

KIB = 1024


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(r: dict[str, Any]) -> list[tuple[str, float | None, str, bool | None]]:
    """(name, value, target, met) for each target of issue 6."""
    engine = r.get("engine_eps")
    rows = [
        ("engine/naive_faust", _ratio(engine, r.get("naive_faust_eps")), ">= 3.0", 3.0),
        ("engine/quix", _ratio(engine, r.get("quix_eps")), ">= 1.0", 1.0),
        ("engine/raw_ceiling", _ratio(engine, r.get("raw_ceiling_eps")), ">= 0.5", 0.5),
        ("scaleout 2w/1w", r.get("scaleout_ratio"), "~ 2.0 (>= 1.6)", 1.6),
    ]
    out = [
        (name, value, text, None if value is None else value >= floor)
        for name, value, text, floor in rows
    ]
    p99 = r.get("p99_ms")
    out.append(("p99 latency ms", p99, "<= 1000", None if p99 is None else p99 <= 1000))
    per_account = r.get("bytes_per_account")
    out.append(
        (
            "state bytes/account",
            per_account,
            "<= 2048",
            None if per_account is None else per_account <= 2 * KIB,
        )
    )
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def format_table(r: dict[str, Any]) -> str:
    lines = ["", f"{'measure':<22}{'value':>14}"]
    for key in (
        "engine_eps",
        "raw_ceiling_eps",
        "naive_faust_eps",
        "quix_eps",
        "p50_ms",
        "p99_ms",
        "rss_mb",
        "bytes_per_account",
        "engine_eps_1_worker",
        "engine_eps_2_workers",
    ):
        lines.append(f"{key:<22}{_fmt(r.get(key)):>14}")
    lines += ["", f"{'target':<22}{'value':>14}  {'wanted':<16}met"]
    for name, value, text, met in targets(r):
        verdict = "-" if met is None else ("yes" if met else "NO")
        lines.append(f"{name:<22}{_fmt(value):>14}  {text:<16}{verdict}")
    return "\n".join(lines)


def write_results(results_dir: Path, r: dict[str, Any], *, history: bool) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    latest = results_dir / "latest.json"
    latest.write_text(json.dumps(r, indent=2, default=str) + "\n")
    if history:
        with (results_dir / "history.jsonl").open("a") as handle:
            handle.write(json.dumps(r, separators=(",", ":"), default=str) + "\n")
    return latest
