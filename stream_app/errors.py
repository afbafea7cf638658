"""Exceptions the engine raises on purpose.

HealthstreamError
├── ConfigurationError   bad settings or cluster layout; the CLI exits 2 with the message
├── InputFileError       a JSONL file for replay/backtest is malformed (names the line)
└── ScoreStoreUnavailable  Redis cannot answer a read (serving.score_store); HTTP says 503
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "HealthstreamError", "InputFileError"]


class HealthstreamError(Exception):
    """Root of the engine's own exceptions."""


class ConfigurationError(HealthstreamError):
    pass


class InputFileError(HealthstreamError):
    pass
