"""``worker``: make sure the topics exist with the right layout, then run a Faust worker."""

from __future__ import annotations

import logging

from faust.worker import Worker

from stream_app.app import create_engine
from stream_app.cli.topics import create_topics
from stream_app.gc_policy import HeapFreezer
from stream_app.settings import Settings

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> int:
    for line in create_topics(settings):
        log.info("topics: %s", line)
    engine = create_engine(settings)
    log.info("starting worker with settings %s", engine.settings.redacted())
    if settings.gc_freeze:
        HeapFreezer(settings.gc_thaw_interval.total_seconds()).install()
    worker = Worker(engine.app, loglevel=settings.log_level, redirect_stdouts=False)
    # Faust's terminal spinner (on at WARNING and above) lowers the root logger to DEBUG to
    # spin on every record: formatting aiokafka's debug records was 5-8 % of a busy worker
    worker.spinner = None
    worker.execute_from_commandline()  # returns only via SystemExit
    return 0
