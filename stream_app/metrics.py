"""Every Prometheus metric the engine exports, declared in one place (DESIGN §6).

Built by :func:`create_metrics` against a registry so tests use a fresh ``CollectorRegistry``.
Label values come only from closed sets (configured topic names, :class:`Outcome`, the
``ErrorClass`` literal); nothing a producer sends ever becomes a label value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Gauge

from stream_app import __version__
from stream_app.contracts.outputs import Band, ErrorClass
from stream_app.ingest.ingestor import Outcome

__all__ = ["EngineMetrics", "create_metrics"]

PREFIX = "healthscore"


@dataclass(frozen=True)
class EngineMetrics:
    registry: CollectorRegistry
    events: Counter
    dlq: Counter
    scores: Counter
    redis_errors: Counter
    build_info: Gauge

    def count(self, topic: str, outcome: Outcome, error_class: str | None = None) -> None:
        self.events.labels(topic, outcome.value).inc()
        if error_class is not None:
            self.dlq.labels(topic, error_class).inc()

    def prime(self, topics: list[str]) -> None:
        """Create every series at 0 so rates and alerts work before the first event."""
        for topic in topics:
            for outcome in Outcome:
                self.events.labels(topic, outcome.value)
            for reason in get_args(ErrorClass):
                self.dlq.labels(topic, reason)
        for band in get_args(Band):
            self.scores.labels(band)


def create_metrics(registry: CollectorRegistry | None = None) -> EngineMetrics:
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
    metrics = EngineMetrics(
        registry=registry,
        events=Counter(
            f"{PREFIX}_events",
            "Input records by topic and outcome (processed, late, duplicate, invalid).",
            ["topic", "outcome"],
            registry=registry,
        ),
        dlq=Counter(
            f"{PREFIX}_dlq",
            "Records sent to the dead-letter topic, by source topic and reason.",
            ["topic", "reason"],
            registry=registry,
        ),
        scores=Counter(
            f"{PREFIX}_scores_emitted",
            "Health scores published, by band.",
            ["band"],
            registry=registry,
        ),
        redis_errors=Counter(
            f"{PREFIX}_redis_errors",
            "Failed Redis writes or reads (writes are retried until they land).",
            registry=registry,
        ),
        build_info=Gauge(
            f"{PREFIX}_build_info", "Build information; always 1.", ["version"], registry=registry
        ),
    )
    metrics.build_info.labels(__version__).set(1)
    return metrics
