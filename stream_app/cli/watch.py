"""``watch``: a compact live view of a running worker: its counters and riskiest accounts.

Counters come from ``/metrics``, the accounts from ``/accounts/at-risk`` (Redis-backed), so
the view shows exactly what Prometheus and other services see.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import defaultdict
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["read_counters", "read_riskiest", "render", "render_riskiest", "watch"]

RISKIEST_SHOWN = 8


def read_counters(base_url: str) -> dict[tuple[str, str], float]:
    """(topic, outcome) -> count from ``healthscore_events_total``."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "healthscore_events_total":
                counts[(sample.labels["topic"], sample.labels["outcome"])] += sample.value
    return counts


def read_riskiest(base_url: str, limit: int = RISKIEST_SHOWN) -> list[dict[str, Any]]:
    """The lowest-scored accounts' health scores, lowest first."""
    with urllib.request.urlopen(f"{base_url}/accounts/at-risk?limit={limit}", timeout=5) as resp:
        return json.loads(resp.read())["accounts"]


def render_riskiest(accounts: list[dict[str, Any]]) -> str:
    if not accounts:
        return "no scores yet"
    lines = [f"{'account':<24}{'score':>7}{'Δ':>7}  {'band':<9}top driver"]
    for score in accounts:
        previous = score.get("previous_score")
        delta = f"{score['score'] - previous:+.1f}" if previous is not None else "new"
        driver = score["drivers"][0] if score["drivers"] else "-"
        lines.append(
            f"{score['account_id'][:23]:<24}{score['score']:>7.1f}{delta:>7}  "
            f"{score['band']:<9}{driver[:60]}"
        )
    return "\n".join(lines)


def render(
    counts: dict[tuple[str, str], float], previous: dict[tuple[str, str], float], seconds: float
) -> str:
    topics = sorted({topic for topic, _ in counts})
    outcomes = ("processed", "late", "duplicate", "invalid")
    lines = [f"{'topic':<28}" + "".join(f"{o:>11}" for o in outcomes) + f"{'events/s':>10}"]
    for topic in topics:
        total = sum(counts.get((topic, o), 0) for o in outcomes)
        before = sum(previous.get((topic, o), 0) for o in outcomes)
        rate = (total - before) / seconds if previous else 0.0
        lines.append(
            f"{topic:<28}"
            + "".join(f"{counts.get((topic, o), 0):>11.0f}" for o in outcomes)
            + f"{rate:>10.1f}"
        )
    return "\n".join(lines)


def watch(base_url: str, interval: float, iterations: int | None = None) -> None:
    previous: dict[tuple[str, str], float] = {}
    shown = 0
    while iterations is None or shown < iterations:
        try:
            counts = read_counters(base_url)
        except OSError as exc:
            print(f"[watch] {base_url} not answering: {exc}")
        else:
            print(time.strftime("%H:%M:%S"), "engine counters")
            print(render(counts, previous, interval))
            previous = counts
            try:
                riskiest = render_riskiest(read_riskiest(base_url))
            except OSError as exc:  # Redis down answers 503: say so, keep watching
                riskiest = f"riskiest accounts unavailable: {exc}"
            print("riskiest accounts (lowest score first)")
            print(riskiest, flush=True)
        shown += 1
        time.sleep(interval)
