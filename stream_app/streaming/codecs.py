"""Faust codecs for our table values (compact binary, not JSON, for small changelog records)."""

from __future__ import annotations

from typing import Any

import faust
from faust.serializers import codecs

from stream_app.ingest.ledger import EventLedger

__all__ = ["LEDGER_CODEC", "codec_table", "register_codecs"]

LEDGER_CODEC = "hs-event-ledger"


class _LedgerCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return obj.to_bytes()

    def _loads(self, s: bytes) -> Any:
        return EventLedger.from_bytes(s)


def register_codecs() -> None:
    codecs.register(LEDGER_CODEC, _LedgerCodec())


def codec_table(app: faust.App, name: str, partitions: int, value_codec: str) -> faust.Table:
    """A table keyed by ``str`` whose values go through ``value_codec``.

    Faust derives a table's serializers from its key/value *types* (JSON unless the type is a
    Faust Record), so we set them before the lazily created store and changelog topic exist.
    """
    table = app.Table(name, partitions=partitions, key_type=str)
    table.key_serializer = "raw"
    table.value_serializer = value_codec
    return table
