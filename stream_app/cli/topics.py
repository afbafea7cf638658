"""``topics create``: every input, output and dead-letter topic, idempotently."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from stream_app.connections import kafka_client_options
from stream_app.errors import ConfigurationError
from stream_app.settings import Settings

__all__ = ["TopicSpec", "create_topics", "topic_specs"]

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(settings: Settings, partitions: int | None = None) -> list[TopicSpec]:
    n = partitions or settings.partitions
    t = settings.topics
    events = {"cleanup.policy": "delete", "retention.ms": str(14 * DAY_MS)}
    latest = {"cleanup.policy": "compact"}
    return [
        TopicSpec(t.usage, n, events),
        TopicSpec(t.tickets, n, events),
        TopicSpec(t.surveys, n, events),
        TopicSpec(t.accounts, n, latest),
        TopicSpec(t.health_scores, n, latest),
        TopicSpec(t.risk_alerts, n, {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}),
        TopicSpec(t.dlq, n, {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}),
        # created up front, not left to Faust: a worker whose consumer subscribes before the
        # topic exists ignores it until its next rebalance, stranding re-keyed records there
        TopicSpec(settings.rekey_topic, n, events),
    ]


def create_topics(settings: Settings, partitions: int | None = None) -> list[str]:
    """Create missing topics; return report lines. Raises if partitions disagree.

    Input topics must all have the engine's partition count: per-account state is
    co-partitioned with them, so a mismatch would put an account's events on two workers.
    """
    specs = topic_specs(settings, partitions)
    admin = KafkaAdminClient(**kafka_client_options(settings), client_id="healthstream-admin")
    try:
        existing = {
            meta["name"]: len(meta["partitions"])
            for meta in admin.describe_topics(
                [s.name for s in specs if s.name in admin.list_topics()]
            )
        }
        report, missing = [], []
        for spec in specs:
            if spec.name not in existing:
                missing.append(spec)
                report.append(f"created {spec.name} ({spec.partitions} partitions)")
            elif existing[spec.name] != spec.partitions:
                raise ConfigurationError(
                    f"topic {spec.name} has {existing[spec.name]} partitions but the engine is "
                    f"configured for {spec.partitions} (HS_PARTITIONS); all topics must agree"
                )
            else:
                report.append(f"exists  {spec.name} ({spec.partitions} partitions)")
        if missing:
            # another process may win the race to create them: that is fine
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [
                        NewTopic(
                            s.name,
                            s.partitions,
                            settings.replication_factor,
                            topic_configs=s.config,
                        )
                        for s in missing
                    ]
                )
        return report
    finally:
        admin.close()
