"""HTTP endpoints on the worker's Faust web server: ``/metrics``, ``/livez``, ``/readyz``."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import faust
from faust.types import TP
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream_app.metrics import EngineMetrics

__all__ = ["register_views"]


def register_views(app: faust.App, metrics: EngineMetrics, inputs: Collection[str]) -> None:
    """``inputs``: the input topics, whose partitions /readyz lists as this worker's own."""

    @app.page("/metrics")
    async def metrics_view(web: View, request: Request) -> Response:
        # aiohttp refuses a charset inside content_type=, so the header goes in whole
        body = generate_latest(metrics.registry)
        return web.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/livez")
    async def livez(web: View, request: Request) -> Response:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: View, request: Request) -> Response:
        ready = app.consumer_generation_id > 0 and not app.rebalancing
        body = {
            "status": "ready" if ready else "starting",
            "rebalancing": app.rebalancing,
            # the partitions (accounts) this worker owns, and the state partitions it keeps
            # warm for a failover
            "partitions": {
                "active": _partitions(app.assignor.assigned_actives(), inputs),
                "standby": _partitions(app.assignor.assigned_standbys(), None),
            },
        }
        return web.json(body, status=200 if ready else 503)


def _partitions(tps: Iterable[TP], topics: Collection[str] | None) -> list[int]:
    return sorted({tp.partition for tp in tps if topics is None or tp.topic in topics})
