"""Compact binary encoding of :class:`AccountState` for the changelog (msgpack).

msgpack rather than JSON because state carries raw sketch bytes and the encoding runs on every
state write; a format version leads the record so later layouts can still read old changelogs.

Version 2 (several NSMs, ticket open times, the NSM detector's progress) reads version 1
records: their single NSM value becomes the primary's, a ticket's open time is taken as its last
update, and the detector starts from the newest closed day.

Version 3 writes an NSM sketch that is byte-identical to the day's users sketch (the default
NSM, distinct users over all event types, always is) as ``True`` instead of a second copy:
about a fifth of an account's bytes. Version 2 records read as before.

Version 4 adds the tracked users' active days of daily distinct-users NSMs (the decline
detector's lost-regulars test). Older records read with none: the test has no history for the
account until users have been seen again for a few weeks, and the count test judges alone.
"""

from __future__ import annotations

import msgpack

from stream_app.ingest.ledger import EventLedger
from stream_app.state.account import AccountState, DayBucket, TicketState

__all__ = ["decode_state", "encode_state"]

FORMAT_VERSION = 4


def encode_state(state: AccountState) -> bytes:
    """The state's record: the msgpack array ``decode_state`` reads, assembled from packed
    parts so that each day bucket's part can be the one packed when the day last changed
    (:meth:`AccountState.encoded_days`). The bytes are those of packing the whole array at
    once; a msgpack array is its header followed by its elements' encodings."""
    days = state.days
    return b"".join(
        [
            _STATE_HEADER,
            _elements(
                FORMAT_VERSION,
                [[kind, ledger.to_bytes()] for kind, ledger in state.ledgers.items()],
                state.first_seen,
            ),
            _array_header(len(days)),
            *state.encoded_days(_encode_day),
            _elements(
                [
                    [k, t.priority, t.is_open, t.updated_at, t.opened_at]
                    for k, t in state.tickets.items()
                ],
                state.tickets_seen,
                state.surveys,
                state.segment,
                state.seats,
                state.last_score,
                state.last_band,
                state.last_confidence,
                list(state.score_history.items()),
                state.nsm_judged_through,
                state.users_from,
                [[index, list(users.items())] for index, users in state.nsm_users.items()],
            ),
        ]
    )


def _array_header(length: int) -> bytes:
    """msgpack's array header (fixarray, array 16, array 32), as ``packb`` writes it. Not a
    shared ``msgpack.Packer``: its buffer is not safe across threads."""
    if length < 16:
        return bytes([0x90 | length])
    if length < 1 << 16:
        return b"\xdc" + length.to_bytes(2, "big")
    return b"\xdd" + length.to_bytes(4, "big")


_STATE_HEADER = _array_header(16)  # the elements: 3 + days + 12


def _elements(*items: object) -> bytes:
    """The encodings of ``items``, one after another: an array of them without its header."""
    return msgpack.packb(items, use_bin_type=True)[len(_array_header(len(items))) :]


def _encode_day(day: int, b: DayBucket) -> bytes:
    # the users sketch stands for an identical NSM sketch (bytes are never True)
    nsm = [True if value == b.users and value else value for value in b.nsm]
    return msgpack.packb(
        [day, b.events, b.users, b.features, nsm, b.escalations, b.reopens], use_bin_type=True
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
        *v2,
    ) = msgpack.unpackb(data, raw=False, strict_map_key=False)
    if version == 1:
        days = [[*row[:4], _v1_nsm(row[4], row[5]), *row[6:]] for row in days]
        tickets = [[*row, row[3]] for row in tickets]
    elif version not in (2, 3, FORMAT_VERSION):
        raise ValueError(f"unknown account-state format version {version}")
    else:  # the users sketch stands for an identical NSM sketch (bytes are never True)
        for row in days:
            row[4] = [row[2] if value is True else value for value in row[4]]
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
        nsm_judged_through=v2[0] if v2 else None,
        users_from=v2[1] if len(v2) > 1 else None,
        nsm_users={index: dict(users) for index, users in v2[2]} if len(v2) > 2 else {},
    )


def _v1_nsm(value: float, users: bytes) -> list[float | bytes]:
    return [users] if users else [value] if value else []
