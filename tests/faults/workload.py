"""A fixed, seeded event log for fault tests, and the comparisons that decide "nothing lost,
nothing doubled".

The log is a synthetic cohort (``stream_app.demo.cohort``: steady, declining, silent accounts,
support storms, detractors; a few percent late and duplicated deliveries) ending yesterday,
plus records the engine must reject (dead letters) and records sent without a key (which the
worker re-keys through its internal topic).

What a run is judged by, from the outside, after it has drained:

- :func:`read_to_end` / :func:`latest_by_key`: any topic to its final value per key (scores
  now; risk alerts can be compared the same way once they exist);
- :func:`final_states` + :func:`summarise`: every account's state from the changelog, reduced
  to what events put there (usage per day inside the windows, ticket and survey state, the
  profile) and the score that state implies at one fixed event time. Two runs over the same
  log must agree on it exactly, whatever crashed in between: it is the effect of each event
  counted once.
- :meth:`FaultLog.usage_per_day`: the same usage counts straight from the log, the ground
  truth that a lost or doubled event would break even if two runs broke alike.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import ValidationError

from stream_app.app import window_spec
from stream_app.contracts.inputs import ProductUsageEvent
from stream_app.contracts.outputs import DeadLetter
from stream_app.demo.cohort import Cohort
from stream_app.scoring import ScoringConfig, load_scoring_config, score_account
from stream_app.settings import Settings, TopicNames
from stream_app.state import AccountState, day_of, decode_state
from stream_app.state.sketch import distinct_count
from stream_app.state.spec import DAY_SECONDS
from stream_app.streaming.table_store import LANE_KEY_PREFIX

__all__ = [
    "FaultLog",
    "LogRecord",
    "build_log",
    "dead_letter_sources",
    "feed",
    "final_states",
    "latest_by_key",
    "produce",
    "read_to_end",
    "summarise",
]

SCORING: ScoringConfig = load_scoring_config(Settings().scoring_config)
SPEC = window_spec(SCORING, Settings())  # the worker's own, from the default model file
KIND_FIELD = {"usage": "usage", "ticket": "tickets", "survey": "surveys", "account": "accounts"}


@dataclass(frozen=True, slots=True)
class LogRecord:
    kind: str  # usage | ticket | survey | account
    key: str | None
    value: bytes
    slot: int = 0  # an unkeyed record's partition is slot % partitions: the same in every run


@dataclass(frozen=True)
class FaultLog:
    records: list[LogRecord]
    as_of: datetime  # the newest event time in the log: where every run's windows end
    invalid: int  # records that must end on the DLQ
    unkeyed: int  # records the worker must re-key

    def __len__(self) -> int:
        return len(self.records)

    def usage_per_day(self) -> dict[str, dict[int, int]]:
        """Per account and UTC day inside the retention window: distinct valid usage events,
        valid by the input contract itself."""
        oldest = day_of(self.as_of.timestamp()) - SPEC.usage_retention_days
        seen: set[str] = set()
        counts: dict[str, Counter[int]] = {}
        for record in self.records:
            if record.kind != "usage":
                continue
            try:
                event = ProductUsageEvent.model_validate_json(record.value, strict=True)
            except ValidationError:
                continue  # one of the invalid records
            at = event.occurred_at.timestamp()
            if event.event_id in seen or at > self.as_of.timestamp() or day_of(at) < oldest:
                continue
            seen.add(event.event_id)
            counts.setdefault(event.account_id, Counter())[day_of(at)] += 1
        return {account: dict(days) for account, days in counts.items()}


def _invalid_records(rng: random.Random, account: str, at: datetime) -> list[LogRecord]:
    base = {"event_id": f"bad-{rng.random()}", "account_id": account, "user_id": "u-1"}
    base |= {"occurred_at": at.isoformat(), "event_type": "report.created"}
    return [
        LogRecord("usage", account, b'{"event_id": "truncated'),
        LogRecord("usage", account, orjson.dumps(base | {"user_id": None})),
        LogRecord("ticket", account, orjson.dumps(base | {"action": "exploded"})),
        LogRecord("survey", account, orjson.dumps(base | {"survey": "nps", "score": 11})),
        LogRecord("usage", account, orjson.dumps(base | {"occurred_at": "2999-01-01T00:00:00Z"})),
    ]


def build_log(
    accounts: int = 10, days: int = 38, seed: int = 139, unkeyed_share: float = 0.005
) -> FaultLog:
    """The cohort ends yesterday (UTC), so nothing is in the future for the live decoder.

    Seed 139 gives three accounts that go silent (7, 10 and 20 users, from days 19, 22 and
    17): the NSM rule fires critical on all three. The one silent longest resolves mid-log,
    once the baseline has adopted the silence (docs/alerts.md); the other two still fire at
    the end, where a restart must judge their last days with no usage left to replay
    (decisions §29). A support storm fires urgent-ticket bursts, and score drops and critical
    bands fire the score rules.
    """
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    cohort = Cohort(accounts, days, start=today - timedelta(days=days + 1), seed=seed)
    records: list[LogRecord] = []
    invalid = unkeyed = 0
    newest = 0.0
    for timed in cohort.records():
        if timed.kind == "usage" and rng.random() < unkeyed_share:
            unkeyed += 1
            records.append(LogRecord("usage", None, orjson.dumps(timed.value), rng.randrange(997)))
        else:
            records.append(LogRecord(timed.kind, timed.key, orjson.dumps(timed.value)))
        if "occurred_at" in timed.value:
            newest = max(newest, datetime.fromisoformat(timed.value["occurred_at"]).timestamp())
        if rng.random() < 0.001:
            bad = _invalid_records(rng, timed.key, datetime.fromtimestamp(newest, UTC))
            records.extend(bad)
            invalid += len(bad)
    return FaultLog(records, datetime.fromtimestamp(newest, UTC), invalid, unkeyed)


def topic_of(topics: TopicNames, kind: str) -> str:
    return getattr(topics, KIND_FIELD[kind])


def produce(
    bootstrap: str,
    topics: TopicNames,
    records: Iterable[LogRecord],
    partitions: int,
    rate: float | None = None,
) -> int:
    """Send records in order (at ``rate`` records/s if given) and flush. Every record lands
    on the same partition in every run (keyed ones on their account's, unkeyed ones by
    ``slot``), so offsets are the same too and dead letters of two runs can be matched by
    their source coordinates."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=4 * 1024 * 1024
    )
    sent = 0
    started = time.monotonic()
    try:
        for record in records:
            if rate is not None and (ahead := sent / rate - (time.monotonic() - started)) > 0:
                time.sleep(ahead)
            topic = topic_of(topics, record.kind)
            if record.key is None:
                producer.send(topic, value=record.value, partition=record.slot % partitions)
            else:
                producer.send(topic, key=record.key.encode(), value=record.value)
            sent += 1
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=10)
    return sent


