"""Ingestion core: raw record -> outcome (processed, late, duplicate or invalid).

No Faust, Kafka or Redis in here. The live engine and the offline backtest drive this same
object through :class:`stream_app.engine.EngineCore`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from stream_app.clock import Clock
from stream_app.contracts.inputs import InputEvent
from stream_app.contracts.outputs import DeadLetter
from stream_app.ingest.decoder import Decoder, Rejection
from stream_app.ingest.ledger import Admission, EventLedger

__all__ = ["IngestResult", "Ingestor", "Outcome", "RawRecord"]

MAX_DLQ_PAYLOAD_BYTES = 256 * 1024
MAX_DLQ_KEY_CHARS = 256


class Outcome(StrEnum):
    """The ``outcome`` label of ``healthscore_events_total``."""

    PROCESSED = "processed"
    LATE = "late"  # applied, but arrived after the grace period
    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    record: BaseModel | None = None
    dead_letter: DeadLetter | None = None


@dataclass(frozen=True)
class IngestLimits:
    grace: timedelta
    dedupe_horizon: timedelta
    dedupe_max_ids: int


class Ingestor:
    def __init__(self, decoder: Decoder, clock: Clock, limits: IngestLimits) -> None:
        self._decoder = decoder
        self._clock = clock
        self._grace = limits.grace.total_seconds()
        self._horizon = limits.dedupe_horizon.total_seconds()
        self._max_ids = limits.dedupe_max_ids

    def validate(self, kind: str, record: RawRecord) -> BaseModel | DeadLetter:
        """Decode only, without touching the ledger: a model or the dead letter for it."""
        decoded = self._decoder.decode(kind, record.value, self._clock.now())
        if isinstance(decoded, Rejection):
            return self.dead_letter(record, decoded)
        return decoded

    def ingest(self, kind: str, record: RawRecord, ledger: EventLedger) -> IngestResult:
        decoded = self.validate(kind, record)
        if isinstance(decoded, DeadLetter):
            return IngestResult(Outcome.INVALID, dead_letter=decoded)
        return self.admit(record, decoded, ledger)

    def admit(self, record: RawRecord, event: BaseModel, ledger: EventLedger) -> IngestResult:
        """De-duplication and lateness for a validated record, against its account's ledger
        (which this updates; the caller persists it)."""
        if not isinstance(event, InputEvent):  # profiles are latest-wins state, not events
            return IngestResult(Outcome.PROCESSED, event)
        occurred_at = event.occurred_at.timestamp()
        admission = ledger.admit(
            event.event_id, occurred_at, horizon=self._horizon, max_ids=self._max_ids
        )
        if admission is Admission.DUPLICATE:
            return IngestResult(Outcome.DUPLICATE, event)
        if admission is Admission.TOO_LATE:
            reason = (
                f"occurred_at {event.occurred_at.isoformat()} is older than what this account's "
                f"de-duplication ledger still covers (floor "
                f"{datetime.fromtimestamp(ledger.floor, UTC).isoformat()}); "
                "accepting it could count it twice"
            )
            return IngestResult(
                Outcome.INVALID, dead_letter=self.dead_letter(record, Rejection("too_late", reason))
            )
        late = occurred_at < ledger.watermark - self._grace
        return IngestResult(Outcome.LATE if late else Outcome.PROCESSED, event)

    def dead_letter(self, record: RawRecord, rejection: Rejection) -> DeadLetter:
        payload = record.value or b""
        kept = payload[:MAX_DLQ_PAYLOAD_BYTES]
        key = None
        if record.key is not None:
            key = record.key.decode("utf-8", errors="replace")[:MAX_DLQ_KEY_CHARS]
        return DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=key,
            payload_base64=base64.b64encode(kept).decode("ascii"),
            payload_size=len(payload),
            payload_truncated=len(kept) < len(payload),
            error_class=rejection.error_class,
            reason=rejection.reason,
            rejected_at=self._clock.now(),
        )
