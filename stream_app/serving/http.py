"""HTTP endpoints on the worker's Faust web server: ``/metrics``, ``/livez``, ``/readyz``."""

from __future__ import annotations

from collections.abc import Iterable

import faust
from faust.types import TP
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream_app.metrics import EngineMetrics

__all__ = ["register_views"]


def register_views(app: faust.App, metrics: EngineMetrics) -> None:
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
            # which partitions this worker owns, and which it keeps warm for a failover
            "partitions": {
                "active": _partitions(app.assignor.assigned_actives()),
                "standby": _partitions(app.assignor.assigned_standbys()),
            },
        }
        return web.json(body, status=200 if ready else 503)


def _partitions(tps: Iterable[TP]) -> list[int]:
    return sorted({tp.partition for tp in tps})
