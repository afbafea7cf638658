"""Hostile input through the real topics: every record is processed or dead-lettered with a
reason, the worker never crashes, and nothing a producer sends becomes a metric label or a
Redis key outside the documented layout.

Each record is matched to its outcome by its (topic, partition, offset), which the broker
returns on send: a dead letter names the same coordinates.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import get_args

import orjson
import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from stream_app import __version__
from stream_app.contracts.outputs import Band, DeadLetter, ErrorClass
from stream_app.ingest import Outcome
from stream_app.metrics import ALERT_STATUSES, SEVERITIES
from stream_app.observability.census import UNSCORED
from stream_app.scoring import load_scoring_config
from stream_app.settings import Settings
from tests.faults.runs import event_counts, wait_drained
from tests.faults.workload import read_to_end
from tests.integration.fixtures import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KIB = 1024
PROCESSED = "processed"
BROKER_REJECTS = "broker_rejects"
NOT_TEXT = {"not_utf8", "not_json", "not_object"}
MARKER = "zz-hostile-marker"  # in payloads that must never show up in /metrics


@dataclass(frozen=True)
class Hostile:
    name: str
    kind: str  # usage | tickets | surveys | accounts | rekeyed (the worker's internal topic)
    value: bytes | None
    expect: frozenset[str]  # acceptable outcomes: PROCESSED, an ErrorClass, BROKER_REJECTS
    key: bytes | None = b"acct-hostile"
    headers: tuple[tuple[str, bytes], ...] = ()


def _event(**fields: object) -> dict[str, object]:
    at = datetime.now(UTC) - timedelta(minutes=5)
    return {
        "event_id": f"{MARKER}-{random.random()}",
        "account_id": "acct-hostile",
        "occurred_at": at.isoformat(),
        "user_id": "u-1",
        "event_type": "report.created",
    } | fields


def _json(**fields: object) -> bytes:
    return orjson.dumps(_event(**fields))


def _raw(text: str) -> bytes:
    """A usage event whose JSON is written by hand (literals orjson would never produce)."""
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    head = f'{{"event_id":"{MARKER}-raw-{random.random()}","account_id":"acct-hostile",'
    return (head + f'"occurred_at":"{at}","user_id":"u-1","event_type":"x",' + text + "}").encode()


def one(*outcomes: str) -> frozenset[str]:
    return frozenset(outcomes)


def hostile_records(rng: random.Random) -> list[Hostile]:
    records = [
        # first on a fresh worker: an event before year 1 in UTC once broke every score tick
        Hostile(
            "year 1 at +14:00",
            "usage",
            _json(occurred_at="0001-01-01T00:00:00+14:00"),
            one("validation"),
        ),
        Hostile("empty value", "usage", b"", one("not_json")),
        Hostile("null value (tombstone)", "usage", None, one("not_json")),
        Hostile("300 KiB", "usage", _json(padding="x" * 300 * KIB), one("oversize")),
        Hostile("900 KiB", "tickets", _json(padding="y" * 900 * KIB), one("oversize")),
        Hostile(
            "1.5 MiB, over the broker limit",
            "usage",
            _json(padding="z" * 1536 * KIB),
            one(BROKER_REJECTS),
        ),
        Hostile("nesting 100k deep", "usage", b"[" * 100_000 + b"]" * 100_000, one("not_json")),
        Hostile(
            "properties nested 300 deep",
            "usage",
            _raw('"properties":{"a":' + "[" * 300 + "]" * 300 + "}"),
            one("not_json"),
        ),
        Hostile(
            "properties nested 40 deep",
            "usage",
            _raw('"properties":{"a":' + "[" * 40 + "]" * 40 + "}"),
            one(PROCESSED),
        ),
        Hostile(
            "invalid UTF-8 in a string",
            "usage",
            _json(user_id="u").replace(b'"u"', b'"\xff\xfe"'),
            one("not_utf8"),
        ),
        Hostile("overlong UTF-8", "surveys", b'{"event_id":"\xc0\xaf"}', one("not_utf8")),
        Hostile(
            "lone surrogate escape", "usage", _raw('"properties":{"k":"\\ud800"}'), one("not_json")
        ),
        Hostile("invalid UTF-8 key", "usage", _json(), one(PROCESSED), key=b"\xff\xfe\x00"),
        Hostile("100 KiB key", "usage", _json(), one(PROCESSED), key=b"k" * 100 * KIB),
        Hostile("no key", "usage", _json(), one(PROCESSED), key=None),
        Hostile("NaN literal", "usage", _raw('"quantity":NaN'), one("validation", "not_json")),
        Hostile(
            "Infinity literal", "usage", _raw('"quantity":-Infinity'), one("validation", "not_json")
        ),
        Hostile("1e400", "usage", _raw('"quantity":1e400'), one("validation")),
        Hostile("1e308", "usage", _json(quantity=1e308), one("validation")),
        Hostile("-0.0", "usage", _raw('"quantity":-0.0'), one(PROCESSED)),
        Hostile(
            "huge int version", "usage", _raw('"schema_version":' + "9" * 400), one("validation")
        ),
        Hostile(
            "huge int in properties",
            "usage",
            _raw('"properties":{"n":' + "9" * 40 + "}"),
            one("validation"),
        ),
        Hostile(
            "huge int NPS",
            "surveys",
            orjson.dumps(_event(survey="nps"))[:-1] + b',"score":' + b"9" * 60 + b"}",
            one("validation"),
        ),
        Hostile("NUL in event_id", "usage", _json(event_id="a\u0000b"), one("validation")),
        Hostile(
            "ANSI escape in user_id", "usage", _json(user_id="\u001b[31mred"), one("validation")
        ),
        Hostile(
            "RTL override in event_id",
            "usage",
            _json(event_id=f"{MARKER}-\u202eevil"),
            one(PROCESSED),
        ),
        Hostile("newline in account_id", "usage", _json(account_id="a\nb"), one("validation")),
        Hostile("10k-char event_id", "usage", _json(event_id="e" * 10_000), one("validation")),
        Hostile("129-char account_id", "usage", _json(account_id="a" * 129), one("validation")),
        Hostile(
            "account hs:scores",
            "usage",
            _json(account_id="hs:scores"),
            one(PROCESSED),
            key=b"hs:scores",
        ),
        Hostile(
            "account scores", "usage", _json(account_id="scores"), one(PROCESSED), key=b"scores"
        ),
        Hostile(
            "account account:x",
            "usage",
            _json(account_id="account:x"),
            one(PROCESSED),
            key=b"account:x",
        ),
        Hostile("account a:b*", "usage", _json(account_id="a:b*"), one("validation")),
        Hostile("account {x}", "usage", _json(account_id="{x}"), one("validation")),
        Hostile('account x"}', "usage", _json(account_id='x"}'), one("validation")),
        Hostile(
            "label syntax in event_type",
            "usage",
            _json(event_type=f'{MARKER}"}} 1\\nhealthscore_evil{{a="'),
            one(PROCESSED),
        ),
        Hostile(
            "label syntax in segment",
            "accounts",
            orjson.dumps({"account_id": "acct-hostile", "segment": f'{MARKER}"}}'}),
            one(PROCESSED),
        ),
        Hostile("a JSON array", "tickets", b"[1,2,3]", one("not_object")),
        Hostile("a JSON string", "accounts", b'"acct"', one("not_object")),
        Hostile(
            "forged re-key headers on an input",
            "usage",
            _json(),
            one(PROCESSED),
            headers=(("hs-source-topic", b'x"}'), ("hs-source-offset", b"-1")),
        ),
        # the internal re-key topic trusts its headers: a record not written by a worker
        Hostile("re-key record without headers", "rekeyed", _json(), one("validation")),
        Hostile(
            "re-key record with forged headers",
            "rekeyed",
            _json(),
            one("validation"),
            headers=(
                ("hs-source-topic", f'{MARKER}"}}'.encode()),
                ("hs-source-partition", b"x"),
                ("hs-source-offset", b"\xff"),
            ),
        ),
    ]
    for i in range(24):
        noise = rng.randbytes(rng.randrange(1, 4 * KIB))
        records.append(Hostile(f"random bytes {i}", "usage", noise, one(*NOT_TEXT)))
    return records


def _producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 * KIB * KIB)


def _send(producer: KafkaProducer, deployment, record: Hostile):
    topic = _topic(deployment, record.kind)
    future = producer.send(topic, key=record.key, value=record.value, headers=list(record.headers))
    return future.get(timeout=30)


def _topic(deployment, kind: str) -> str:
    if kind == "rekeyed":
        return deployment.settings().rekey_topic
    return getattr(deployment.topics, kind)


BUCKET = re.compile(r"\d+(\.\d+)?(e[+-]?\d+)?")


def _label_values_allowed(deployment, samples) -> None:
    """Every label value comes from a closed set the engine defines, never from a producer."""
    allowed = {
        "topic": {*deployment.topics.inputs(), _topic(deployment, "rekeyed")},
        "outcome": {o.value for o in Outcome},
        "reason": set(get_args(ErrorClass)),
        "band": {*get_args(Band), UNSCORED},
        "version": {__version__},
        "rule": set(load_scoring_config(Settings().scoring_config).alert_rules),
        "severity": set(SEVERITIES),
        "status": set(ALERT_STATUSES),
        "partition": {str(p) for p in range(deployment.partitions)},
    }
    for sample in samples:
        for label, value in sample.labels.items():
            if label == "le":  # histogram buckets: numbers the metric declares
                assert value == "+Inf" or BUCKET.fullmatch(value), f"{sample.name}: le={value!r}"
                continue
            assert value in allowed[label], f"{sample.name}: label {label}={value!r}"


def test_hostile_records_are_processed_or_dead_lettered(
    private_kafka, private_redis, new_deployment, workers, fault_report
):
    rng = random.Random(77)
    deployment = new_deployment()
    worker = workers(deployment)
    worker.wait_ready()
    pid = worker.process.pid
    records = hostile_records(rng)
    producer = _producer(private_kafka.bootstrap)
    outcome_of: dict[tuple[str, int, int], Hostile] = {}
    refused: list[str] = []
    for record in records:
        if record.expect == {BROKER_REJECTS}:
            # on its own producer: after a refused record kafka-python's producer refuses the
            # next ones too (a client quirk, not what is under test)
            with (
                closing(_producer(private_kafka.bootstrap)) as once,
                pytest.raises(KafkaError) as refusal,
            ):
                _send(once, deployment, record)
            refused.append(f"{record.name} ({refusal.value.__class__.__name__})")
            continue
        meta = _send(producer, deployment, record)
        outcome_of[(record.kind, meta.partition, meta.offset)] = record
    # sentinels after the poison: the worker must still be consuming
    for i in range(5):
        producer.send(
            deployment.topics.usage,
            key=b"acct-after",
            value=_json(account_id="acct-after", event_id=f"after-{i}"),
        )
    producer.flush()
    producer.close()
    wait_drained(deployment, worker, timeout=120)
    wait_for(
        lambda: (
            worker.metric(
                "healthscore_events_total", topic=deployment.topics.usage, outcome="processed"
            )
            >= 5
        ),
        30,
        "the sentinels",
    )

    kinds = {
        _topic(deployment, k): k for k in ("usage", "tickets", "surveys", "accounts", "rekeyed")
    }
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in read_to_end(private_kafka.bootstrap, deployment.topics.dlq)
    ]
    lettered = {(kinds[d.source_topic], d.partition, d.offset): d for d in letters}
    assert len(lettered) == len(letters), "one dead letter per rejected record"
    wrong = []
    for coordinates, record in outcome_of.items():
        letter = lettered.get(coordinates)
        got = letter.error_class if letter is not None else PROCESSED
        if got not in record.expect:
            wrong.append(f"{record.name}: {got} ({letter.reason if letter else ''})")
    assert not wrong, "\n".join(wrong)
    assert set(lettered) <= set(outcome_of), "a dead letter for a record we did not send"

    # the books balance: what went in is processed or on the DLQ, nothing in between
    counts = event_counts(worker, deployment)
    expected_processed = sum(1 for c, r in outcome_of.items() if c not in lettered) + 5
    applied = counts["processed"] + counts["late"] + counts["duplicate"]
    assert applied == expected_processed, (counts, expected_processed)
    assert worker.process.poll() is None and worker.process.pid == pid, "the worker crashed"
    assert "processing_error" not in {d.error_class for d in letters}
    assert "Traceback" not in worker.log_path.read_text(errors="replace")

    # nothing a producer sent became a label value, or any text on /metrics
    samples = worker.samples()
    assert samples
    _label_values_allowed(deployment, samples)
    status, body = worker.get("/metrics")
    assert status == 200 and MARKER.encode() not in body and b"evil" not in body

    # ids that look like our Redis keys stay inside their own hash; the layout holds
    client = private_redis.client()
    prefix = deployment.redis_prefix
    wait_for(lambda: client.zscore(f"{prefix}scores", "hs:scores") is not None, 30, "scores")
    assert client.type(f"{prefix}scores") == b"zset"
    layout = re.compile(re.escape(prefix) + r"(scores|account:[A-Za-z0-9._:@-]{1,128})")
    keys = [k.decode() for k in client.scan_iter(match=f"{prefix}*")]
    assert keys and all(layout.fullmatch(k) for k in keys), keys
    assert {"hs:scores", "scores", "account:x"} <= {
        m.decode() for m in client.zrange(f"{prefix}scores", 0, -1)
    }
    status, body = worker.get("/accounts/hs:scores/health")
    assert status == 200 and orjson.loads(body)["account_id"] == "hs:scores"
    client.close()

    by_class = Counter(d.error_class for d in letters)
    fault_report(
        f"{len(records)} hostile records sent ({len(refused)} refused by the broker: "
        f"{', '.join(refused)}); {len(outcome_of)} on the topics -> {expected_processed - 5} "
        f"processed + {len(letters)} dead letters {dict(by_class)}; "
        f"worker pid unchanged, 0 processing errors, {len(samples)} metric samples all with "
        f"allowed label values, Redis keys all in the documented layout"
    )
