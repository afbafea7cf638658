"""The engine core: ingest -> windowed state -> score and alerts -> what to publish (pure)."""

from stream_app.engine.alerting import AccountAlerting, AlertStore, DictAlertStore
from stream_app.engine.core import DictStateStore, EngineCore, Published, StateStore

__all__ = [
    "AccountAlerting",
    "AlertStore",
    "DictAlertStore",
    "DictStateStore",
    "EngineCore",
    "Published",
    "StateStore",
]
