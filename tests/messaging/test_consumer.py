"""The consumer runtime's decisions: retry with a bounded back-off, then park; refuse early."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.uow import UnitOfWork
from shared.envelope import CloudEvent
from shared.errors import Conflict
from shared.events import OfferingPublished, OfferingWithdrawn
from shared.messaging.consumer import (
    EventContext,
    Outcome,
    RetryPolicy,
)
from shared.messaging.dead_letter import ConsumedRecord
from shared.partner_system import demo_signer, signed_event
from shared.transient import TransientError
from tests.support.builders import offering_published
from tests.support.consumers import consumer_for

_OFFSETS = itertools.count(1000)


def _record(envelope: CloudEvent, offset: int | None = None) -> ConsumedRecord:
    """The record Kafka would deliver; a new offset each unless one is given."""
    headers = tuple((k, v.encode()) for k, v in envelope.headers().items())
    return ConsumedRecord(
        "alliance.offerings",
        0,
        next(_OFFSETS) if offset is None else offset,
        envelope.key.encode(),
        envelope.data,
        headers,
    )


def _reason(parked: list[tuple[str, bytes | None, list[tuple[str, bytes]]]]) -> str:
    return dict(parked[-1][2])["dlq_reason"].decode()


async def test_transient_failures_are_retried_with_growing_back_off(
    sqlite_engine: AsyncEngine,
) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    consumer, parked = consumer_for(sqlite_engine, "c", RetryPolicy(5, 0.2, 1.0), sleep=sleep)
    attempts = 0

    @consumer.handles(OfferingPublished)
    async def flaky(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise OperationalError("SELECT 1", {}, ConnectionError("database restarting"))

    outcome = await consumer.consume(
        _record(signed_event(demo_signer("nordhavn"), offering_published("nordhavn")))
    )
    assert outcome is Outcome.APPLIED
    assert attempts == 3
    assert delays == [0.2, 0.4]
    assert parked == []


async def test_retries_are_bounded_then_the_event_is_parked(sqlite_engine: AsyncEngine) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    consumer, parked = consumer_for(sqlite_engine, "c", RetryPolicy(4, 0.5, 1.0), sleep=sleep)

    @consumer.handles(OfferingPublished)
    async def down(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        raise TransientError("the awarding partner's registry does not answer")

    outcome = await consumer.consume(
        _record(signed_event(demo_signer("nordhavn"), offering_published("nordhavn")))
    )
    assert outcome is Outcome.DEAD_LETTERED
    assert delays == [0.5, 1.0, 1.0]  # capped, and no sleep after the last attempt
    assert _reason(parked) == "retries-exhausted"


async def test_a_domain_refusal_and_a_bug_are_parked_at_once(sqlite_engine: AsyncEngine) -> None:
    consumer, parked = consumer_for(sqlite_engine, "c")

    @consumer.handles(OfferingPublished)
    async def refuse(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        raise Conflict("the offering belongs to another partner")

    @consumer.handles(OfferingWithdrawn)
    async def bug(event: OfferingWithdrawn, ctx: EventContext, uow: UnitOfWork) -> None:
        raise KeyError("a bug")

    signer = demo_signer("nordhavn")
    published = offering_published("nordhavn")
    assert await consumer.consume(_record(signed_event(signer, published))) is Outcome.DEAD_LETTERED
    assert _reason(parked) == "rejected"
    assert dict(parked[-1][2])["dlq_detail"] == b"the offering belongs to another partner"
    withdrawn = OfferingWithdrawn(
        offering_id=published.offering_id,
        partner_id="nordhavn",
        version=2,
        reason="cancelled",
        withdrawn_at=published.published_at,
    )
    assert await consumer.consume(_record(signed_event(signer, withdrawn))) is Outcome.DEAD_LETTERED
    assert _reason(parked) == "handler-failed"


async def test_events_no_handler_wants_are_ignored_without_checks(
    sqlite_engine: AsyncEngine,
) -> None:
    consumer, parked = consumer_for(sqlite_engine, "c")
    envelope = signed_event(demo_signer("nordhavn"), offering_published("nordhavn"))
    unsigned = dataclasses.replace(envelope, signature=None)
    assert await consumer.consume(_record(unsigned)) is Outcome.IGNORED
    assert parked == []


async def test_the_key_must_be_the_ordered_entity(sqlite_engine: AsyncEngine) -> None:
    consumer, parked = consumer_for(sqlite_engine, "c")

    @consumer.handles(OfferingPublished)
    async def apply(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        return None

    signer = demo_signer("nordhavn")
    envelope = signed_event(signer, offering_published("nordhavn"))
    rekeyed = signer.sign(dataclasses.replace(envelope, key="some-other-key"))
    assert await consumer.consume(_record(rekeyed)) is Outcome.DEAD_LETTERED
    assert _reason(parked) == "contract"


async def test_a_partition_batch_is_applied_together_and_a_refusal_only_parks_its_own_record(
    sqlite_engine: AsyncEngine,
) -> None:
    consumer, parked = consumer_for(sqlite_engine, "c")
    applied: list[str] = []

    @consumer.handles(OfferingPublished)
    async def publish(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        if event.title["en"] == "refused":
            raise Conflict("not this one")
        applied.append(event.offering_id)

    signer = demo_signer("nordhavn")
    events = [offering_published("nordhavn") for _ in range(4)]
    records = [_record(signed_event(signer, e), offset=n) for n, e in enumerate(events)]
    # The same record fetched twice in one batch (a rewind) is applied once.
    together = await consumer.consume_in_order([*records[:3], records[2]])
    assert together == [Outcome.APPLIED] * 3 + [Outcome.DUPLICATE]
    assert applied == [e.offering_id for e in events[:3]]

    refused = offering_published("nordhavn", title={"en": "refused"})
    batch = [records[3], _record(signed_event(signer, refused), offset=9), records[0]]
    assert await consumer.consume_in_order(batch) == [
        Outcome.APPLIED,
        Outcome.DEAD_LETTERED,
        Outcome.DUPLICATE,
    ]
    # The refusal rolled the batch back; its records were then applied one at a time.
    assert applied[3:] == [events[3].offering_id] * 2
    assert await consumer.consume(records[3]) is Outcome.DUPLICATE
    assert _reason(parked) == "rejected"
    assert len(parked) == 1


async def test_a_run_s_new_events_are_read_ahead_in_its_unit_of_work_before_any_is_applied(
    sqlite_engine: AsyncEngine,
) -> None:
    consumer, _ = consumer_for(sqlite_engine, "c")
    seen: list[tuple[str, str, UnitOfWork]] = []

    async def read_ahead(events: Sequence[BaseModel], uow: UnitOfWork) -> None:
        seen.extend(
            ("ahead", e.offering_id, uow) for e in events if isinstance(e, OfferingPublished)
        )

    @consumer.handles(OfferingPublished)
    async def publish(event: OfferingPublished, ctx: EventContext, uow: UnitOfWork) -> None:
        seen.append(("applied", event.offering_id, uow))

    consumer.reads_ahead(read_ahead)
    signer = demo_signer("nordhavn")
    events = [offering_published("nordhavn") for _ in range(3)]
    records = [_record(signed_event(signer, e)) for e in events]
    assert await consumer.consume(records[0]) is Outcome.APPLIED
    seen.clear()
    # The first was applied before: a duplicate is neither read ahead nor applied again.
    outcomes = await consumer.consume_in_order(records)
    assert outcomes == [Outcome.DUPLICATE, Outcome.APPLIED, Outcome.APPLIED]
    ids = [e.offering_id for e in events[1:]]
    assert [(step, offering_id) for step, offering_id, _ in seen] == [
        ("ahead", ids[0]),
        ("ahead", ids[1]),
        ("applied", ids[0]),
        ("applied", ids[1]),
    ]
    assert len({id(uow) for _, _, uow in seen}) == 1  # one unit of work for the run
