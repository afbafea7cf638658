"""Faust adapter: input topics -> :class:`EngineCore` -> DLQ, health scores, Redis, alerts.

Thin on purpose. The agent turns Kafka messages into :class:`RawRecord`, forwards badly keyed
ones to their account's partition and hands the rest to the core; a task ticking at a fixed rate
(:mod:`stream_app.streaming.ticker`) asks the core for the scores and alerts worth publishing
and sends the scores (alerts are published by the alert table's write, see
:class:`TableAlertStore`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

import faust
from faust.types import EventT
from kafka.errors import KafkaError

from stream_app.clock import Clock
from stream_app.connections import kafka_client_options
from stream_app.contracts.outputs import DeadLetter
from stream_app.engine import EngineCore, Published
from stream_app.ingest import Decoder, IngestLimits, Ingestor, Outcome, RawRecord, Rejection
from stream_app.metrics import EngineMetrics
from stream_app.scoring import ScoringConfig
from stream_app.serving.score_store import ScoreStore
from stream_app.settings import Settings
from stream_app.state import WindowSpec
from stream_app.streaming.batched_send import send_in_batches
from stream_app.streaming.codecs import ALERT_CODEC, STATE_CODEC, codec_table
from stream_app.streaming.routing import AccountPartitioner
from stream_app.streaming.skipped import Fetched, OffsetTracker, SkippedRecordReader
from stream_app.streaming.table_store import TableAlertStore, TableStateStore
from stream_app.streaming.ticker import fixed_rate

__all__ = ["EngineAgents"]

log = logging.getLogger(__name__)

# Headers on re-keyed records: where the record first came from.
H_TOPIC, H_PARTITION, H_OFFSET = "hs-source-topic", "hs-source-partition", "hs-source-offset"
# Input quiet this long: any record Faust read is delivered by now, or it never will be.
TRAILING_AFTER = timedelta(seconds=2)
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}


class EngineAgents:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        scoring: ScoringConfig,
        spec: WindowSpec,
        metrics: EngineMetrics,
        clock: Clock,
        scores_store: ScoreStore,
    ) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.score_store = scores_store
        self.kinds = settings.topics.inputs()
        self.partitioner = AccountPartitioner(settings.partitions)
        self.inputs = app.topic(*self.kinds, allow_empty=True, **RAW)
        self.rekeyed = app.topic(
            settings.rekey_topic,
            partitions=settings.partitions,
            internal=True,
            allow_empty=True,
            **RAW,
        )
        self.dlq = app.topic(settings.topics.dlq, **RAW)
        self.health_scores = app.topic(settings.topics.health_scores, **RAW)
        self.table = codec_table(app, "account-state", settings.partitions, STATE_CODEC)
        self.table.on_recover(self._on_recover)
        self.alert_table = codec_table(
            app,
            "risk-alerts",
            settings.partitions,
            ALERT_CODEC,
            changelog_topic=settings.topics.risk_alerts,
        )
        ingestor = Ingestor(
            Decoder(
                max_message_bytes=settings.max_message_bytes,
                max_future_skew=settings.max_future_skew,
            ),
            clock,
            IngestLimits(
                settings.grace, settings.dedupe_horizon, settings.dedupe_max_ids_per_account
            ),
        )
        self.state_store = TableStateStore(app, self.table, self.partitioner)
        self.alert_store = TableAlertStore(
            self.alert_table, self.partitioner, self.state_store.owns
        )
        self.core = EngineCore(
            ingestor,
            scoring,
            spec,
            self.state_store,
            self.alert_store,
            clock,
            due_budget=settings.due_budget,
            lane_of=self.partitioner.partition_of,
            catchup_lag=(
                settings.catchup_lag.total_seconds() if settings.catchup_lag is not None else None
            ),
            catchup_budget=settings.catchup_budget,
        )
        self._last_event = clock.now()
        self._last_record = clock.now()  # any record, valid or not: is input flowing?
        self._write_lock = asyncio.Lock()
        self._offsets = OffsetTracker()
        self._skipped_reader = SkippedRecordReader(kafka_client_options(settings))
        self._handlers: dict[str, Callable[[Fetched], Awaitable[None]]] = {
            topic: self._handle_input for topic in self.kinds
        } | {settings.rekey_topic: self._handle_rekeyed}
        app.agent(self.inputs, name="ingest")(self._consume_inputs)
        app.agent(self.rekeyed, name="ingest-rekeyed")(self._consume_rekeyed)
        app.task(self._tick_at_fixed_rate)
        app.task(self._serve_redis)

    # ------------------------------------------------------------------ consuming

    async def _batches(self, stream: faust.StreamT) -> AsyncIterator[Sequence[EventT]]:
        """The stream in batches. ``take_events`` acks a batch's events only when the next one
        is asked for, i.e. after the loop body, which ends with the batch's changelog flush.
        Each batch notes that input is flowing (once per batch, not per record)."""
        settings = self.settings
        async for events in stream.take_events(
            settings.input_batch_max, within=settings.input_batch_within.total_seconds()
        ):
            self._last_record = self.clock.now()
            yield events

    async def _consume_inputs(self, stream: faust.StreamT) -> None:
        async for events in self._batches(stream):
            for event in events:
                for fetched in await self._with_skipped(event):
                    await self._handle_input(fetched)
            await self._flush_writes()  # before the batch's events are acknowledged

    async def _consume_rekeyed(self, stream: faust.StreamT) -> None:
        async for events in self._batches(stream):
            for event in events:
                for fetched in await self._with_skipped(event):
                    await self._handle_rekeyed(fetched)
            await self._flush_writes()

    async def _handle_input(self, fetched: Fetched) -> None:
        await self._handle_safely(fetched.raw(), rekey_allowed=True)

    async def _handle_rekeyed(self, fetched: Fetched) -> None:
        record = self._rekeyed_source(fetched)
        if record is None:
            # not forwarded by a worker: its headers are not trusted (nor turned into a
            # metric label); it is rejected under the re-key topic's own coordinates
            own = fetched.raw()
            rejection = Rejection("validation", "re-keyed record without valid hs-source-*")
            await self._reject(own.topic, self.core.ingestor.dead_letter(own, rejection))
            return
        await self._handle_safely(record, rekey_allowed=False)

    async def _with_skipped(self, event: EventT) -> list[Fetched]:
        """``event``'s record, after any records of its partition that Faust skipped
        (:mod:`stream_app.streaming.skipped`): read from the broker, handled first."""
        message = event.message
        this = Fetched(
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            {name: _bytes(value) for name, value in (event.headers or {}).items()},
        )
        consumer = self.app.consumer
        hole = self._offsets.hole(
            message.topic,
            message.partition,
            message.offset,
            self.app.consumer_generation_id,
            lambda: consumer._committed_offset.get(message.tp),
        )
        if hole is None:
            return [this]
        skipped = await asyncio.get_running_loop().run_in_executor(
            None, self._skipped_reader.read, message.topic, message.partition, *hole
        )
        # Faust may have read past these records itself and not know they are handled now:
        # its commits would stop at the hole for good. Marked as a gap, they are committed
        # with the record after them, which is acked only after the batch's flush.
        await consumer._add_gap(message.tp, hole[0], hole[1] - 1)
        if skipped:
            log.warning(
                "%s[%d]: %d records at offsets %d..%d never reached the agent; read them "
                "from the broker",
                message.topic,
                message.partition,
                len(skipped),
                hole[0],
                hole[1] - 1,
            )
            self.metrics.skipped_records.inc(len(skipped))
        return [*skipped, this]

    def _rekeyed_source(self, fetched: Fetched) -> RawRecord | None:
        """The input coordinates a worker put in the headers; None if they are not that."""
        headers = fetched.headers
        try:
            topic = _text(headers[H_TOPIC])
            partition, offset = int(headers[H_PARTITION]), int(headers[H_OFFSET])
        except (KeyError, ValueError, UnicodeDecodeError):
            return None
        if topic not in self.kinds or partition < 0 or offset < 0:
            return None
        return RawRecord(topic, partition, offset, fetched.key, fetched.value)

    async def _handle_safely(self, record: RawRecord, *, rekey_allowed: bool) -> None:
        """A record that trips a bug in our code goes to the DLQ instead of crashing the agent:
        a crashed Faust agent leaves its event un-acked, which blocks the partition's commits."""
        try:
            await self._handle(record, rekey_allowed=rekey_allowed)
        except Exception as exc:
            log.exception(
                "unexpected error on %s[%d]@%d", record.topic, record.partition, record.offset
            )
            rejection = Rejection(
                "processing_error", f"internal error {type(exc).__name__}: {exc}"[:1000]
            )
            await self._reject(record.topic, self.core.ingestor.dead_letter(record, rejection))

    async def _handle(self, record: RawRecord, *, rekey_allowed: bool) -> None:
        kind = self.kinds[record.topic]
        validated = self.core.validate(kind, record)
        if isinstance(validated, DeadLetter):
            await self._reject(record.topic, validated)
            return
        account_id: str = validated.account_id  # type: ignore[attr-defined]
        if rekey_allowed and not self.partitioner.is_home(account_id, record.partition):
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
        result = self.core.apply(kind, record, validated)
        if result.dead_letter is not None:
            await self._reject(record.topic, result.dead_letter)
            return
        self._last_event = self.clock.now()
        self.metrics.count(record.topic, result.outcome)
        self.metrics.observe_event_lag(result.record, self.clock.now())

    async def _reject(self, topic: str, dead_letter: DeadLetter) -> None:
        self.metrics.count(topic, Outcome.INVALID, dead_letter.error_class)
        await self.dlq.send(
            key=dead_letter.key.encode() if dead_letter.key is not None else None,
            value=dead_letter.model_dump_json().encode(),
        )

    # ------------------------------------------------------------------ publishing

    async def _tick_at_fixed_rate(self) -> None:
        app, loop = self.app, asyncio.get_running_loop()
        interval = self.settings.tick_interval.total_seconds()
        async for _ in fixed_rate(interval, loop.time, app.sleep):
            if app.should_stop:
                return
            await self._timed_tick()

    async def _timed_tick(self) -> None:
        if self.clock.now() - self._last_record > TRAILING_AFTER and not self.app.rebalancing:
            await self._read_trailing()
        with self.metrics.batch_duration.time():
            await self._tick()

    async def _read_trailing(self) -> None:
        """Records at the end of a partition that Faust read and never delivered.

        A hole is found when the record after it arrives (:meth:`_with_skipped`); the last
        records of a partition have none after them until new input comes, which for a quiet
        partition can be hours, and their offsets are never committed meanwhile. The crash
        test saw the last two records of a partition dropped at a restart, and its lag never
        drained. So once input has been quiet for ``TRAILING_AFTER`` (nothing can still be on
        its way to the agent), offsets Faust has read past that the agent never saw are read
        from the broker, handled, flushed, and then acknowledged, so Faust commits them.
        """
        consumer = self.app.consumer
        generation = self.app.consumer_generation_id
        for tp in consumer.assignment():
            handle = self._handlers.get(tp.topic)
            read, highwater = consumer._read_offset.get(tp), consumer.highwater(tp)
            if handle is None or read is None or highwater is None:
                continue
            start = self._offsets.expected(
                tp.topic, tp.partition, generation, lambda tp=tp: consumer._committed_offset.get(tp)
            )
            end = min(read + 1, highwater)
            if start is None or end <= start:
                continue
            try:
                records = await asyncio.get_running_loop().run_in_executor(
                    None, self._skipped_reader.read, tp.topic, tp.partition, start, end
                )
            except (TimeoutError, KafkaError) as exc:  # uncommitted: tried again next tick
                log.warning("%s[%d]: could not read back %d..%d: %s", *tp, start, end - 1, exc)
                continue
            self._offsets.advance(tp.topic, tp.partition, end)
            log.warning(
                "%s[%d]: %d records at offsets %d..%d were read by Faust and never delivered; "
                "read them from the broker",
                tp.topic,
                tp.partition,
                len(records),
                start,
                end - 1,
            )
            self.metrics.skipped_records.inc(len(records))
            for fetched in records:
                await handle(fetched)
            await self._flush_writes()
            acked, index = consumer._acked[tp], consumer._acked_index[tp]
            for fetched in records:  # as Consumer.ack() records an acknowledged offset
                if fetched.offset not in index:
                    index.add(fetched.offset)
                    acked.append(fetched.offset)

    async def _tick(self) -> None:
        if self.app.rebalancing:
            return  # tables are recovering: alert states not yet read back could fire twice
        idle_after = self.settings.idle_advance_after
        now = self.clock.now()
        if idle_after is not None and now - self._last_event > idle_after:
            # No input for a while: let event time follow the wall clock so silent accounts age.
            self.core.advance_watermark((now - self.settings.grace).timestamp())
        # Under the lock from the evaluation on: the tick changes states in place (last
        # score, days judged), and an agent's flush running meanwhile would send them ahead
        # of the alerts and scores they stand for.
        async with self._write_lock:
            published = self.core.tick()
            await self._flush_locked(published)

    async def _flush_writes(self) -> None:
        async with self._write_lock:
            await self._flush_locked(Published([], []))

    async def _flush_locked(self, published: Published) -> None:
        """Alerts and scores delivered first, then the states: a state that says a day was
        judged, an alert raised or a score published never reaches the changelog without
        them, so a crash in between re-evaluates the account on restart. The alert table,
        rebuilt from the delivered alerts, makes that a no-op instead of a lost or a second
        alert; a score is published again (the latest one per account is what counts), where
        a state sent first made the restarted worker take it for published and never send
        it (the fault suite saw a published score stay ``at_risk`` whose state said healthy).
        """
        await self.alert_store.flush()
        for alert in published.alerts:  # published by the alert table's write
            self.metrics.alert_published(alert.rule, alert.severity, alert.status)
        documents = [score.model_dump_json().encode() for score in published.scores]
        deliveries = await send_in_batches(
            self.app,
            self.health_scores,
            (
                (None, score.account_id.encode(), document)
                for score, document in zip(published.scores, documents, strict=True)
            ),
        )
        for delivery in deliveries:
            await delivery
        for score, document in zip(published.scores, documents, strict=True):
            self.score_store.enqueue(score, document)  # the very record the topic got
            self.metrics.scores.labels(score.band).inc()
        await self.state_store.flush(self.core.lane_clocks)

    async def _on_recover(self) -> None:
        self.core.recover(self.state_store.lane_clocks())

    async def _serve_redis(self) -> None:
        await self.score_store.run(self.settings.redis_flush_interval.total_seconds())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
