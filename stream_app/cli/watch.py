"""``watch``: a compact live view of a running worker, read from its ``/metrics``."""

from __future__ import annotations

import time
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["read_counters", "watch"]


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
            print(render(counts, previous, interval), flush=True)
            previous = counts
        shown += 1
        time.sleep(interval)
