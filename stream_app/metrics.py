"""Every Prometheus metric the engine exports, declared in one place (DESIGN §6).

Built by :func:`create_metrics` against a registry so tests use a fresh ``CollectorRegistry``.
Each worker process owns one registry and serves it on its own HTTP port; Prometheus scrapes
every worker and tells them apart by the ``instance`` label, so no multiprocess mode is needed
(a worker is one process).

Label values come only from closed sets: configured topic names, :class:`Outcome`, the
``ErrorClass`` literal, bands, configured alert-rule names, severities and statuses, and
partition numbers below ``HS_PARTITIONS``. Nothing a producer sends ever becomes a label value,
with one opt-in exception: ``healthscore_account_score{account_id}`` for at most
``HS_METRICS_LOWEST_ACCOUNTS`` accounts per worker (account ids are validated identifiers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.metrics_core import GaugeHistogramMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel

from stream_app import __version__
from stream_app.contracts.inputs import InputEvent
from stream_app.contracts.outputs import Band, ErrorClass, RiskAlert
from stream_app.ingest.ingestor import Outcome
from stream_app.observability.census import UNSCORED, Census

__all__ = [
    "ALERT_STATUSES",
    "DEFAULT_ALERT_RULES",
    "SEVERITIES",
    "EngineMetrics",
    "GaugeHistogram",
    "create_metrics",
]

PREFIX = "healthscore"

# The text format would add a `*_created` gauge next to every counter and histogram, doubling
# their series for a timestamp nothing here reads (rate() copes with restarts on its own).
# Process-wide on purpose: a worker is one process with one registry.
disable_created_metrics()

SEVERITIES: tuple[str, ...] = get_args(RiskAlert.model_fields["severity"].annotation)
ALERT_STATUSES: tuple[str, ...] = get_args(RiskAlert.model_fields["status"].annotation)
# DESIGN §5: stable rule identifiers subscribers route on. With several NSMs configured the
# NSM rule becomes `nsm_decline:<name>`; the engine passes its configured list to
# `set_alerts_firing`, these defaults only make the series exist before it does.
DEFAULT_ALERT_RULES = (
    "nsm_decline",
    "band_critical",
    "score_drop",
    "urgent_ticket_burst",
    "detractor_response",
)

# Event time -> processing: sub-second when live, minutes to a day while catching up a backlog.
EVENT_LAG_BUCKETS = (
    *(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    *(120, 300, 600, 1800, 3600, 7200, 21600, 86400),
)
# One score tick: a few accounts take milliseconds; a UTC midnight with 100k due accounts,
# seconds (the due budget spreads it).
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class GaugeHistogram(Collector):
    """An OpenMetrics gauge histogram: the *current* distribution of a population (here, the
    accounts' latest scores), which may shrink as well as grow. prometheus_client has the
    family type but no settable metric for it; the Prometheus text format exposes it as
    ``histogram`` buckets, so ``histogram_quantile`` works on it directly (never ``rate`` it).
    """

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self._buckets: list[tuple[str, float]] = [("+Inf", 0.0)]
        self._sum = 0.0
        registry.register(self)

    def set(self, cumulative: Iterable[tuple[float, int]], total: int, sum_value: float) -> None:
        self._buckets = [(f"{bound:g}", float(n)) for bound, n in cumulative]
        self._buckets.append(("+Inf", float(total)))
        self._sum = sum_value

    def collect(self) -> Iterable[GaugeHistogramMetricFamily]:
        yield GaugeHistogramMetricFamily(
            self.name, self.documentation, buckets=self._buckets, gsum_value=self._sum
        )


@dataclass(frozen=True)
class EngineMetrics:
    registry: CollectorRegistry
    events: Counter
    dlq: Counter
    scores: Counter
    redis_errors: Counter
    skipped_records: Counter
    build_info: Gauge
    event_lag: Histogram
    batch_duration: Histogram
    consumer_lag: Gauge
    accounts: Gauge
    coverage: Gauge
    score_distribution: GaugeHistogram
    account_score: Gauge
    alerts: Counter
    alerts_firing: Gauge

    # ------------------------------------------------------------------ input side

    def count(self, topic: str, outcome: Outcome, error_class: str | None = None) -> None:
        self.events.labels(topic, outcome.value).inc()
        if error_class is not None:
            self.dlq.labels(topic, error_class).inc()

    def observe_event_lag(self, record: BaseModel | None, now: datetime) -> None:
        """Event time -> processing for an input event (profiles carry no event time)."""
        if isinstance(record, InputEvent):
            # an event up to HS_MAX_FUTURE_SKEW ahead of our clock has no lag, not a negative one
            self.event_lag.observe(max((now - record.occurred_at).total_seconds(), 0.0))

    def set_consumer_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace every series: partitions revoked in a rebalance must stop being reported
        here, or summing over workers would count them twice."""
        self.consumer_lag.clear()
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)

    # ------------------------------------------------------------------ the customer base

    def set_population(self, census: Census) -> None:
        """Customer-base gauges from a census of the accounts this worker owns."""
        for band in (*get_args(Band), UNSCORED):
            self.accounts.labels(band).set(census.by_band.get(band, 0))
        self.coverage.set(census.coverage)
        self.score_distribution.set(census.scores_at_most(), census.scored, census.score_sum)
        # replaced whole: accounts that left the lowest N must not linger as stale series
        self.account_score.clear()
        for account_id, score in census.lowest:
            self.account_score.labels(account_id).set(score)

    # ------------------------------------------------------------------ risk alerts

    def alert_published(self, rule: str, severity: str, status: str) -> None:
        self.alerts.labels(rule, severity, status).inc()

    def set_alerts_firing(
        self, counts: Mapping[tuple[str, str], int], rules: Iterable[str]
    ) -> None:
        """Set every (rule, severity) series of the configured ``rules``; absent pairs are 0,
        so a resolved rule drops to 0 instead of keeping its last value."""
        for rule in rules:
            for severity in SEVERITIES:
                self.alerts_firing.labels(rule, severity).set(counts.get((rule, severity), 0))
        for (rule, severity), count in counts.items():
            self.alerts_firing.labels(rule, severity).set(count)

    # ------------------------------------------------------------------ start-up

    def prime(self, topics: list[str], rules: Iterable[str] = DEFAULT_ALERT_RULES) -> None:
        """Create every series at 0 so rates and alerts work before the first event."""
        for topic in topics:
            for outcome in Outcome:
                self.events.labels(topic, outcome.value)
            for reason in get_args(ErrorClass):
                self.dlq.labels(topic, reason)
        for band in get_args(Band):
            self.scores.labels(band)
        rules = tuple(rules)
        for rule in rules:
            for severity in SEVERITIES:
                for status in ALERT_STATUSES:
                    self.alerts.labels(rule, severity, status)
        self.set_alerts_firing({}, rules)
        self.set_population(Census())


