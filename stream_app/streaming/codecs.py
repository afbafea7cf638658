"""Faust codec for the account-state table (compact msgpack, not JSON)."""

from __future__ import annotations

from typing import Any

import faust
from faust.serializers import codecs

from stream_app.state import decode_state, encode_state

__all__ = ["STATE_CODEC", "codec_table", "register_codecs"]

STATE_CODEC = "hs-account-state"


class _StateCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return encode_state(obj)

    def _loads(self, s: bytes) -> Any:
        return decode_state(s)


def register_codecs() -> None:
    codecs.register(STATE_CODEC, _StateCodec())


def codec_table(app: faust.App, name: str, partitions: int, value_codec: str) -> faust.Table:
    """A table keyed by ``str`` whose values go through ``value_codec``, in its changelog too.

    Faust derives a table's serializers from its key/value *types* (JSON unless the type is a
    Faust Record), and the changelog topic it builds for itself keeps those: writes would use
    the codec we set on the table, but recovery would decode the changelog as JSON and never
    finish. So the changelog topic is declared here, with the codec, and handed to the table.
    """
    changelog = app.topic(
        f"{app.conf.id}-{name}-changelog",
        key_type=str,
        key_serializer="raw",
        value_serializer=value_codec,
        partitions=partitions,
        compacting=True,
        internal=True,
    )
    table = app.Table(name, partitions=partitions, key_type=str, changelog_topic=changelog)
    table.key_serializer = "raw"
    table.value_serializer = value_codec
    return table
