"""Requests for places in one offering decided together (shared.db.group_commit), with
enrolment's own use case, on SQLite. The same on PostgreSQL, two processes racing:
tests/integration/test_seat_counts.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlmodel import select

from services.enrolment import application, handlers
from services.enrolment.domain import AlreadyEnrolled, Enrolment, EnrolmentStatus
from services.enrolment.unit_of_work import EnrolmentUnitOfWork
from shared.db.group_commit import GroupCommit
from shared.db.outbox import OutboxMessage
from shared.errors import LostRace
from tests.support.builders import offering_published
from tests.support.sqlite import deliver_offering, migrated_sqlite
from tests.support.statements import CountedUnits

UseCase = Callable[[EnrolmentUnitOfWork], Awaitable[Enrolment]]
Units = CountedUnits[EnrolmentUnitOfWork]


@pytest.fixture
async def units(tmp_path: Path) -> AsyncIterator[Units]:
    async with migrated_sqlite(tmp_path, "enrolment", EnrolmentUnitOfWork) as made:
        yield CountedUnits(made.kind, made.sessions, made.source, made.on_events_committed)


async def _offering(units: Units, capacity: int) -> str:
    offering = offering_published("rheinfeld", capacity=capacity)
    await deliver_offering(units, handlers.on_offering, offering)
    return offering.offering_id


def _request(learner_id: str, offering_id: str) -> UseCase:
    return lambda uow: application.request_enrolment(uow, learner_id, offering_id)


async def _held_open(
    places: GroupCommit[EnrolmentUnitOfWork], offering_id: str
) -> tuple[asyncio.Task[Enrolment], asyncio.Event]:
    """A first request whose transaction stays open until the event is set, so that the
    requests made meanwhile queue behind it."""
    release, started = asyncio.Event(), asyncio.Event()

    async def first(uow: EnrolmentUnitOfWork) -> Enrolment:
        started.set()
        await release.wait()
        return await application.request_enrolment(uow, "lrn-first-0000", offering_id)

    task = asyncio.create_task(places.run(offering_id, first))
    await started.wait()
    return task, release


async def _queued_behind(
    places: GroupCommit[EnrolmentUnitOfWork], offering_id: str, use_cases: list[UseCase]
) -> list[asyncio.Task[Enrolment]]:
    tasks = [asyncio.create_task(places.run(offering_id, use_case)) for use_case in use_cases]
    await asyncio.sleep(0)  # each has queued its request
    return tasks


async def test_requests_made_while_one_is_decided_share_the_next_transaction(
    units: Units,
) -> None:
    offering_id = await _offering(units, capacity=2)
    places = GroupCommit(units)
    opened = units.opened
    first, release = await _held_open(places, offering_id)
    learners = [f"lrn-queued-{n:04d}" for n in range(4)]
    queued = await _queued_behind(
        places, offering_id, [_request(learner, offering_id) for learner in learners]
    )
    release.set()

    decided = [await first, *await asyncio.gather(*queued)]
    # One transaction for the first request, one for the four that came meanwhile.
    assert units.opened - opened == 2
    assert [(e.status, e.position) for e in decided] == [
        (EnrolmentStatus.ACCEPTED, None),
        (EnrolmentStatus.ACCEPTED, None),
        (EnrolmentStatus.WAITLISTED, 1),
        (EnrolmentStatus.WAITLISTED, 2),
        (EnrolmentStatus.WAITLISTED, 3),
    ]
    assert [e.learner_id for e in decided[1:]] == learners
    async with units() as uow:
        held = await uow.enrolments.of_offering(offering_id)
        recorded = (await uow.session.exec(select(OutboxMessage))).all()
    assert {e.enrolment_id: e.status for e in held} == {e.enrolment_id: e.status for e in decided}
    # Requested and decided, for each of the five.
    assert len([m for m in recorded if m.aggregate_id != offering_id]) == 10


async def test_a_refusal_answers_its_own_request_and_the_others_are_committed(
    units: Units,
) -> None:
    offering_id = await _offering(units, capacity=5)
    places = GroupCommit(units)
    first, release = await _held_open(places, offering_id)
    twice, other = "lrn-twice-0000", "lrn-other-0000"
    queued = await _queued_behind(
        places, offering_id, [_request(learner, offering_id) for learner in (twice, twice, other)]
    )
    opened = units.opened
    release.set()
    await first

    answers = await asyncio.gather(*queued, return_exceptions=True)
    assert units.opened == opened + 1  # the three in one transaction
    enrolled, refused, accepted = answers
    assert isinstance(enrolled, Enrolment)
    assert isinstance(accepted, Enrolment)
    # The second request of the same learner sees the first, made in the same transaction.
    assert isinstance(refused, AlreadyEnrolled)
    assert enrolled.enrolment_id in str(refused)
    async with units() as uow:
        assert [e.learner_id for e in await uow.enrolments.of_offering(offering_id)] == [
            "lrn-first-0000",
            twice,
            other,
        ]


async def test_a_lost_race_runs_each_request_again_alone(
    units: Units,
) -> None:
    offering_id = await _offering(units, capacity=5)
    places = GroupCommit(units)
    first, release = await _held_open(places, offering_id)
    raced = asyncio.Event()

    async def losing_once(uow: EnrolmentUnitOfWork) -> Enrolment:
        if not raced.is_set():
            raced.set()
            raise LostRace("another process came first")
        return await application.request_enrolment(uow, "lrn-raced-0000", offering_id)

    queued = await _queued_behind(
        places, offering_id, [_request("lrn-before-0000", offering_id), losing_once]
    )
    release.set()
    await first

    before, after = await asyncio.gather(*queued)
    assert (before.learner_id, after.learner_id) == ("lrn-before-0000", "lrn-raced-0000")
    async with units() as uow:
        held = await uow.enrolments.of_offering(offering_id)
    # The request before the lost race was rolled back with it and made once, alone.
    assert sorted(e.learner_id for e in held) == [
        "lrn-before-0000",
        "lrn-first-0000",
        "lrn-raced-0000",
    ]


async def test_a_caller_that_goes_away_leaves_the_others_answered(
    units: Units,
) -> None:
    offering_id = await _offering(units, capacity=5)
    places = GroupCommit(units)
    first, release = await _held_open(places, offering_id)
    gone, staying = await _queued_behind(
        places,
        offering_id,
        [_request("lrn-gone-0000", offering_id), _request("lrn-staying-0000", offering_id)],
    )
    gone.cancel()
    release.set()

    # Bounded: a batch stopped by the answer nobody waits for would answer nobody else.
    assert (await asyncio.wait_for(staying, 10)).status is EnrolmentStatus.ACCEPTED
    assert (await first).status is EnrolmentStatus.ACCEPTED
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_each_request_records_its_events_in_its_own_trace(
    units: Units,
) -> None:
    offering_id = await _offering(units, capacity=5)
    places = GroupCommit(units)
    first, release = await _held_open(places, offering_id)
    traces = {f"lrn-traced-{n:04d}": 0x1000 + n for n in range(3)}

    async def traced(learner_id: str, trace_id: int) -> Enrolment:
        caller = SpanContext(trace_id, 0x99, is_remote=False, trace_flags=TraceFlags(1))
        with trace.use_span(NonRecordingSpan(caller)):
            return await places.run(offering_id, _request(learner_id, offering_id))

    made = [asyncio.create_task(traced(learner, t)) for learner, t in traces.items()]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *made)

    async with units() as uow:
        recorded = (await uow.session.exec(select(OutboxMessage))).all()
    seen: dict[str, set[str]] = {}
    for message in recorded:
        learner_id = json.loads(message.payload).get("learner_id", "")
        if learner_id in traces:
            seen.setdefault(learner_id, set()).add((message.traceparent or "").split("-")[1])
    assert seen == {learner_id: {f"{t:032x}"} for learner_id, t in traces.items()}
