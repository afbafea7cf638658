"""Faust adapter for ingestion: input topics -> :class:`Ingestor` -> DLQ / state.

Thin on purpose: it turns Kafka messages into :class:`RawRecord`, asks the core what happened,
sends dead letters, forwards badly keyed events to their account's partition and counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import faust
from faust.types import EventT

from stream_app.clock import Clock
from stream_app.contracts.outputs import DeadLetter
from stream_app.ingest import (
    Decoder,
    IngestLimits,
    Ingestor,
    IngestResult,
    Outcome,
    RawRecord,
    Rejection,
)
from stream_app.metrics import EngineMetrics
from stream_app.settings import Settings
from stream_app.streaming.codecs import LEDGER_CODEC, codec_table
from stream_app.streaming.routing import AccountPartitioner

__all__ = ["IngestionAgents"]

log = logging.getLogger(__name__)

# Headers on re-keyed records: where the record first came from.
H_TOPIC, H_PARTITION, H_OFFSET = "hs-source-topic", "hs-source-partition", "hs-source-offset"

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}

ResultSink = Callable[[IngestResult], None]


class IngestionAgents:
    """Wires the input topics, the re-key topic, the DLQ and the event-ledger table."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        metrics: EngineMetrics,
        clock: Clock,
        on_result: ResultSink | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.on_result = on_result
        self.kinds = settings.topics.inputs()
        self.partitioner = AccountPartitioner(settings.partitions)
        self.inputs = app.topic(*self.kinds, allow_empty=True, **RAW)
        self.rekeyed = app.topic(
            f"{settings.app_id}-events-by-account",
            partitions=settings.partitions,
            internal=True,
            allow_empty=True,
            **RAW,
        )
        self.dlq = app.topic(settings.topics.dlq, **RAW)
        self.ledgers = codec_table(app, "event-ledgers", settings.partitions, LEDGER_CODEC)
        self.ingestor = Ingestor(
            Decoder(
                max_message_bytes=settings.max_message_bytes,
                max_future_skew=settings.max_future_skew,
            ),
            self.ledgers,
            clock,
            IngestLimits(
                settings.grace, settings.dedupe_horizon, settings.dedupe_max_ids_per_account
            ),
        )
        app.agent(self.inputs, name="ingest")(self._consume_inputs)
        app.agent(self.rekeyed, name="ingest-rekeyed")(self._consume_rekeyed)

    async def _consume_inputs(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            record = RawRecord(
                message.topic, message.partition, message.offset, message.key, message.value
            )
            await self._handle_safely(event, record, rekey_allowed=True)

    async def _consume_rekeyed(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            headers = event.headers
            record = RawRecord(
                _text(headers[H_TOPIC]),
                int(headers[H_PARTITION]),
                int(headers[H_OFFSET]),
                event.message.key,
                event.message.value,
            )
            await self._handle_safely(event, record, rekey_allowed=False)

    async def _handle_safely(
        self, event: EventT, record: RawRecord, *, rekey_allowed: bool
    ) -> None:
        """A record that trips a bug in our code goes to the DLQ instead of crashing the agent:
        a crashed Faust agent leaves its event un-acked, which blocks the partition's commits."""
        try:
            await self._handle(event, record, rekey_allowed=rekey_allowed)
        except Exception as exc:
            log.exception(
                "unexpected error on %s[%d]@%d", record.topic, record.partition, record.offset
            )
            rejection = Rejection(
                "processing_error", f"internal error {type(exc).__name__}: {exc}"[:1000]
            )
            await self._reject(record.topic, self.ingestor.dead_letter(record, rejection))

    async def _handle(self, event: EventT, record: RawRecord, *, rekey_allowed: bool) -> None:
        kind = self.kinds[record.topic]
        validated = self.ingestor.validate(kind, record)
        if isinstance(validated, DeadLetter):
            await self._reject(record.topic, validated)
            return
        account_id: str = validated.account_id  # type: ignore[attr-defined]
        if rekey_allowed and not self.partitioner.is_home(account_id, event.message.partition):
            await self.rekeyed.send(
                key=account_id.encode(),
                value=record.value,
                headers={
                    H_TOPIC: record.topic.encode(),
                    H_PARTITION: str(record.partition).encode(),
                    H_OFFSET: str(record.offset).encode(),
                },
            )
            return
        result = self.ingestor.admit(record, validated)
        if result.dead_letter is not None:
            await self._reject(record.topic, result.dead_letter)
            return
        self.metrics.count(record.topic, result.outcome)
        if self.on_result is not None:
            self.on_result(result)

    async def _reject(self, topic: str, dead_letter: DeadLetter) -> None:
        self.metrics.count(topic, Outcome.INVALID, dead_letter.error_class)
        await self.dlq.send(
            key=dead_letter.key.encode() if dead_letter.key is not None else None,
            value=dead_letter.model_dump_json().encode(),
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
