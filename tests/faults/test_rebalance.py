"""Scale-out and scale-in mid-stream: partitions move between two workers of one consumer
group, each recovers the state it takes over, and the end result is the single-worker run's.

Standby replicas (``HS_TABLE_STANDBY_REPLICAS``, default 1) keep a warm copy of the other
worker's state partitions, so the worker that is left does not start from an empty table.
"""

from __future__ import annotations

import orjson
import pytest

from tests.faults.runs import assert_same_outcome, collect, event_counts, wait_drained
from tests.faults.workload import feed
from tests.integration.fixtures import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

RATE = 50  # records/s: the ~2800-record log takes ~56 s to arrive


def partitions(worker: Worker) -> dict[str, list[int]]:
    status, body = worker.get("/readyz")
    return orjson.loads(body)["partitions"] if status == 200 else {"active": [], "standby": []}


def seen(worker: Worker, deployment) -> int:
    return sum(event_counts(worker, deployment).values())


def test_two_workers_share_then_one_takes_over_mid_stream(
    private_kafka, fault_log, reference, new_deployment, workers, fault_report
):
    deployment = new_deployment()
    everything = list(range(deployment.partitions))
    first = workers(deployment)
    first.wait_ready()
    # the log keeps arriving through both rebalances, whatever the machine's speed
    feeder = feed(
        private_kafka.bootstrap, deployment.topics, fault_log.records, deployment.partitions, RATE
    )
    quarter = len(fault_log) // 4
    wait_for(lambda: seen(first, deployment) >= quarter, 180, "a quarter of the log")

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
    wait_for(lambda: seen(second, deployment) >= 50, 180, "the newcomer processing")

    # scale in mid-stream: the first worker leaves, the second takes every partition
    assert feeder.is_alive(), f"the log was all sent before the scale-in; lower RATE ({RATE})"
    first_seen = seen(first, deployment)
    first.stop()
    wait_for(lambda: partitions(second)["active"] == everything, 120, "the takeover")
    feeder.join(timeout=180)
    wait_drained(deployment, second)
    second_seen = seen(second, deployment)
    second.stop()

    run = collect(deployment, fault_log.as_of)
    assert_same_outcome(reference, run, fault_log)
    fault_report(
        f"2 workers, 1 group, {deployment.partitions} partitions, log arriving at {RATE}/s: "
        f"scale-out after {quarter} records (active/standby {split[0]} | {split[1]}), then "
        f"the first stopped after seeing {first_seen} records; the second took all partitions "
        f"and saw {second_seen}. "
        f"Compared with the single-worker run: state and final-state scores of "
        f"{len(run.summary)} accounts equal, dead-letter sources equal, published scores "
        f"converged"
    )
