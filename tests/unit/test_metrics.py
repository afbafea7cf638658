"""The metric catalogue: names, types, label sets, and the helpers the engine calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from stream_app.contracts.inputs import AccountProfile, ProductUsageEvent
from stream_app.ingest import Outcome
from stream_app.metrics import DEFAULT_ALERT_RULES, SEVERITIES, create_metrics
from stream_app.observability.census import Census

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def samples(metrics) -> dict[tuple[str, frozenset], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def series(metrics, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (n, labels) in samples(metrics) if n == name]


def primed():
    metrics = create_metrics(CollectorRegistry())
    metrics.prime(["cs.product-usage.v1"])
    return metrics


def test_catalogue_follows_prometheus_naming():
    metrics = primed()
    families = {f.name: f.type for f in metrics.registry.collect()}
    assert all(name.startswith("healthscore_") for name in families)
    assert families == {
        "healthscore_events": "counter",
        "healthscore_dlq": "counter",
        "healthscore_scores_emitted": "counter",
        "healthscore_redis_errors": "counter",
        "healthscore_records_refetched": "counter",
        "healthscore_alerts": "counter",
        "healthscore_build_info": "gauge",
        "healthscore_consumer_lag": "gauge",
        "healthscore_accounts": "gauge",
        "healthscore_coverage_ratio": "gauge",
        "healthscore_accounts_by_score": "gaugehistogram",
        "healthscore_account_score": "gauge",
        "healthscore_alerts_firing": "gauge",
        "healthscore_event_lag_seconds": "histogram",
        "healthscore_batch_duration_seconds": "histogram",
    }


def test_alert_series_are_primed_at_zero_for_the_default_rules():
    metrics = primed()
    firing = series(metrics, "healthscore_alerts_firing")
    assert len(firing) == len(DEFAULT_ALERT_RULES) * len(SEVERITIES) == 15
    assert all(value(metrics, "healthscore_alerts_firing", **s) == 0 for s in firing)
    published = series(metrics, "healthscore_alerts_total")
    assert len(published) == 5 * 3 * 2
    assert {s["status"] for s in published} == {"firing", "resolved"}


def test_alerts_published_and_firing():
    metrics = primed()
    metrics.alert_published("score_drop", "warning", "firing")
    metrics.alert_published("score_drop", "warning", "firing")
    assert (
        value(
            metrics,
            "healthscore_alerts_total",
            rule="score_drop",
            severity="warning",
            status="firing",
        )
        == 2
    )
    rules = ["nsm_decline:wau", "band_critical"]
    metrics.set_alerts_firing({("nsm_decline:wau", "critical"): 3}, rules)
    assert (
        value(metrics, "healthscore_alerts_firing", rule="nsm_decline:wau", severity="critical")
        == 3
    )
    # resolved since: absent from the counts, so back to 0 rather than stuck at 3
    metrics.set_alerts_firing({("band_critical", "critical"): 1}, rules)
    assert (
        value(metrics, "healthscore_alerts_firing", rule="nsm_decline:wau", severity="critical")
        == 0
    )
    assert value(metrics, "healthscore_alerts_firing", rule="band_critical", severity="info") == 0


def test_consumer_lag_forgets_revoked_partitions():
    metrics = primed()
    metrics.set_consumer_lag({("cs.tickets.v1", 0): 5, ("cs.tickets.v1", 1): 7})
    assert value(metrics, "healthscore_consumer_lag", topic="cs.tickets.v1", partition="1") == 7
    metrics.set_consumer_lag({("cs.tickets.v1", 0): 2})  # partition 1 went to another worker
    assert series(metrics, "healthscore_consumer_lag") == [
        {"topic": "cs.tickets.v1", "partition": "0"}
    ]


def test_population_gauges():
    metrics = primed()
    assert value(metrics, "healthscore_coverage_ratio") == 1.0
    assert value(metrics, "healthscore_accounts", band="critical") == 0
    census = Census(
        by_band={"healthy": 3, "critical": 1, "unscored": 1},
        per_bucket=(1, 0, 0, 0, 0, 0, 0, 2, 0, 1),
        lowest=(("acme", 5.0), ("globex", 71.5)),
        score_sum=5.0 + 71.5 + 72.0 + 100.0,
    )
    metrics.set_population(census)
    assert value(metrics, "healthscore_accounts", band="healthy") == 3
    assert value(metrics, "healthscore_accounts", band="unscored") == 1
    assert value(metrics, "healthscore_accounts", band="at_risk") == 0
    assert value(metrics, "healthscore_coverage_ratio") == 0.8
    assert value(metrics, "healthscore_accounts_by_score_bucket", le="10") == 1
    assert value(metrics, "healthscore_accounts_by_score_bucket", le="80") == 3
    assert value(metrics, "healthscore_accounts_by_score_bucket", le="100") == 4
    assert value(metrics, "healthscore_accounts_by_score_bucket", le="+Inf") == 4
    assert value(metrics, "healthscore_accounts_by_score_gcount") == 4
    assert value(metrics, "healthscore_accounts_by_score_gsum") == 248.5
    assert value(metrics, "healthscore_account_score", account_id="acme") == 5.0
    metrics.set_population(Census(by_band={"healthy": 1}, lowest=(("initech", 80.0),)))
    assert series(metrics, "healthscore_account_score") == [{"account_id": "initech"}]


def test_account_score_is_off_by_default():
    assert series(primed(), "healthscore_account_score") == []


def event(occurred_at: datetime) -> ProductUsageEvent:
    return ProductUsageEvent(
        event_id="e1", account_id="acme", occurred_at=occurred_at, user_id="u", event_type="x"
    )


def test_event_lag_is_event_time_to_processing():
    metrics = primed()
    metrics.observe_event_lag(event(NOW - timedelta(seconds=3)), NOW)
    metrics.observe_event_lag(event(NOW + timedelta(minutes=2)), NOW)  # allowed future skew
    metrics.observe_event_lag(AccountProfile(account_id="acme"), NOW)  # no event time
    assert value(metrics, "healthscore_event_lag_seconds_count") == 2
    assert value(metrics, "healthscore_event_lag_seconds_sum") == 3.0
    assert value(metrics, "healthscore_event_lag_seconds_bucket", le="0.05") == 1


def test_count_feeds_events_and_dlq():
    metrics = primed()
    metrics.count("cs.product-usage.v1", Outcome.INVALID, "not_json")
    assert (
        value(metrics, "healthscore_dlq_total", topic="cs.product-usage.v1", reason="not_json") == 1
    )
    assert (
        value(metrics, "healthscore_events_total", topic="cs.product-usage.v1", outcome="invalid")
        == 1
    )


def test_cardinality_does_not_grow_with_accounts():
    """The series a worker exports at start-up with the four input topics (no lag yet, lowest-N
    off): a fixed number, whatever the account count. Changing it deserves a look at the
    cardinality table in docs/operations.md."""
    metrics = create_metrics(CollectorRegistry())
    metrics.prime(["usage", "tickets", "surveys", "accounts"])
    assert len(samples(metrics)) == 155
    assert not any(name.endswith("_created") for name, _ in samples(metrics))
    census = Census(by_band={"healthy": 100_000}, per_bucket=(0,) * 9 + (100_000,))
    metrics.set_population(census)
    assert len(samples(metrics)) == 155
