"""The timer that refreshes the census and consumer-lag gauges of a worker."""

from __future__ import annotations

import logging
from collections.abc import Collection

import faust

from stream_app.engine.core import StateStore
from stream_app.metrics import EngineMetrics
from stream_app.observability.census import take_census
from stream_app.observability.consumer_lag import read_consumer_lag
from stream_app.settings import Settings
from stream_app.streaming.table_store import TableAlertStore

__all__ = ["register_gauges"]

log = logging.getLogger(__name__)


def register_gauges(
    app: faust.App,
    store: StateStore,
    alert_store: TableAlertStore,
    alert_rules: Collection[str],
    metrics: EngineMetrics,
    settings: Settings,
    lag_topics: Collection[str],
) -> None:
    lowest = settings.metrics_lowest_accounts

    async def refresh() -> None:
        # Metrics must never take the worker down: a failed refresh leaves the last values.
        try:
            # The lag is read first (it may wait on the consumer's thread); then no await
            # between reading the table and setting the gauges: a scrape (same event loop)
            # never sees a half-updated census, nor a census without the lag of its refresh.
            lag = await read_consumer_lag(app.consumer, lag_topics)
            metrics.set_population(take_census(store, lowest))
            metrics.set_alerts_firing(alert_store.firing_counts(), alert_rules)
            metrics.set_consumer_lag(lag)
        except Exception:
            log.exception("refreshing the census and consumer-lag gauges failed")

    app.timer(settings.census_interval.total_seconds(), name="census")(refresh)
