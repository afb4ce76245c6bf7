"""The runtime of a service that consumes or announces events: `service_defaults` plus its
Kafka consumer, outbox relay and dead-letter publisher (FastStream, AsyncAPI at /asyncapi), and
readiness that waits for the broker.

A module of its own so that a service without events (the gateway) never loads FastStream,
aiokafka or the consumer runtime (about 10 MiB of every such process).
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import APIRouter, FastAPI
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from faststream.kafka.subscriber.specification import KafkaSubscriberSpecification
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.specification.asyncapi.utils import resolve_payloads
from faststream.specification.schema import SubscriberSpec
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import epoch_ms
from shared.db.deferral import DeferredEvent
from shared.db.uow import UnitOfWorkFactory, UowT
from shared.envelope import CloudEvent, EventSigner
from shared.events import spec_for_model
from shared.events.spec import EventSpec
from shared.messaging.clients import RawPublisher, faststream_security
from shared.messaging.consumer import EventConsumer, RetryPolicy
from shared.messaging.dead_letter import ConsumedRecord, DeadLetters, dead_letter_topic
from shared.messaging.relay import OutboxRelay
from shared.metrics import CONSUMER_LAG
from shared.registry import AllianceRegistry
from shared.service import ServiceRuntime, service_foundations
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# How long a poll that finds no records blocks before the consume loop goes round again.
IDLE_POLL_MS = 500
# How long fetched records may wait unread before aiokafka fetches the consumer's other
# partitions without theirs (its `prefetch_backoff`, 100 ms by default). The broker holds
# such a fetch up to its wait (500 ms) when those partitions are idle, and the partitions
# read meanwhile are fetched again only once it returns. A poll here takes every record
# held, so records wait unread only while a poll is applied: a poll applied in more than
# 100 ms (a backlog) stalled its partitions for the rest of that wait, and the backlog grew.
UNREAD_BACKOFF_S = 60.0


def fetch_after_each_poll(consumer: AIOKafkaConsumer) -> None:
    """Makes `consumer` fetch again only once its held records are read (or have waited
    UNREAD_BACKOFF_S), all its partitions in one fetch. aiokafka has no public option for
    it, and FastStream passes none."""
    fetcher = consumer._fetcher
    assert fetcher is not None, "the consumer is started"
    fetcher._prefetch_backoff = UNREAD_BACKOFF_S


class EventRuntime(ServiceRuntime[UowT]):
    """A service that consumes or announces events: the defaults plus its Kafka consumer,
    outbox relay and dead-letter publisher."""

    def __init__(
        self,
        settings: ServiceSettings,
        registry: AllianceRegistry,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        units_of_work: UnitOfWorkFactory[UowT],
        kafka: KafkaRouter,
        relay: OutboxRelay,
        consumer: EventConsumer[UowT],
        dead_letter_publisher: RawPublisher,
    ) -> None:
        super().__init__(settings, registry, engine, sessions, units_of_work)
        self.kafka = kafka
        self.relay = relay
        self.consumer = consumer
        self.dead_letter_publisher = dead_letter_publisher
        self._tasks: list[asyncio.Task[None]] = []
        # FastStream's subscriber (its aiokafka consumer gives lag and assignment); None when
        # the service consumes nothing.
        self._subscriber: Any = None
        self._expiry: asyncio.Task[None] | None = None

    def declare_emits(self, models: Sequence[type[BaseModel]]) -> None:
        """Declares the events this service publishes, for the AsyncAPI document."""
        if not self.relay.can_sign:
            raise RuntimeError(
                f"{self.settings.service_name} announces events but has no event-signing key "
                f"at {self.settings.resolved_signing_key_file} (set SIGNING_KEY_FILE)"
            )
        by_topic: dict[str, list[type[BaseModel]]] = {}
        for model in models:
            by_topic.setdefault(spec_for_model(model).topic, []).append(model)
        for topic, topic_models in by_topic.items():
            names = ", ".join(spec_for_model(m).ce_type for m in topic_models)
            self.kafka.publisher(
                topic,
                title=f"{self.settings.service_name}:{topic}:publish",
                description=f"CloudEvents (binary mode, signed): {names}",
                schema=topic_models[0] if len(topic_models) == 1 else _union(topic_models),
            )

    def mount(self) -> list[APIRouter]:
        """Subscribes the consumer; the background work starts once FastStream has started
        the broker, which happens after the app's own lifespan began (see `running`)."""
        self._subscribe()
        self.kafka.after_startup(self._started)
        self.kafka.on_broker_shutdown(self._stopping)
        _without_try_it_out(self.kafka)
        return [self.kafka]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # The relay publishes through the broker: it starts and stops with it (`mount`).
        yield

    async def _started(self, _: FastAPI) -> None:
        await self.start_background()
        log.info(
            "%s ready on %s (Kafka %s)",
            self.settings.service_name,
            self.settings.resolved_public_base_url,
            self.settings.kafka_bootstrap_servers,
        )

    async def _stopping(self, _: FastAPI) -> None:
        await self.stop_background()

    def _subscribe(self) -> None:
        """Binds the consumer's handlers to their topics, committing offsets only after effects."""
        consumer = self.consumer
        if not consumer.topics:
            return

        self._subscriber = subscriber = self.kafka.subscriber(
            *consumer.topics,
            group_id=consumer.name,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_partition_fetch_bytes=self.settings.consumer_partition_fetch_bytes,
            batch_timeout_ms=IDLE_POLL_MS,
            # The consumer runtime reads the bytes itself: a body that is not JSON must reach
            # it (and the dead-letter topic) rather than fail inside the framework.
            decoder=_raw_body,
            parser=_parse_any_bytes,
            title=f"{consumer.name}:consume",
            description="Signed CloudEvents; refused ones go to "
            + dead_letter_topic(consumer.name),
        )
        # FastStream's factory picks the subscriber's class; only its poll changes here.
        assert isinstance(subscriber, BatchSubscriber)
        _PromptBatches.adopt(
            subscriber, self.settings.consumer_backoff_max_s, self.settings.consumer_linger_s
        )
        described = subscriber.specification
        assert isinstance(described, KafkaSubscriberSpecification)
        # FastStream types the attribute by its generic configs, not the Kafka ones it holds.
        subscriber.specification = _ConsumedEvents(described, consumer.events)  # type: ignore[assignment]

        context = self.kafka.broker.context

        @subscriber
        async def on_records() -> None:
            # The poll is taken from FastStream's context rather than asked for as a
            # `KafkaMessage` parameter: FastAPI resolves that one with a sync dependency, in a
            # worker thread, on every poll.
            message: KafkaMessage = context.get_local("message")
            # Fails only when even the dead-letter topic is unreachable; the poll is then read
            # again (see _PromptBatches.consume_one), and the records already applied come
            # back as duplicates the inbox drops.
            await consumer.consume_in_order(in_time_order(message.raw_message))
            # The offsets move only once every record of the batch is applied.
            await message.ack()

    async def start_background(self) -> None:
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        await super().start_background()
        if self.consumer.topics and await self._keeps_deferred_events():
            self._expiry = asyncio.create_task(self._expire_deferred(), name="deferral-expiry")

    async def stop_background(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        await super().stop_background()
        self.relay.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._tasks.clear()
        await self.dead_letter_publisher.stop()

    def consumer_state(self) -> tuple[bool, int]:
        """Whether the Kafka consumer runs (True when there is none to run), and how many
        partitions it is assigned."""
        if self._subscriber is None:
            return True, 0
        client = self._subscriber.consumer
        if client is None or not self._subscriber.running:
            return False, 0
        return True, len(client.assignment())

    async def measure_consumer_lag(self) -> None:
        client = None if self._subscriber is None else self._subscriber.consumer
        if client is None:
            return
        for tp in client.assignment():
            highwater = client.highwater(tp)
            if highwater is None:  # nothing fetched from this partition yet
                continue
            lag = max(0, highwater - await client.position(tp))
            CONSUMER_LAG.labels(self.consumer.name, tp.topic, str(tp.partition)).set(lag)

    async def _keeps_deferred_events(self) -> bool:
        async with self.engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: inspect(sync).has_table(DeferredEvent.__tablename__)
            )

    async def _expire_deferred(self) -> None:
        waited_s = self.settings.deferral_max_wait_s
        while True:
            await asyncio.sleep(min(60.0, waited_s / 4))
            try:
                if expired := await self.consumer.expire_deferred(waited_s):
                    log.warning("%d deferred event(s) waited too long: dead-lettered", expired)
            except Exception as exc:
                # The next round tries again; the events keep waiting meanwhile.
                log.warning("cannot expire deferred events: %s", type(exc).__name__)

    async def _reach(self) -> dict[str, str]:
        found = await super()._reach()
        found["broker"] = "ok" if await self.kafka.broker.ping(timeout=2.0) else "unreachable"
        return found

    async def readiness(self) -> dict[str, str]:
        checks = {**await self.dependencies(), "consumer": "ok"}
        running, partitions = self.consumer_state()
        if not running:
            checks["consumer"] = "not running"
        # Informative only: a group with more members than partitions leaves some idle.
        checks["assigned_partitions"] = str(partitions)
        return checks

    async def _measure(self, reached: dict[str, str]) -> None:
        # During an outage each gauge that can still be read is: the backlog grows while the
        # broker is away, and that is what an operator wants to see.
        if reached["broker"] == "ok":
            await self.measure_consumer_lag()
        if reached["database"] == "ok":
            await self.relay.measure_backlog()