def create_metrics(registry: CollectorRegistry | None = None) -> EngineMetrics:
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)

    def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
        return Counter(f"{PREFIX}_{name}", doc, list(labels), registry=registry)

    def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", doc, list(labels), registry=registry)

    metrics = EngineMetrics(
        registry=registry,
        events=counter(
            "events",
            "Input records by topic and outcome (processed, late, duplicate, invalid).",
            ["topic", "outcome"],
        ),
        dlq=counter(
            "dlq",
            "Records sent to the dead-letter topic, by source topic and reason.",
            ["topic", "reason"],
        ),
        scores=counter("scores_emitted", "Health scores published, by band.", ["band"]),
        redis_errors=counter(
            "redis_errors", "Failed Redis writes or reads (writes are retried until they land)."
        ),
        skipped_records=counter(
            "records_refetched",
            "Input records the consumer skipped that the worker read back from the broker "
            "(decisions §28); anything above 0 is worth a look.",
        ),
        build_info=gauge("build_info", "Build information; always 1.", ["version"]),
        event_lag=Histogram(
            f"{PREFIX}_event_lag_seconds",
            "Seconds from an input event's occurred_at to its processing by this worker.",
            buckets=EVENT_LAG_BUCKETS,
            registry=registry,
        ),
        batch_duration=Histogram(
            f"{PREFIX}_batch_duration_seconds",
            "Seconds one score tick takes: re-score changed and due accounts, publish scores.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        ),
        consumer_lag=gauge(
            "consumer_lag",
            "Records not yet committed by this worker: high watermark minus committed offset, "
            "per assigned input partition.",
            ["topic", "partition"],
        ),
        accounts=gauge(
            "accounts",
            "Accounts owned by this worker, by band of their latest score ('unscored': none yet).",
            ["band"],
        ),
        coverage=gauge(
            "coverage_ratio", "Share of the accounts owned by this worker that have a score."
        ),
        score_distribution=GaugeHistogram(
            f"{PREFIX}_accounts_by_score",
            "Scored accounts owned by this worker by latest score: bucket le counts scores <= le.",
            registry,
        ),
        account_score=gauge(
            "account_score",
            "Latest score of the HS_METRICS_LOWEST_ACCOUNTS lowest-scored accounts of this "
            "worker (opt-in, capped; empty by default).",
            ["account_id"],
        ),
        alerts=counter(
            "alerts",
            "Risk alerts published, by rule, severity and status (firing or resolved).",
            ["rule", "severity", "status"],
        ),
        alerts_firing=gauge(
            "alerts_firing",
            "Risk alerts currently firing, by rule and severity.",
            ["rule", "severity"],
        ),
    )
    metrics.build_info.labels(__version__).set(1)
    return metrics
