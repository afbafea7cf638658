"""Health scores through the real broker and Redis: events in -> a score on the topic, in Redis
and over HTTP; a worker killed mid-stream and restarted ends with the scores of a clean run."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest
import redis

from tests.integration.fixtures import Deployment, Worker, producer, read_topic, send_json, wait_for

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HEALTHY = [f"healthy-{i}" for i in range(4)]
STORMY = "storm-1"
FEATURES = ("report.created", "export.run", "alert.configured", "integration.synced")


def event_log() -> list[tuple[str, str, dict]]:
    """(topic kind, key, value): four healthy accounts and one in a support storm."""
    log: list[tuple[str, str, dict]] = []
    n = 0

    def add(kind: str, account: str, at: datetime, **fields) -> None:
        nonlocal n
        n += 1
        log.append(
            (
                kind,
                account,
                {
                    "event_id": f"ev-{n}",
                    "account_id": account,
                    "occurred_at": at.isoformat(),
                    **fields,
                },
            )
        )

    for account in [*HEALTHY, STORMY]:
        log.append(("accounts", account, {"account_id": account, "segment": "smb", "seats": 12}))
        for day in range(35, 0, -1):
            for user in range(10):
                for feature in FEATURES:
                    add(
                        "usage",
                        account,
                        NOW - timedelta(days=day, minutes=user),
                        user_id=f"u{user}",
                        event_type=feature,
                    )
        add(
            "surveys",
            account,
            NOW - timedelta(days=3),
            user_id="u1",
            survey="nps",
            score=9 if account != STORMY else 2,
        )
    for t in range(6):
        add(
            "tickets",
            STORMY,
            NOW - timedelta(hours=20 - t),
            ticket_id=f"T{t}",
            action="opened",
            priority="urgent",
        )
        add(
            "tickets",
            STORMY,
            NOW - timedelta(hours=19 - t),
            ticket_id=f"T{t}",
            action="escalated",
            priority="urgent",
        )
    return log


def produce(deployment: Deployment, log) -> None:
    topics = deployment.topics
    by_kind = {
        "usage": topics.usage,
        "tickets": topics.tickets,
        "surveys": topics.surveys,
        "accounts": topics.accounts,
    }
    kafka = producer(deployment.kafka_bootstrap)
    for kind, key, value in log:
        send_json(kafka, by_kind[kind], key, value)
    kafka.flush()
    kafka.close()


def latest_scores(deployment: Deployment, minimum: int) -> dict[str, dict]:
    records = read_topic(deployment.kafka_bootstrap, deployment.topics.health_scores, minimum)
    latest: dict[str, dict] = {}
    for record in records:
        latest[record["account_id"]] = record
    return latest


def wait_processed(worker: Worker, deployment: Deployment, count: int) -> None:
    topics = deployment.topics

    def processed() -> float:
        return sum(
            worker.metric("healthscore_events_total", topic=t, outcome=o)
            for t in (topics.usage, topics.tickets, topics.surveys, topics.accounts)
            for o in ("processed", "late", "duplicate")
        )

    wait_for(lambda: processed() >= count, 120, f"{count} processed events")


def test_scores_reach_the_topic_redis_and_http(deployment, start_worker, stack):
    log = event_log()
    worker = start_worker()
    produce(deployment, log)
    wait_processed(worker, deployment, len(log))
    wait_for(lambda: len(latest_scores(deployment, 5)) >= 5, 60, "a score for every account")
    scores = latest_scores(deployment, 5)

    for account in HEALTHY:
        assert scores[account]["band"] == "healthy", scores[account]
    storm = scores[STORMY]
    assert storm["band"] in ("at_risk", "critical"), storm
    assert any("urgent" in driver for driver in storm["drivers"]), storm["drivers"]
    assert storm["score"] < min(scores[a]["score"] for a in HEALTHY)

    client = redis.Redis.from_url(stack["redis_url"])
    prefix = deployment.redis_prefix

    def in_redis() -> bool:
        return client.zcard(f"{prefix}scores") == 5

    wait_for(in_redis, 30, "all five accounts in Redis")
    stored = client.hgetall(f"{prefix}account:{STORMY}")
    assert float(stored[b"score"]) == pytest.approx(storm["score"], abs=1.0)
    assert client.zrange(f"{prefix}scores", 0, 0) == [STORMY.encode()]

    status, body = worker.get(f"/accounts/{STORMY}/health")
    assert status == 200 and json.loads(body)["account_id"] == STORMY
    assert worker.get("/accounts/nobody-here/health")[0] == 404
    assert worker.get("/accounts/bad%20id!/health")[0] == 400
    status, body = worker.get("/accounts/at-risk?limit=2")
    assert status == 200
    assert json.loads(body)["accounts"][0]["account_id"] == STORMY
    assert worker.get("/accounts/at-risk?limit=zero")[0] == 400
    client.close()


def comparable(scores: dict[str, dict]) -> dict[str, tuple[str, float]]:
    return {account: (s["band"], s["score"]) for account, s in scores.items()}


def test_a_worker_killed_mid_stream_ends_with_the_scores_of_a_clean_run(stack, tmp_path):
    log = event_log()

    clean = Deployment(stack["kafka_bootstrap"], stack["redis_url"], tmp_path / "clean")
    (tmp_path / "clean").mkdir()
    worker = Worker(clean)
    worker.wait_ready()
    produce(clean, log)
    wait_processed(worker, clean, len(log))
    wait_for(lambda: len(latest_scores(clean, 5)) >= 5, 60, "clean scores")
    worker.stop()
    expected = comparable(latest_scores(clean, 5))

    crashed = Deployment(stack["kafka_bootstrap"], stack["redis_url"], tmp_path / "crashed")
    (tmp_path / "crashed").mkdir()
    first = Worker(crashed)
    first.wait_ready()
    produce(crashed, log[: len(log) // 2])
    wait_processed(first, crashed, len(log) // 4)
    first.stop(signal.SIGKILL)  # mid-stream: offsets, changelog and scores partly written
    produce(crashed, log[len(log) // 2 :])
    second = Worker(crashed)
    second.wait_ready(timeout=120)
    wait_for(
        lambda: comparable(latest_scores(crashed, 5)).keys() == expected.keys(),
        90,
        "scores after restart",
    )

    def settled() -> bool:
        got = comparable(latest_scores(crashed, 5))
        return all(
            got[a][0] == expected[a][0] and abs(got[a][1] - expected[a][1]) < 1.0 for a in expected
        )

    # Emission only happens on moves of >= 1 point, so two runs may publish scores that differ
    # by less than a point depending on tick timing; bands and scores within that must agree.
    wait_for(settled, 90, f"restarted scores to match {expected}")
    second.stop()
    for deployment in (clean, crashed):
        deployment.remove()
