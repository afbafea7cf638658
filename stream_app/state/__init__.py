"""Windowed per-account state on event time (pure: no Faust, Kafka or Redis)."""

from stream_app.state.account import AccountState, DayBucket, TicketState, day_of
from stream_app.state.codec import decode_state, encode_state
from stream_app.state.spec import NsmSpec, WindowSpec

__all__ = [
    "AccountState",
    "DayBucket",
    "NsmSpec",
    "TicketState",
    "WindowSpec",
    "day_of",
    "decode_state",
    "encode_state",
]
