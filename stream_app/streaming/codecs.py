"""Faust codecs and codec-backed tables: account state (msgpack) and alert state (the alerts
topic's own JSON records)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import faust
from faust.serializers import codecs

from stream_app.alerts import AlertState
from stream_app.state import decode_state, encode_state

__all__ = ["ALERT_CODEC", "STATE_CODEC", "LaneMark", "codec_table", "register_codecs"]

STATE_CODEC = "hs-account-state"
ALERT_CODEC = "hs-risk-alert"
# 0xc1 is the one byte msgpack never uses, so no encoded account state starts with it
_LANE_MARK = b"\xc1lane"
_LANE_CLOCK = struct.Struct(">d")


@dataclass(frozen=True, slots=True)
class LaneMark:
    """How far a partition's usage had been read when every state it produced was sent: the
    engine's lane clock, kept in the account-state changelog next to those states."""

    usage_time: float  # epoch seconds


class _StateCodec(codecs.Codec):
    """Account states, and the lane marks between them."""

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, LaneMark):
            return _LANE_MARK + _LANE_CLOCK.pack(obj.usage_time)
        return encode_state(obj)

    def _loads(self, s: bytes) -> Any:
        if s.startswith(_LANE_MARK):
            return LaneMark(*_LANE_CLOCK.unpack(s[len(_LANE_MARK) :]))
        return decode_state(s)


class _AlertCodec(codecs.Codec):
    """Writes a :class:`RiskAlert` as the JSON subscribers read; reads back only the
    :class:`AlertState` it implies. The alert table's changelog *is* the alerts topic."""

    def _dumps(self, obj: Any) -> bytes:
        return obj.model_dump_json().encode()

    def _loads(self, s: bytes) -> Any:
        return AlertState.from_json(s)


def register_codecs() -> None:
    codecs.register(STATE_CODEC, _StateCodec())
    codecs.register(ALERT_CODEC, _AlertCodec())


def codec_table(
    app: faust.App,
    name: str,
    partitions: int,
    value_codec: str,
    changelog_topic: str | None = None,
) -> faust.Table:
    """A table keyed by ``str`` whose values go through ``value_codec``, in its changelog too.

    Faust derives a table's serializers from its key/value *types* (JSON unless the type is a
    Faust Record), and the changelog topic it builds for itself keeps those: writes would use
    the codec we set on the table, but recovery would decode the changelog as JSON and never
    finish. So the changelog topic is declared here, with the codec, and handed to the table:
    an internal compacted ``<app id>-<name>-changelog``, or ``changelog_topic`` (one of ours,
    created by ``topics create`` with its own retention).
    """
    changelog = app.topic(
        changelog_topic or f"{app.conf.id}-{name}-changelog",
        key_type=str,
        key_serializer="raw",
        value_serializer=value_codec,
        partitions=partitions,
        compacting=changelog_topic is None,
        internal=changelog_topic is None,
    )
    table = app.Table(name, partitions=partitions, key_type=str, changelog_topic=changelog)
    table.key_serializer = "raw"
    table.value_serializer = value_codec
    return table
