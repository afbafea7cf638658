"""Driving a deployment through a fault test: when it has drained, and what it ended with."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from stream_app.ingest import Outcome
from stream_app.scoring.bands import band_for
from tests.faults.workload import (
    SCORING,
    FaultLog,
    dead_letter_sources,
    diff,
    final_states,
    latest_by_key,
    read_to_end,
    summarise,
    usage_counts,
)
from tests.integration.fixtures import Deployment, Worker, alert_transition, sum_samples

__all__ = [
    "RunResult",
    "alert_transitions",
    "assert_published_converged",
    "assert_same_alerts",
    "assert_same_outcome",
    "collect",
    "consumed_topics",
    "event_counts",
    "group_lag",
    "wait_drained",
]


def consumed_topics(deployment: Deployment) -> list[str]:
    """Every topic the worker's consumer group reads: the inputs and the re-key topic."""
    return [*deployment.topics.inputs(), deployment.settings().rekey_topic]


def _end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        return consumer.end_offsets(tps) if tps else {}
    finally:
        consumer.close()


def partition_lags(bootstrap: str, deployment: Deployment) -> dict[TopicPartition, int]:
    """Per consumed partition, the records beyond the group's committed offset."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(deployment.app_id).get(deployment.app_id, {})
    finally:
        admin.close()
    ends = _end_offsets(bootstrap, consumed_topics(deployment))
    return {tp: end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()}


def group_lag(bootstrap: str, deployment: Deployment) -> int:
    """Records on the consumed topics beyond the group's committed offsets.

    Zero means every input record was processed *and* committed, and Faust flushes the
    producer (state changelog, DLQ, scores) before it commits offsets.
    """
    return sum(partition_lags(bootstrap, deployment).values())


def wait_drained(
    deployment: Deployment, worker: Worker | None = None, timeout: float = 240, quiet: float = 3
) -> float:
    """Wait until the group has no lag and the outputs stopped growing for ``quiet`` seconds
    (the last ticks published their scores); return how long that took."""
    bootstrap = deployment.kafka_bootstrap
    outputs = [deployment.topics.health_scores, deployment.topics.dlq]
    started = time.monotonic()
    stable_since, last_ends = None, None
    while time.monotonic() - started < timeout:
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"worker exited {worker.process.returncode}:\n{worker.log_tail()}")
        ends = _end_offsets(bootstrap, outputs)
        if group_lag(bootstrap, deployment) == 0 and ends == last_ends:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= quiet:
                return time.monotonic() - started
        else:
            stable_since = None
        last_ends = ends
        time.sleep(0.5)
    behind = {
        f"{tp.topic}[{tp.partition}]": lag
        for tp, lag in partition_lags(bootstrap, deployment).items()
        if lag
    }
    log = "" if worker is None else "\nworker log:\n" + worker.log_tail(200)
    raise AssertionError(f"not drained within {timeout}s (lag by partition {behind}){log}")


def event_counts(worker: Worker, deployment: Deployment) -> Counter[str]:
    """This worker process's ``healthscore_events_total`` by outcome, over the input topics
    (one scrape); empty if the worker does not answer."""
    samples = worker.samples() or []
    return Counter(
        {
            outcome.value: int(
                sum(
                    sum_samples(samples, "healthscore_events_total", topic=t, outcome=outcome.value)
                    for t in deployment.topics.inputs()
                )
            )
            for outcome in Outcome
        }
    )


@dataclass
class RunResult:
    """What a drained deployment ended with, read from its topics."""

    summary: dict[str, dict[str, Any]]  # workload.summarise of the changelog
    scores: dict[str, dict[str, Any]]  # latest HealthScore per account on the scores topic
    dead_letters: Counter[tuple[str, int, int, str]]
    alerts: list[dict[str, Any]]  # every record on the alerts topic, per partition in order
    counts: Counter[str] = field(default_factory=Counter)  # event outcomes, if one process ran


def collect(deployment: Deployment, as_of: datetime) -> RunResult:
    bootstrap = deployment.kafka_bootstrap
    return RunResult(
        summary=summarise(final_states(bootstrap, deployment.app_id), as_of),
        scores=latest_by_key(read_to_end(bootstrap, deployment.topics.health_scores)),
        dead_letters=dead_letter_sources(bootstrap, deployment.topics),
        alerts=[
            orjson.loads(record.value)
            for record in sorted(
                read_to_end(bootstrap, deployment.topics.risk_alerts),
                key=lambda r: (r.partition, r.offset),
            )
        ],
    )


def alert_transitions(alerts: list[dict[str, Any]], rule: str | None = None) -> Counter[tuple]:
    """Alert records as what a pager acts on: which incident, firing or resolved, at which
    severity, notified when; ``rule`` None for every rule. The quoted metric values are left
    out (docs/decisions.md §20)."""
    return Counter(alert_transition(r) for r in alerts if rule is None or r["rule"] == rule)


def doubled_alerts(run: RunResult) -> list[tuple]:
    """Alert records of any rule that the run published more than once."""
    return [alert for alert, count in alert_transitions(run.alerts).items() if count > 1]


def assert_same_alerts(reference: RunResult, run: RunResult) -> None:
    """No alert record of any rule published twice, and the NSM decline alerts, which depend
    on event time only, are the reference's transition for transition.

    The rules judged at each tick (score, ticket and survey rules) can fire or not on an
    intermediate state depending on where ticks fall in a backlog, so two runs need not
    agree on their incidents (§20); they are checked for duplicates only.
    """
    doubled = doubled_alerts(run)
    assert not doubled, f"alert records published twice: {doubled}"
    expected = alert_transitions(reference.alerts, "nsm_decline")
    got = alert_transitions(run.alerts, "nsm_decline")
    assert expected, "the log must make the NSM rule fire, or this comparison is empty"
    assert got == expected, (
        f"NSM alerts missing {sorted(expected - got)}, extra {sorted(got - expected)}"
    )


def assert_published_converged(run: RunResult) -> None:
    """The last score published per account is the score its final state implies, to within
    the 1-point emission step (DESIGN §4: smaller moves are not published), and its band is
    the one the engine keeps for that score: the summary's band has no hysteresis, and a
    score within the margin of a border stays in the band it was published in (41.9 after
    30.8 is still critical)."""
    for account, summary in run.summary.items():
        if summary["score"] is None:
            continue
        score = summary["score"][0]
        published = run.scores.get(account)
        assert published is not None, f"{account}: no score published"
        bands = SCORING.for_segment(summary["profile"][0]).bands
        kept = band_for(score, published["band"], bands, bands.hysteresis_margin)
        assert published["band"] == kept, f"{account}: published {published}, state says {kept}"
        assert abs(published["score"] - score) < 1.0, f"{account}: {published['score']} vs {score}"


def assert_same_outcome(reference: RunResult, run: RunResult, log: FaultLog) -> None:
    """``run`` counted every event of ``log`` exactly once, as the uninterrupted ``reference``
    did: same per-account state and final-state scores, same rejected records, published
    scores converged."""
    truth = log.usage_per_day()
    assert usage_counts(reference.summary) == truth, diff(truth, usage_counts(reference.summary))
    assert usage_counts(run.summary) == truth, diff(truth, usage_counts(run.summary))
    assert run.summary == reference.summary, diff(reference.summary, run.summary)
    missing = set(reference.dead_letters) - set(run.dead_letters)
    extra = set(run.dead_letters) - set(reference.dead_letters)
    assert not missing and not extra, f"dead letters missing {missing}, extra {extra}"
    assert sum(reference.dead_letters.values()) == log.invalid
    assert_published_converged(reference)
    assert_published_converged(run)
    assert_same_alerts(reference, run)
