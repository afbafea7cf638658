"""Compact binary encoding of :class:`AccountState` for the changelog (msgpack).

msgpack rather than JSON because state carries raw sketch bytes and the encoding runs on every
state write; a format version leads the record so later layouts can still read old changelogs.
"""

from __future__ import annotations

import msgpack

from stream_app.ingest.ledger import EventLedger
from stream_app.state.account import AccountState, DayBucket, TicketState

__all__ = ["decode_state", "encode_state"]

FORMAT_VERSION = 1


def encode_state(state: AccountState) -> bytes:
    return msgpack.packb(
        [
            FORMAT_VERSION,
            [[kind, ledger.to_bytes()] for kind, ledger in state.ledgers.items()],
            state.first_seen,
            [
                [
                    d,
                    b.events,
                    b.users,
                    b.features,
                    b.nsm_value,
                    b.nsm_users,
                    b.escalations,
                    b.reopens,
                ]
                for d, b in state.days.items()
            ],
            [[k, t.priority, t.is_open, t.updated_at] for k, t in state.tickets.items()],
            state.tickets_seen,
            state.surveys,
            state.segment,
            state.seats,
            state.last_score,
            state.last_band,
            state.last_confidence,
            list(state.score_history.items()),
        ],
        use_bin_type=True,
    )


def decode_state(data: bytes) -> AccountState:
    (
        version,
        ledgers,
        first_seen,
        days,
        tickets,
        tickets_seen,
        surveys,
        segment,
        seats,
        last_score,
        last_band,
        last_confidence,
        history,
    ) = msgpack.unpackb(data, raw=False, strict_map_key=False)
    if version != FORMAT_VERSION:
        raise ValueError(f"unknown account-state format version {version}")
    return AccountState(
        ledgers={kind: EventLedger.from_bytes(data) for kind, data in ledgers},
        first_seen=first_seen,
        days={row[0]: DayBucket(*row[1:]) for row in days},
        tickets={row[0]: TicketState(*row[1:]) for row in tickets},
        tickets_seen=tickets_seen,
        surveys=[tuple(s) for s in surveys],
        segment=segment,
        seats=seats,
        last_score=last_score,
        last_band=last_band,
        last_confidence=last_confidence,
        score_history=dict(history),
    )
