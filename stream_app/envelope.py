"""The JSONL envelope ``{"topic", "key", "value"}`` shared by ``replay`` and ``backtest``.

``value`` is either a JSON object (sent as its compact JSON encoding) or a string (sent as its
UTF-8 bytes unchanged, so malformed payloads can be replayed too); ``key`` is a string or null.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from stream_app.errors import InputFileError

__all__ = ["Envelope", "read_envelopes", "write_envelope"]


@dataclass(frozen=True, slots=True)
class Envelope:
    topic: str
    key: bytes | None
    value: bytes | None


def _parse(line_no: int, line: bytes) -> Envelope:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputFileError(f"line {line_no}: not JSON ({exc})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("topic"), str) or not obj["topic"]:
        raise InputFileError(f'line {line_no}: expected an object with a "topic" string')
    key, value = obj.get("key"), obj.get("value")
    if key is not None and not isinstance(key, str):
        raise InputFileError(f'line {line_no}: "key" must be a string or null')
    if isinstance(value, str):
        raw_value: bytes | None = value.encode()
    elif value is None:
        raw_value = None
    else:
        raw_value = orjson.dumps(value)
    return Envelope(obj["topic"], key.encode() if key is not None else None, raw_value)


def read_envelopes(path: Path) -> Iterator[Envelope]:
    """Yield envelopes; blank lines are skipped; a malformed line raises naming its number."""
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                yield _parse(line_no, line)


def write_envelope(handle: IO[bytes], topic: str, key: str | None, value: Any) -> None:
    handle.write(orjson.dumps({"topic": topic, "key": key, "value": value}) + b"\n")
