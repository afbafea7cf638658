"""Turns raw record bytes into a validated contract model, or a :class:`Rejection` with a reason.

Pure and total: for any bytes at all the result is one of the two, never an exception. The
happy path is one pass of pydantic's Rust JSON parser; classification work happens only on
failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from stream_app.contracts.inputs import INPUT_MODELS, InputEvent
from stream_app.contracts.outputs import ErrorClass

__all__ = ["Decoder", "Rejection"]

MAX_REASON_CHARS = 1000
MAX_ERRORS_LISTED = 5


@dataclass(frozen=True, slots=True)
class Rejection:
    error_class: ErrorClass
    reason: str


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:MAX_ERRORS_LISTED]:
        location = ".".join(str(part) for part in error["loc"]) or "record"
        parts.append(f"{location}: {error['msg']}")
    if len(errors) > MAX_ERRORS_LISTED:
        parts.append(f"and {len(errors) - MAX_ERRORS_LISTED} more errors")
    return "; ".join(parts)[:MAX_REASON_CHARS]


def _classify(raw: bytes, error: ValidationError) -> Rejection:
    errors = error.errors(include_input=False, include_url=False, include_context=False)
    root = errors[0] if errors and not errors[0]["loc"] else None
    if root is not None and root["type"] == "json_invalid":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Rejection("not_utf8", f"value is not valid UTF-8 (byte {exc.start})")
        return Rejection("not_json", f"value is not JSON: {root['msg']}"[:MAX_REASON_CHARS])
    if root is not None and root["type"] == "model_type":
        return Rejection("not_object", "value is JSON but not an object")
    return Rejection("validation", _describe(errors))


class Decoder:
    """Validates one input kind (``usage``/``ticket``/``survey``/``account``)."""

    def __init__(self, *, max_message_bytes: int, max_future_skew: timedelta | None) -> None:
        """``max_future_skew=None`` turns the arrival check off (backtests have no arrival)."""
        self.max_message_bytes = max_message_bytes
        self.max_future_skew = max_future_skew

    def decode(self, kind: str, raw: bytes | None, now: datetime) -> BaseModel | Rejection:
        if raw is None:
            return Rejection("not_json", "value is empty (null record)")
        if len(raw) > self.max_message_bytes:
            return Rejection(
                "oversize",
                f"value is {len(raw)} bytes; the limit is {self.max_message_bytes} bytes",
            )
        model = INPUT_MODELS[kind]
        try:
            record = model.model_validate_json(raw, strict=True)
        except ValidationError as exc:
            return _classify(raw, exc)
        skew = self.max_future_skew
        if skew is not None and isinstance(record, InputEvent) and record.occurred_at > now + skew:
            return Rejection(
                "future_timestamp",
                f"occurred_at {record.occurred_at.isoformat()} is more than "
                f"{skew} ahead of the engine clock ({now.isoformat()})",
            )
        return record
