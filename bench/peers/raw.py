"""The ceiling for a Python consumer here: aiokafka, batched ``getmany``, JSON decode only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer

from bench.peers.progress import Progress, load_spec


async def main() -> None:
    spec = load_spec()
    progress = Progress(spec["expected"], Path(spec["result"]), spec["measure_seconds"])
    consumer = AIOKafkaConsumer(
        *spec["topics"],
        bootstrap_servers=spec["bootstrap"],
        group_id=spec["group"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(spec["measure_seconds"] + 120):  # even if nothing arrives
            done = False
            while not done:
                batches = await consumer.getmany(timeout_ms=200, max_records=20_000)
                for messages in batches.values():
                    for message in messages:
                        orjson.loads(message.value)
                    done = progress.add(len(messages))
    finally:
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(main())