def feed(
    bootstrap: str, topics: TopicNames, records: list[LogRecord], partitions: int, rate: float
) -> threading.Thread:
    """:func:`produce` at ``rate`` records/s in a background thread (already started), so a
    fault can be injected while the log is still arriving. ``join()`` it before draining."""
    thread = threading.Thread(
        target=produce,
        args=(bootstrap, topics, records, partitions, rate),
        name="feeder",
        daemon=True,
    )
    thread.start()
    return thread


# ----------------------------------------------------------------------------- reading back


def read_to_end(bootstrap: str, topic: str, timeout: float = 60.0) -> list[Any]:
    """Every record of ``topic`` up to its end offsets at the time of the call, all partitions.

    Unlike waiting for an expected count, this cannot stop early or wait for records that
    will never come: it reads exactly what the topic holds.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
        check_crcs=False,  # loopback from a local broker; the changelog read dominates otherwise
        fetch_max_bytes=8 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout}s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return [r for r in records if r.offset < end[TopicPartition(r.topic, r.partition)]]
    finally:
        consumer.close()


def latest_by_key(
    records: Iterable[Any], decode: Callable[[bytes], Any] = orjson.loads
) -> dict[str, Any]:
    """A keyed topic's final value per key (what a compacted topic converges to); only the
    final values are decoded. A tombstone (null value) removes its key."""
    latest: dict[str, bytes | None] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        latest[record.key.decode()] = record.value
    return {key: decode(value) for key, value in latest.items() if value is not None}


def final_states(bootstrap: str, app_id: str) -> dict[str, AccountState]:
    """Every account's final state (the partitions' lane marks left out)."""
    records = read_to_end(bootstrap, f"{app_id}-account-state-changelog")
    accounts = [r for r in records if not r.key.decode().startswith(LANE_KEY_PREFIX)]
    return latest_by_key(accounts, decode_state)


def dead_letter_sources(bootstrap: str, topics: TopicNames) -> Counter[tuple[str, int, int, str]]:
    """DLQ records by the input record they stand for: (kind, partition, offset, class).

    A count above one is the same input rejected twice (a replay after a crash): the set of
    keys is what must match, the surplus is reported as at-least-once redelivery.
    """
    kinds = topics.inputs()
    letters = [DeadLetter.model_validate_json(r.value) for r in read_to_end(bootstrap, topics.dlq)]
    return Counter((kinds[d.source_topic], d.partition, d.offset, d.error_class) for d in letters)


def summarise(states: dict[str, AccountState], as_of: datetime) -> dict[str, dict[str, Any]]:
    """Per account: what the events put into its state, and the score it implies at ``as_of``.

    Only what windows can still see is compared: expiry of older data runs lazily (once per
    watermark day and after every restart), so what a run still holds *outside* the windows
    depends on when it restarted, not on what it counted.
    """
    now = as_of.timestamp()
    today = day_of(now)
    oldest = today - SPEC.usage_retention_days
    support_floor = now - SPEC.support_days * DAY_SECONDS
    survey_floor = now - SPEC.survey_days * DAY_SECONDS
    summary: dict[str, dict[str, Any]] = {}
    for account, state in sorted(states.items()):
        days = {d: b for d, b in state.days.items() if oldest <= d <= today}
        result = score_account(state.signals(account, as_of, SPEC), SCORING)
        summary[account] = {
            "usage_per_day": {d: b.events for d, b in days.items() if b.events},
            "escalations": sum(b.escalations for b in days.values()),
            "reopens": sum(b.reopens for b in days.values()),
            "features": sorted({d: b.features for d, b in days.items()}.items()),
            "nsm_per_day": {d: [_nsm_number(v) for v in b.nsm] for d, b in days.items() if b.nsm},
            "tickets": sorted(
                (ticket_id, t.priority, t.is_open, t.updated_at)
                for ticket_id, t in state.tickets.items()
                if t.is_open or t.updated_at >= support_floor
            ),
            "surveys": [s for s in state.surveys if s[0] >= survey_floor],
            "profile": (state.segment, state.seats),
            "ledger_watermarks": {k: v.watermark for k, v in sorted(state.ledgers.items())},
            "score": None
            if result is None
            else (result.score, result.band, result.confidence, result.drivers),
        }
    return summary


def _nsm_number(value: float | bytes) -> float:
    """A day's NSM value as a number: a sketch's distinct count, or the count/sum itself."""
    return distinct_count([value]) if isinstance(value, bytes) else round(value, 6)


def usage_counts(summary: dict[str, dict[str, Any]]) -> dict[str, dict[int, int]]:
    return {a: s["usage_per_day"] for a, s in summary.items() if s["usage_per_day"]}


def diff(expected: dict[str, Any], got: dict[str, Any], limit: int = 5) -> str:
    """A short, readable description of where two per-key dicts differ."""
    lines = []
    for key in sorted(set(expected) | set(got)):
        if expected.get(key) != got.get(key):
            lines.append(f"{key}: expected {expected.get(key)!r}\n      got {got.get(key)!r}")
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more
