"""Scale-out and scale-in part-way through the log: partitions move between two workers of
one consumer group, each recovers the state it takes over, and the end result is the
single-worker run's.

Standby replicas (``HS_TABLE_STANDBY_REPLICAS``, default 1) keep a warm copy of the other
worker's state partitions, so the worker that is left does not start from an empty table.

Each membership change happens while the group has no records in flight (the log arrives in
thirds, and the group drains before a worker joins or leaves): a rebalance with records
fetched but not yet processed once lost records in a way not yet explained (docs/decisions.md
§15), and a test that depends on it would pass or fail by timing.
"""

from __future__ import annotations

import orjson
import pytest

from tests.faults.runs import assert_same_outcome, collect, event_counts, wait_drained
from tests.faults.workload import produce
from tests.integration.fixtures import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def partitions(worker: Worker) -> dict[str, list[int]]:
    status, body = worker.get("/readyz")
    return orjson.loads(body)["partitions"] if status == 200 else {"active": [], "standby": []}


def seen(worker: Worker, deployment) -> int:
    return sum(event_counts(worker, deployment).values())


def test_two_workers_share_then_one_takes_over(
    private_kafka, fault_log, reference, new_deployment, workers, fault_report
):
    deployment = new_deployment()
    everything = list(range(deployment.partitions))
    third = len(fault_log) // 3
    parts = [fault_log.records[:third], fault_log.records[third : 2 * third]]
    parts.append(fault_log.records[2 * third :])

    def send(records) -> None:
        produce(private_kafka.bootstrap, deployment.topics, records, deployment.partitions)

    first = workers(deployment)
    first.wait_ready()
    send(parts[0])
    wait_drained(deployment, first)

    # scale out: the group rebalances, the newcomer recovers its partitions from the changelog
    second = workers(deployment)
    second.wait_ready(timeout=120)
    wait_for(
        lambda: sorted(partitions(first)["active"] + partitions(second)["active"]) == everything,
        60,
        "the partitions split between the two workers",
    )
    split = (partitions(first), partitions(second))
    assert split[0]["active"] and split[1]["active"], split
    assert split[0]["standby"] or split[1]["standby"], f"no standby replicas: {split}"
    send(parts[1])
    wait_drained(deployment, second)
    shared = (seen(first, deployment), seen(second, deployment))
    assert all(shared), f"both workers must have processed part of the log: {shared}"

    # scale in: the first worker leaves, the second takes every partition and its state
    first.stop()
    wait_for(lambda: partitions(second)["active"] == everything, 120, "the takeover")
    send(parts[2])
    wait_drained(deployment, second)
    second_seen = seen(second, deployment)
    second.stop()

    run = collect(deployment, fault_log.as_of)
    assert_same_outcome(reference, run, fault_log)
    fault_report(
        f"2 workers, 1 group, {deployment.partitions} partitions, log in thirds: scale-out "
        f"after {third} records (active/standby {split[0]} | {split[1]}); the middle third "
        f"shared ({shared[0]} | {shared[1]} records seen); the first then stopped and the "
        f"second took all partitions (saw {second_seen} in all). Compared with the "
        f"single-worker run: state and final-state scores of {len(run.summary)} accounts "
        f"equal, dead-letter sources equal, published scores converged"
    )


def test_two_workers_started_together_both_stay_up(
    private_kafka, fault_log, reference, new_deployment, workers, fault_report
):
    """A fresh group whose second member joins during the first one's recovery: the rebalance
    lands mid-recovery and registers standby partitions the running pass has no offsets for
    (once a crash in Faust's recovery, decisions §32)."""
    deployment = new_deployment()
    everything = list(range(deployment.partitions))
    pair = [workers(deployment), workers(deployment)]
    for worker in pair:
        worker.wait_ready(timeout=120)
    wait_for(
        lambda: sorted(partitions(pair[0])["active"] + partitions(pair[1])["active"]) == everything,
        60,
        "the partitions split between the two workers",
    )
    produce(private_kafka.bootstrap, deployment.topics, fault_log.records, deployment.partitions)
    wait_drained(deployment, pair[0])
    exits = [worker.process.poll() for worker in pair]
    crashed = "\n".join(w.log_tail() for w in pair if w.process.poll() is not None)
    assert exits == [None, None], f"a worker exited: {exits}\n{crashed}"
    shared = [seen(worker, deployment) for worker in pair]
    assert all(shared), f"both workers must have processed part of the log: {shared}"
    for worker in pair:
        worker.stop()

    run = collect(deployment, fault_log.as_of)
    assert_same_outcome(reference, run, fault_log)
    fault_report(
        f"2 workers started together on a fresh group: both stayed up and shared the log "
        f"({shared[0]} | {shared[1]} records seen); state, scores and dead letters equal to "
        f"the single-worker run"
    )
