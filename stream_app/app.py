"""The Faust application: ``create_engine(settings)`` wires topics, tables, agents and views."""

from __future__ import annotations

import faust

from stream_app.clock import Clock, SystemClock
from stream_app.connections import faust_credentials, redis_client
from stream_app.metrics import EngineMetrics, create_metrics
from stream_app.observability.gauges import register_gauges
from stream_app.scoring import ScoringConfig, load_scoring_config
from stream_app.serving.accounts_api import register_account_views
from stream_app.serving.http import register_views
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings
from stream_app.state import NsmSpec, WindowSpec
from stream_app.streaming import commit_guard, fetch_guard, standby_seek
from stream_app.streaming.agents import EngineAgents
from stream_app.streaming.codecs import register_codecs

__all__ = ["Engine", "create_engine", "window_spec"]


def window_spec(scoring: ScoringConfig, settings: Settings) -> WindowSpec:
    """What the window layer needs from the model file and the settings."""
    return WindowSpec(
        key_features=tuple(scoring.key_features),
        nsms=tuple(
            NsmSpec(
                name=nsm.name,
                measure=nsm.measure,
                event_types=frozenset(nsm.event_types),
                window_days=nsm.window_days,
                baseline_windows=nsm.baseline_windows,
                step_days=nsm.step_days,
                tracked_users=nsm.tracked_users,
            )
            for nsm in scoring.north_star_metrics
        ),
        grace_seconds=settings.grace.total_seconds(),
    )


class Engine:
    """The wired application and handles on its parts (for tests and the CLI)."""

    def __init__(self, settings: Settings, metrics: EngineMetrics, clock: Clock) -> None:
        register_codecs()
        commit_guard.install()
        fetch_guard.install()
        standby_seek.install()
        self.settings = settings
        self.metrics = metrics
        self.scoring = load_scoring_config(settings.scoring_config)
        self.app = faust.App(
            settings.app_id,
            broker=settings.broker_url,
            store="memory://",
            autodiscover=False,
            datadir=str(settings.data_dir),
            topic_partitions=settings.partitions,
            topic_replication_factor=settings.replication_factor,
            topic_allow_declare=True,
            web_host=settings.web_host,
            web_port=settings.web_port,
            web_in_thread=False,
            # only our own views (serving/): Faust's would serve the raw state table over HTTP
            web_tables_enabled=False,
            web_router_enabled=False,
            web_graph_enabled=False,
            web_stats_enabled=False,
            processing_guarantee="at_least_once",
            broker_credentials=faust_credentials(settings),
            broker_session_timeout=settings.broker_session_timeout.total_seconds(),
            broker_heartbeat_interval=settings.broker_heartbeat_interval.total_seconds(),
            table_standby_replicas=settings.table_standby_replicas,
            producer_max_request_size=4 * settings.max_message_bytes,
            # batch changelog, score and DLQ records into fewer produce requests: with Faust's
            # default of 0 each was its own request (16 % of a worker in the socket write)
            producer_linger=settings.producer_linger.total_seconds(),
            # room for a flush's states of one partition in one record batch (aiokafka's
            # default is 16 KiB; states are sent in batches, decisions §35); under the
            # request size and the broker's 1 MB message limit
            producer_max_batch_size=2 * settings.max_message_bytes,
            consumer_max_fetch_size=8 * settings.max_message_bytes,
        )
        metrics.prime(list(settings.topics.inputs()), self.scoring.alert_rules)
        self.redis = redis_client(settings)
        self.score_store = ScoreStore(
            self.redis, prefix=settings.redis_prefix, on_error=metrics.redis_errors.inc
        )
        self.agents = EngineAgents(
            self.app,
            settings,
            self.scoring,
            window_spec(self.scoring, settings),
            metrics,
            clock,
            self.score_store,
        )
        register_gauges(
            self.app,
            self.agents.core.store,
            self.agents.alert_store,
            self.scoring.alert_rules,
            metrics,
            settings,
            lag_topics=[*self.agents.inputs.topics, *self.agents.rekeyed.topics],
        )
        register_views(self.app, metrics, settings.topics.inputs())
        register_account_views(self.app, self.score_store)


def create_engine(settings: Settings | None = None, clock: Clock | None = None) -> Engine:
    return Engine(settings or Settings(), create_metrics(), clock or SystemClock())
