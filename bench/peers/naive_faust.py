"""The baseline most teams would write: a Faust agent, one table update per event.

The table holds each account's daily buckets as plain JSON (Faust's default serializer) and
every event reads the account's record, folds the event into its day and writes the record
back, which also sends it to the changelog. Faust's defaults otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from faust.worker import Worker

from bench.peers.aggregate import RETENTION_DAYS, day_of, fold, new_bucket
from bench.peers.progress import Progress, load_spec


def build(spec: dict[str, Any]) -> faust.App:
    app = faust.App(
        spec["group"],
        broker=f"kafka://{spec['bootstrap']}",
        store="memory://",
        autodiscover=False,
        datadir=spec["state_dir"],
        topic_partitions=spec["partitions"],
        web_enabled=False,
    )
    table = app.Table("naive-aggregates", default=dict, partitions=spec["partitions"])
    inputs = app.topic(*spec["topics"], value_serializer="json")
    progress = Progress(spec["expected"], Path(spec["result"]), spec["measure_seconds"])

    @app.agent(inputs)
    async def aggregate(stream: faust.StreamT) -> None:
        async for value in stream:
            account = table[value["account_id"]]
            days = account.setdefault("days", {})
            day = day_of(value)
            days[str(day)] = fold(days.get(str(day)) or new_bucket(), value)
            for old in [d for d in days if int(d) < day - RETENTION_DAYS]:
                del days[old]
            table[value["account_id"]] = account
            progress.add()

    return app


if __name__ == "__main__":
    # INFO as the engine: at WARNING Faust's terminal spinner lowers the root logger to DEBUG.
    Worker(build(load_spec()), loglevel="INFO", redirect_stdouts=False).execute_from_commandline()
