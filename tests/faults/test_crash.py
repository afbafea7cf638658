"""Crash consistency: SIGKILL the worker at random points of a fixed log, restart it, and end
with exactly what an uninterrupted run ends with.

The guarantee under test is idempotent at-least-once (docs/decisions.md §3, §8, §23): offsets
are committed only after the state changelog, DLQ and score records they caused are flushed,
so a crash replays at most the uncommitted tail; each replayed event finds its id in the
account's de-duplication ledger, which lives in the same changelog record as the state it
changed, and is counted as a duplicate instead of a second time.
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.faults.runs import (
    alert_transitions,
    assert_same_outcome,
    collect,
    event_counts,
    group_lag,
    wait_drained,
)
from tests.faults.workload import produce
from tests.integration.fixtures import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SEED = 20251


def test_sigkill_at_random_points_ends_like_an_uninterrupted_run(
    private_kafka, fault_log, reference, new_deployment, workers, fault_report
):
    rng = random.Random(SEED)
    deployment = new_deployment()
    bootstrap = private_kafka.bootstrap
    first = workers(deployment)
    first.wait_ready()
    produce(bootstrap, deployment.topics, fault_log.records, deployment.partitions)
    kills = []
    worker = first
    for round_ in range(3):
        if round_:
            worker = workers(deployment)
            worker.wait_ready(timeout=120)
        # the records this process must get through: from the group's last commit to the end
        backlog = group_lag(bootstrap, deployment)
        target = int(backlog * rng.uniform(0.25, 0.75))

        def reached(w=worker, n=target) -> bool:
            return sum(event_counts(w, deployment).values()) >= n

        wait_for(reached, 180, f"{target} records seen", interval=0.05)
        seen = sum(event_counts(worker, deployment).values())
        worker.stop(signal.SIGKILL)
        # what makes a kill a test of recovery is work the group has not committed: replayed
        # records (counted as seen again) make `seen` a poor measure of that on later rounds
        uncommitted = group_lag(bootstrap, deployment)
        assert uncommitted > 0, f"the kill must leave uncommitted work ({seen} of {backlog} seen)"
        kills.append(f"after {seen} of a {backlog}-record backlog, {uncommitted} uncommitted")
    # one more while a restarted worker is still starting: joining the group, recovering
    starting = workers(deployment)
    time.sleep(rng.uniform(1.0, 4.0))
    status = starting.get("/readyz")[0]
    starting.stop(signal.SIGKILL)
    assert status != 200, "this kill must land before the worker is ready"
    kills.append(f"during start-up (/readyz answered {status or 'nothing'})")
    worker = workers(deployment)
    worker.wait_ready(timeout=120)
    wait_drained(deployment, worker)
    last = event_counts(worker, deployment)
    worker.stop()

    run = collect(deployment, fault_log.as_of)
    assert_same_outcome(reference, run, fault_log)
    redelivered = sum(run.dead_letters.values()) - len(run.dead_letters)
    usage_events = sum(sum(days.values()) for days in fault_log.usage_per_day().values())
    fault_report(
        f"SIGKILL x{len(kills)} (seed {SEED}): {'; '.join(kills)}. Compared with the "
        f"uninterrupted run: state of {len(run.summary)} accounts (usage per day, tickets, "
        f"surveys, profile, final-state score) equal; {usage_events} "
        f"usage events counted once (log truth); {len(run.dead_letters)} dead letters, same "
        f"sources ({redelivered} redelivered copies); "
        f"{sum(alert_transitions(run.alerts, 'nsm_decline').values())} NSM alert records equal, "
        f"none of {len(run.alerts)} alert records of any rule published twice; last process: "
        f"{dict(last)}; published "
        f"scores within 1 point of state for all {len(run.scores)} accounts"
    )
