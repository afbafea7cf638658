"""The same aggregation with Quix Streams, written as its documentation shows.

Each input topic becomes a StreamingDataFrame with event time taken from ``occurred_at``; the
three are concatenated and folded per account into a one-day tumbling window (``reduce``) with
the engine's grace of one hour, emitting the current aggregate on every update. Defaults
otherwise: RocksDB state with changelog topics, at-least-once, commits every 5 s. Runs in its
own virtualenv (``.venv-quix``): Quix pins versions of pydantic the engine cannot use.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from quixstreams import Application

from bench.peers.aggregate import event_time, fold, new_bucket
from bench.peers.progress import Progress, load_spec


def main() -> None:
    spec = load_spec()
    progress = Progress(
        spec["expected"], Path(spec["result"]), spec["measure_seconds"], extra={"late": 0}
    )
    app = Application(
        broker_address=spec["bootstrap"],
        consumer_group=spec["group"],
        auto_offset_reset="earliest",
        state_dir=spec["state_dir"],
        loglevel="WARNING",
    )

    def occurred_at_ms(value: Any, headers: Any, timestamp: float, kind: Any) -> int:
        return int(event_time(value) * 1000)

    def done(count: int) -> None:
        if progress.add(count):
            app.stop()

    def on_late(*args: Any, **kwargs: Any) -> bool:
        progress.extra["late"] += 1  # dropped by the window, still consumed: count it
        done(1)
        return False  # do not log each one

    frames = [
        app.dataframe(
            app.topic(name, value_deserializer="json", timestamp_extractor=occurred_at_ms)
        )
        for name in spec["topics"]
    ]
    sdf = frames[0]
    for other in frames[1:]:
        sdf = sdf.concat(other)
    sdf = (
        sdf.tumbling_window(timedelta(days=1), grace_ms=timedelta(hours=1), on_late=on_late)
        .reduce(reducer=fold, initializer=lambda value: fold(new_bucket(), value))
        .current()
    )
    sdf.update(lambda window: done(1))
    app.run()  # as in production; stops from `done` (the harness kills it past its timeout)


if __name__ == "__main__":
    main()
