"""The engine core: ingest -> windowed state -> score -> what to publish (pure)."""

from stream_app.engine.core import DictStateStore, EngineCore, StateStore

__all__ = ["DictStateStore", "EngineCore", "StateStore"]