def in_time_order(records: Sequence[ConsumerRecord[Any, Any]]) -> list[ConsumedRecord]:
    """A poll's records as one run: each partition's in its own order, the partitions merged
    by record timestamp (as Kafka Streams picks its next record). Facts then come before the
    events that depend on them when both are in one poll (an enrolment on one topic, its
    result a second later on another), in one transaction that sees the fact: applied side
    by side, in one transaction per partition, the result did not see it and waited (at
    capacity, a third of assessment's statements went to deferring and resuming)."""
    by_partition: dict[tuple[str, int], list[ConsumerRecord[Any, Any]]] = {}
    for raw in records:
        by_partition.setdefault((raw.topic, raw.partition), []).append(raw)
    return [
        ConsumedRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value, tuple(raw.headers))
        for raw in heapq.merge(*by_partition.values(), key=lambda raw: raw.timestamp)
    ]


class _PromptBatches(BatchSubscriber):
    """FastStream's batch subscriber, without its pause after an empty poll and without a
    cap on the records a poll takes, and, on a busy stream, taking what comes a moment after
    a poll's records into it (see get_msg); its consumer fetches after each poll
    (fetch_after_each_poll). FastStream
    sleeps `batch_timeout_ms` again after a poll that found nothing, so a record arriving
    then waited up to that long at every consumer it passed. Without the pause, an idle
    consumer waits in the poll itself, which returns as soon as records come: at 3
    learners a second, a result's credential came 38 ms (p50) after the result instead of
    66, and the processes spent 198 ms of CPU per journey instead of 255 (`make bench`)."""

    __slots__ = ()
    # How long a poll that failed waits to be read again: a failure that stays stalls its
    # partitions at a pace the logs can follow, and skips nothing.
    reread_after_s: float
    # How long a poll that found records waiting waits for more (settings.consumer_linger_s).
    linger_s: float

    @classmethod
    def adopt(cls, subscriber: BatchSubscriber, reread_after_s: float, linger_s: float) -> None:
        subscriber.__class__ = cls
        assert isinstance(subscriber, cls)
        subscriber.reread_after_s = reread_after_s
        subscriber.linger_s = linger_s

    def _post_start(self) -> None:
        super()._post_start()
        assert self.consumer is not None
        fetch_after_each_poll(self.consumer)

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        # Everything the consumer holds (a fetch's worth of each partition, see
        # consumer_partition_fetch_bytes), so that in_time_order sees every partition: with a
        # cap, aiokafka fills a poll from one partition's buffer before the next, and a
        # lagging results partition filled whole polls while the enrolments they needed
        # waited behind them (678 deferrals in a run at 40 learners a second).
        if self.linger_s and (batches := await consumer.getmany(timeout_ms=0)):
            # Records came while the last poll was applied: a busy stream, where what
            # arrives in the next moment joins this poll's transaction instead of starting
            # its own (with the relay's linger, about 2 ms of CPU a journey less at 40
            # learners a second, `make bench`). A quiet stream's record is applied at once.
            await asyncio.sleep(self.linger_s)
            for partition, records in (await consumer.getmany(timeout_ms=0)).items():
                batches.setdefault(partition, []).extend(records)
        else:
            batches = await consumer.getmany(timeout_ms=self.batch_timeout_ms)
        return tuple(itertools.chain.from_iterable(batches.values()))

    async def consume_one(self, msg: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        """Applies a poll, and reads it again when it fails before it is acknowledged.

        Whatever failed (FastStream's parser or middleware, or the handler when even the
        dead-letter topic is unreachable), FastStream would log it and poll on from past the
        records, and the next acknowledged poll would commit past them: records lost. A run
        at capacity lost 42 results so, on a CPython error in the parser (`make bench`, with
        a probe calling gc.get_objects)."""
        if not self.running:
            return
        try:
            await self.process_message(msg)
        except Exception:
            log.exception("a poll of %d records was not applied; reading it again", len(msg))
            await asyncio.sleep(self.reread_after_s)
            if self.consumer is not None:
                _rewind(self.consumer, msg)


def _rewind(consumer: AIOKafkaConsumer, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
    """Seeks each partition of `records` the consumer still holds to its first of them, so
    the next poll brings them again (a partition lost to a rebalance is read again from its
    committed offset by whoever holds it now)."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        first[partition] = min(first.get(partition, record.offset), record.offset)
    held = consumer.assignment()
    for partition, offset in first.items():
        if partition in held:
            consumer.seek(partition, offset)


class _ConsumedEvents(KafkaSubscriberSpecification):
    """The consumer's AsyncAPI description, each topic's messages typed by the contracts of
    the events handled from it. FastStream types a message by the handler's parameters, and
    the handler takes the raw batch (the consumer runtime reads and checks each record
    itself), so FastStream alone would type every consumed message as `null`."""

    __slots__ = ("_events",)

    def __init__(
        self, described: KafkaSubscriberSpecification, events: Sequence[EventSpec[Any]]
    ) -> None:
        super().__init__(described._outer_config, described.config, described.calls)
        self._events = events

    def get_schema(self) -> dict[str, SubscriberSpec]:
        channels = super().get_schema()
        for channel in channels.values():
            channel.operation.message.payload = resolve_payloads(
                [
                    (spec.model.model_json_schema(), spec.model.__name__)
                    for spec in self._events
                    if spec.topic == channel.address
                ]
            )
        return channels


async def _raw_body(message: StreamMessage[Any]) -> Any:
    return message.body


async def _parse_any_bytes(
    records: tuple[ConsumerRecord[Any, Any], ...],
    parse_batch: Callable[[tuple[ConsumerRecord[Any, Any], ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's batch parser decodes every header value as UTF-8: one record with other
    bytes makes it drop the whole fetched batch before any handler runs, and the next
    acknowledged batch commits past the dropped records. The consumer runtime reads the raw
    records itself, so the framework is given them without headers and cannot fail on them."""
    message = await parse_batch(tuple(dataclasses.replace(r, headers=[]) for r in records))
    message.raw_message = records
    return message


def _union(models: Sequence[type[BaseModel]]) -> Any:
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    return union


def build_runtime(settings: ServiceSettings, unit_of_work: type[UowT]) -> EventRuntime[UowT]:
    """The infrastructure of a service that consumes or announces events; `unit_of_work` is
    its kind, exposing its repositories."""
    registry, engine, sessions = service_foundations(settings)
    kafka = KafkaRouter(
        # FastStream takes one string as one address: a cluster's list is split here.
        settings.kafka_bootstrap_servers.split(","),
        # The alliance's topics are created by its operators (infra.topics); a
        # service's principal may not create them, and would warn at every start trying.
        allow_auto_create_topics=False,
        acks="all",
        enable_idempotence=True,
        client_id=settings.service_name,
        security=faststream_security(),
        # Through the service's structured logger; one line per message only at DEBUG.
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
        description=f"Events of the {settings.service_name} service",
        include_in_schema=True,
    )
    key_file = settings.resolved_signing_key_file
    # Only a service that announces events needs a key; declare_emits insists on one.
    signer = (
        EventSigner.from_pem_file(settings.source, settings.resolved_signing_key_id, key_file)
        if key_file.exists()
        else None
    )

    async def send(topic: str, event: CloudEvent, headers: dict[str, str]) -> asyncio.Future[Any]:
        # The record's timestamp is the event's time, not the relay's: consumers order a
        # batch by it (see in_time_order), and a relay that lagged must not reorder causes.
        return await kafka.broker.publish(
            event.data,
            topic,
            key=event.key.encode(),
            headers=headers,
            timestamp_ms=epoch_ms(event.time),
            no_confirm=True,
        )

    relay = OutboxRelay(
        engine,
        signer,
        send,
        settings.outbox_batch_size,
        settings.outbox_poll_interval_s,
        linger_s=settings.outbox_linger_s,
    )
    units_of_work = UnitOfWorkFactory(unit_of_work, sessions, settings.source, relay.wake)

    dead_letter_publisher = RawPublisher(
        settings.kafka_bootstrap_servers, f"{settings.service_name}-dead-letters"
    )
    consumer = EventConsumer(
        settings.resolved_consumer_name,
        registry,
        units_of_work,
        DeadLetters(settings.resolved_consumer_name, dead_letter_publisher),
        RetryPolicy(
            settings.consumer_max_attempts,
            settings.consumer_backoff_initial_s,
            settings.consumer_backoff_max_s,
        ),
    )
    return EventRuntime(
        settings,
        registry,
        engine,
        sessions,
        units_of_work,
        kafka,
        relay,
        consumer,
        dead_letter_publisher,
    )


def _without_try_it_out(kafka: KafkaRouter) -> None:
    """Drops FastStream's AsyncAPI "try it out" route (`POST /asyncapi/try`): unauthenticated,
    it would publish any payload to any topic. The documents themselves stay readable."""
    docs = kafka.docs_router
    if docs is not None:
        docs.routes[:] = [
            route for route in docs.routes if not getattr(route, "path", "").endswith("/try")
        ]
